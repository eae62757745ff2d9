"""Rendering an issue once per campaign into the parts every message shares.

Contract (the rest of the mailer relies on exactly this):
- `render_issue(content, settings) -> RenderedIssue` is pure and runs once per issue/campaign:
  Jinja2 fills templates/newsletter/email.mjml.j2, mjml-python compiles, premailer inlines CSS (keeping
  @media rules), and the result becomes a small per-recipient template; the plain text comes from its
  own template; the PDF edition is printed once (mailer/pdf.py).
- `Personalizer(rendered)` compiles the per-recipient templates once; `.render(personal)` fills only
  the fields of `Personal` (autoescaped) and is the only work done per recipient.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Personal:
    """The only fields that vary between recipients of one campaign."""

    email: str
    name: str = ""
    unsubscribe_url: str = ""
    preferences_url: str = ""


@dataclass(frozen=True)
class RenderedIssue:
    """Everything a campaign's messages share; stored with the campaign so every worker uses it."""

    subject: str
    preheader: str
    html_template: str  # inlined HTML, per-recipient fields as template placeholders
    text_template: str  # plain text, per-recipient fields as template placeholders
    pdf: bytes
    pdf_filename: str  # e.g. "MI-SecurityChatter-040925.pdf"
