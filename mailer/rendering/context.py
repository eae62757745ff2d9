"""The values every edition of an issue shows (email, text, PDF, web), computed in one place so that
they agree: subject, preheader, archive and PDF URLs, the partner's first name, the brand, the
issue's language…

Pure functions of the issue's content and the settings.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from mailer.brand import brand_of
from mailer.content.bylines import AUTHORS
from mailer.content.document import IssueContent, is_derived_title, issue_slug
from mailer.content.inline import plain_text
from mailer.content.language import detect_language, written_in
from mailer.rendering.chrome import chrome_for, long_date_in
from mailer.settings import Settings

_SENTENCE_END = re.compile(r"(?<![A-Z])(?<!\b[A-Z][a-z])[.!?][”\"’)]?(?=\s+[A-Z“\"‘(¿¡])")


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


def first_name(full_name: str) -> str:
    parts = full_name.split()
    return parts[0] if parts else full_name


def byline_names(content: IssueContent) -> list[str]:
    """Every author a briefing's byline names, in its order (the partner among them), else the
    partner alone."""
    authors = [name for name in content.extra.get(AUTHORS, "").splitlines() if name.strip()]
    return authors or [content.partner.name]


def issue_language(content: IssueContent) -> str:
    """The issue's language: as the issue says (`lang` in its front matter), else recognised
    from its text, else English."""
    texts = [content.summary, *(p for item in content.items for p in item.paragraphs)]
    return written_in(content.extra.get("lang"), texts)


def language_of(text: str, issue_lang: str) -> str:
    """A `lang` value for a passage (a cited title) whose language differs from the issue's,
    else "" (it inherits the issue's)."""
    lang = detect_language(text)
    return lang if lang and lang != issue_lang else ""


READING_WORDS = 60  # a screen paragraph longer than this many words is split at a sentence


def reading_breaks(flat: str, words: int = READING_WORDS) -> list[int]:
    """Where a long paragraph (`flat`: whitespace already single spaces) is cut for a screen:
    offsets between sentences, in runs of about `words` words, never leaving a short last run."""
    if len(flat.split()) <= words * 1.3:
        return []
    ends = [m.end() for m in _SENTENCE_END.finditer(flat)]
    bounds = list(zip([0, *ends], [*ends, len(flat)], strict=True))
    runs: list[list[tuple[int, int]]] = [[]]
    count = 0
    for start, end in bounds:
        n = len(flat[start:end].split())
        if runs[-1] and count + n / 2 > words:
            runs.append([])
            count = 0
        runs[-1].append((start, end))
        count += n
    if len(runs) > 1 and sum(len(flat[a:b].split()) for a, b in runs[-1]) < words / 3:
        runs[-2].extend(runs.pop())
    return [run[0][0] for run in runs[1:]]


def reading_paragraphs(text: str, words: int = READING_WORDS) -> list[str]:
    """A long paragraph as paragraphs a reader can scan on a screen: split between sentences into
    runs of about `words` words (`reading_breaks`). The words are unchanged."""
    flat = " ".join(text.split())
    cuts = [0, *reading_breaks(flat, words), len(flat)]
    return [flat[a:b].strip() for a, b in zip(cuts, cuts[1:], strict=False) if flat[a:b].strip()]


def issue_subject(content: IssueContent, date_long: str) -> str:
    """The issue's title as readers see it (subject line, page titles). A title the parser
    derived (`Newsletter — 9 April 2025`, the plain-text briefing has no title line) is derived
    again with the date in the issue's language; a title the editor wrote is kept as written."""
    if not content.title or is_derived_title(content.title, content.newsletter, content.date):
        return f"{content.newsletter} — {date_long}"
    return content.title


def issue_context(content: IssueContent, settings: Settings) -> dict[str, Any]:
    """The values every edition (email, text, PDF) shows, computed in one place so they agree."""
    slug = content.slug or issue_slug(content.newsletter, content.date)
    firm = content.partner.firm or settings.firm_name
    lang = issue_language(content)
    date_long = long_date_in(content.date, lang)
    subject = issue_subject(content, date_long)
    mail_subject = f"{content.newsletter}, {date_long}"
    partner_first = first_name(content.partner.name)
    brand = brand_of(settings)
    return {
        "content": content,
        "brand": brand,
        "palette": brand.palette,
        "logo": brand.logo,
        "logo_url": brand.logo.url(settings.public_url) if brand.logo else "",
        # The colophon names the firm once: not again when the address already does (any case).
        "address_names_firm": firm.casefold() in settings.postal_address.casefold(),
        "newsletter": content.newsletter or settings.newsletter_name,
        # What the reader subscribed to (the footer): the campaign's list, or the newsletter.
        "subscribed_to": content.list_name or content.newsletter or settings.newsletter_name,
        "firm": firm,
        "date_long": date_long,
        "subject": subject,
        "preheader": first_sentence(plain_text(content.summary, content.markup)),
        "partner": content.partner,
        # Everyone the byline credits: the partner, then any co-authors (`Ana Ruiz & Tom Lee`).
        "byline_names": " & ".join(byline_names(content)),
        "partner_first": partner_first,
        "mailto_url": f"mailto:{content.partner.email}?subject={quote(mail_subject)}",
        "mail_subject_q": quote(mail_subject),
        # Without a web edition (a private list's campaign) no edition links to the archive:
        # the templates leave out "View in browser" and "Online edition" and say the PDF is
        # attached instead of linking to its public copy.
        "web_edition": content.web_edition,
        "archive_url": f"{settings.public_url}/archive/{slug}" if content.web_edition else "",
        "pdf_url": f"{settings.public_url}/archive/{slug}.pdf" if content.web_edition else "",
        "pdf_filename": content.pdf_filename if content.pdf_name else f"{slug}.pdf",
        "more_info_url": web_url(content.more_info_url),
        "postal_address": settings.postal_address,
        "lang": lang,
        # The editions' fixed wording in the issue's language (rendering/chrome.py).
        "words": chrome_for(lang),
        "page_size": settings.page_size,
    }
