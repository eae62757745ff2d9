"""The values every edition of an issue shows (email, text, PDF, web), computed in one place so that
they agree: subject, preheader, archive and PDF URLs, the partner's first name…

Pure functions of the issue's content and the settings.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from mailer.content.document import IssueContent, long_date
from mailer.settings import Settings

_SENTENCE_END = re.compile(r"(?<![A-Z])(?<!\b[A-Z][a-z])[.!?][”\"’)]?(?=\s+[A-Z“\"‘(])")


def first_sentence(text: str, limit: int = 200) -> str:
    """The preview line inboxes show: the summary's opening sentence, cut at a word if long."""
    flat = " ".join(text.split())
    m = _SENTENCE_END.search(flat)
    sentence = flat[: m.end()] if m else flat
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:—–- ") + "…"
    return sentence


def web_url(url: str | None) -> str:
    """The URL if it is http(s), else "": a `javascript:` or `file:` link never reaches a reader."""
    if url and re.match(r"https?://[^\s/]+", url.strip(), re.I):
        return url.strip()
    return ""


def issue_slug(content: IssueContent) -> str:
    """The archive slug; falls back to `newsletter-YYYY-MM-DD` when the content carries none."""
    if content.slug:
        return content.slug
    base = re.sub(r"[^a-z0-9]+", "-", content.newsletter.lower()).strip("-") or "issue"
    return f"{base}-{content.date.isoformat()}"


def first_name(full_name: str) -> str:
    parts = full_name.split()
    return parts[0] if parts else full_name


def issue_context(content: IssueContent, settings: Settings) -> dict[str, Any]:
    """The values every edition (email, text, PDF) shows, computed in one place so they agree."""
    slug = issue_slug(content)
    firm = content.partner.firm or settings.firm_name
    date_long = long_date(content.date)
    subject = content.title or f"{content.newsletter} — {date_long}"
    mail_subject = f"{content.newsletter}, {date_long}"
    partner_first = first_name(content.partner.name)
    return {
        "content": content,
        "newsletter": content.newsletter or settings.newsletter_name,
        "firm": firm,
        "date_long": date_long,
        "subject": subject,
        "preheader": first_sentence(content.summary),
        "partner": content.partner,
        "partner_first": partner_first,
        "mailto_url": f"mailto:{content.partner.email}?subject={quote(mail_subject)}",
        "archive_url": f"{settings.public_url}/archive/{slug}",
        "pdf_url": f"{settings.public_url}/archive/{slug}.pdf",
        "pdf_filename": content.pdf_filename if content.pdf_name else f"{slug}.pdf",
        "more_info_url": web_url(content.more_info_url),
        "postal_address": settings.postal_address,
        "lang": content.extra.get("lang", "en"),
        "page_size": settings.page_size,
    }
