"""The in-memory shape of one issue, shared by the parsers, the database and the renderer.

Both input formats (the firm's plain-text briefing and Markdown with front matter) parse into these
frozen dataclasses; the renderer and the PDF printer take nothing else, which keeps them pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(d: date | None) -> str:
    """`5 April 2025`, independent of the process locale (workers may run under any LANG)."""
    if d is None:
        return ""
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


@dataclass(frozen=True)
class PartnerInfo:
    """The partner who signs the issue and receives the clients' replies."""

    name: str
    email: str
    title: str = ""  # e.g. "Partner"
    firm: str = ""  # e.g. "Miranda Delphi Solutions"
    pronoun: str = "them"  # "him" / "her" / "them", as the call to action says it


@dataclass(frozen=True)
class Source:
    """Where a news item comes from: `Outlet, M/D/YY, Author: Original title`."""

    outlet: str
    date: date | None
    author: str
    title: str
    url: str | None = None


@dataclass(frozen=True)
class Item:
    headline: str
    paragraphs: tuple[str, ...]
    source: Source


@dataclass(frozen=True)
class IssueContent:
    title: str  # the issue's title, e.g. "Security Chatter — 9 April 2025"
    newsletter: str  # the newsletter's name, e.g. "Security Chatter"
    date: date
    partner: PartnerInfo
    summary: str
    items: tuple[Item, ...]
    call_to_action: str  # the sentence inviting the reader to write to the partner
    more_info_url: str | None = None
    pdf_name: str = ""  # without ".pdf", e.g. "MI-SecurityChatter-040925"
    slug: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pdf_filename(self) -> str:
        return f"{self.pdf_name}.pdf"
