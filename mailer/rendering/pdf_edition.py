"""The PDF edition of an issue, printed by WeasyPrint from templates/pdf/.

Printed once per issue (by `render_issue`) and attached to every message, so it must be
self-contained: the stylesheet and fonts come from the local disk, never from the network.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from mailer.content.document import IssueContent, long_date
from mailer.rendering.context import issue_context, web_url
from mailer.rendering.environment import TEMPLATE_ROOT
from mailer.rendering.errors import RenderError
from mailer.settings import Settings

PDF_TEMPLATE = "pdf/issue.html.j2"
PDF_STYLESHEET = "pdf/print.css"

# WeasyPrint's names for the two paper sizes the firm prints on (A4: 595×842 pt, Letter: 612×792).
PAGE_SIZES = {"A4": "A4", "Letter": "letter"}


def _env(root: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["longdate"] = long_date
    env.filters["weburl"] = web_url
    return env


def render_pdf_html(
    content: IssueContent, settings: Settings, *, template_dir: Path | None = None
) -> str:
    """The print HTML (exposed so previews and tests can look at what WeasyPrint receives)."""
    root = Path(template_dir) if template_dir is not None else TEMPLATE_ROOT
    context = issue_context(content, settings)
    context["page_size"] = PAGE_SIZES.get(settings.page_size, "A4")
    try:
        return _env(root).get_template(PDF_TEMPLATE).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(
            f"template {exc.name or PDF_TEMPLATE}, line {exc.lineno}: {exc.message}"
        ) from exc
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template {PDF_TEMPLATE} not found: {exc}") from exc
    except jinja2.UndefinedError as exc:
        raise RenderError(f"template {PDF_TEMPLATE}: {exc.message}") from exc


def render_pdf(
    content: IssueContent, settings: Settings, *, template_dir: Path | None = None
) -> bytes:
    """The PDF edition as bytes: A4 unless MAILER_PAGE_SIZE=Letter, page N of M in the footer."""
    # WeasyPrint takes over a second to import: loaded when a PDF is printed, not with the CLI.
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    root = Path(template_dir) if template_dir is not None else TEMPLATE_ROOT
    html = render_pdf_html(content, settings, template_dir=root)
    stylesheet = root / PDF_STYLESHEET
    if not stylesheet.is_file():
        raise RenderError(f"the PDF stylesheet {stylesheet} is missing")
    page = CSS(string=f"@page {{ size: {PAGE_SIZES.get(settings.page_size, 'A4')}; }}")
    document = HTML(
        string=html,
        base_url=str((root / "pdf").resolve()) + "/",
        # local files only: the print never reaches the network
        url_fetcher=URLFetcher(allowed_protocols=["file", "data"]),
    )
    pdf = document.write_pdf(stylesheets=[CSS(filename=str(stylesheet)), page])
    if not pdf:
        raise RenderError("WeasyPrint produced an empty PDF")
    return bytes(pdf)
