# The mailer's one image: web, worker, beat and inbound are the same image with another command.
FROM python:3.11-slim-bookworm

# WeasyPrint's system libraries (Pango, HarfBuzz subsetting). No fonts: the PDF edition is set in
# the fonts shipped with the package (templates/fonts), the same on every host.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 mailer
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mailer ./mailer
COPY subscribers ./subscribers
COPY templates ./templates
RUN pip install --no-cache-dir . && rm -rf /app/mailer /app/subscribers /app/templates

USER mailer
WORKDIR /home/mailer
EXPOSE 8000 2525
CMD ["mailer", "web", "--host", "0.0.0.0", "--port", "8000"]
