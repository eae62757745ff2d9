"""The issue as a sample reader sees it: the one sample reader and the one preview of the email.

The admin's issue page, `mailer issue preview` / `check` and `mailer demo` all show the issue to
the same made-up reader, so an editor compares like with like wherever they look. The preview
runs the editions' own guards (`render_email_parts`), so what passes here passes in a campaign.
"""

from __future__ import annotations

from dataclasses import asdict

from mailer.content.document import IssueContent
from mailer.rendering.email_edition import Personal, compile_personal_template, render_email_parts
from mailer.settings import Settings

SAMPLE_NAME = "Sample Reader"
SAMPLE_EMAIL = "reader@example.com"


def sample_personal(settings: Settings) -> Personal:
    """The sample reader, with unsubscribe and preference links that lead nowhere (`/u/preview`):
    a preview must never carry a working token."""
    url = f"{settings.public_url}/u/preview"
    return Personal(email=SAMPLE_EMAIL, name=SAMPLE_NAME, unsubscribe_url=url, preferences_url=url)


def preview_email(content: IssueContent, settings: Settings) -> tuple[str, str]:
    """(HTML, text) of the email as the sample reader gets it; RenderError as a campaign would
    raise it. No PDF (see `mailer.rendering.pdf_edition.render_pdf`)."""
    html_template, text_template, _context = render_email_parts(content, settings)
    values = asdict(sample_personal(settings))
    html = compile_personal_template("html", html_template).render(values)
    text = compile_personal_template("text", text_template).render(values)
    return html, text
