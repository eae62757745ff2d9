"""The in-memory shape of one issue, shared by the parsers, the database and the renderer.

Both input formats (the firm's plain-text briefing and Markdown with front matter) parse into these
frozen dataclasses; the renderer and the PDF printer take nothing else, which keeps them pure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from mailer.filenames import file_name_problem

if TYPE_CHECKING:  # a Literal alias; inline.py loads markdown-it, which reading issues never needs
    from mailer.content.inline import Markup

# Month names, January to December, one space apart; then how a date is written in each language
# the firm writes issues in (`5 April 2025`, `5 de abril de 2025`). Here, below the editions, so
# that a title the parsers derive and the editions' chrome write a date the same way.
MONTHS: dict[str, str] = {
    "en": ("January February March April May June July August September October November December"),
    "es": (
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
    ),
    "pt": (
        "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro"
    ),
    "fr": ("janvier février mars avril mai juin juillet août septembre octobre novembre décembre"),
}
DATE_FORMATS: dict[str, str] = {
    "en": "{day} {month} {year}",
    "es": "{day} de {month} de {year}",
    "pt": "{day} de {month} de {year}",
    "fr": "{day} {month} {year}",
}


def long_date(d: date | None, lang: str | None = "en") -> str:
    """`5 April 2025` / `5 de abril de 2025`… in `lang` (English for a language without month
    names here), independent of the process locale (workers may run under any LANG)."""
    if d is None:
        return ""
    code = lang if lang in MONTHS else "en"
    month = MONTHS[code].split()[d.month - 1]
    return DATE_FORMATS[code].format(day=d.day, month=month, year=d.year)


def derived_title(newsletter: str, when: date, lang: str | None = "en") -> str:
    """The title of an issue that gives none: `Security Chatter — 9 April 2025`, its date in
    the issue's language `lang` (`Panorama — 9 de abril de 2025`)."""
    return f"{newsletter} — {long_date(when, lang)}"


def is_derived_title(title: str, newsletter: str, when: date) -> bool:
    """Whether `title` is one a parser derived (in any language): such a title follows the
    issue's language, so an older import's English one is not the editor's own wording."""
    return any(title == derived_title(newsletter, when, lang) for lang in MONTHS)


def slugify(text: str) -> str:
    """ASCII, lower-case, hyphen-separated: stable across runs and safe in URLs and file names."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def issue_slug(newsletter: str, when: date) -> str:
    """The one issue slug both formats derive when none is given: `security-chatter-2025-04-09`
    (`issue-…` for a newsletter name with nothing slug-worthy in it)."""
    return f"{slugify(newsletter) or 'issue'}-{when.isoformat()}"


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
    # How the summary, paragraphs and call to action are written: "markdown" (inline Markdown,
    # content/inline.py) or "text" (the briefing's literal text: an asterisk is an asterisk).
    markup: Markup = "text"
    # Whether the issue has a public web edition to link to (the email's "View in browser", the
    # PDF's "Online edition"). False for a campaign to a private list: nothing it was sent is in
    # the public archive, so its editions point to none. Not part of the stored issue: the
    # campaign decides it (mailer.sending) and rendering only reads it.
    web_edition: bool = True
    # The name of the list the campaign goes to, when it is not the newsletter's: the footer
    # says what the reader subscribed to ("you subscribed to Clients — Mexico"), which is the
    # list they joined, not the issue's masthead. Like `web_edition`, the campaign decides it.
    list_name: str = ""

    @property
    def pdf_filename(self) -> str:
        return f"{self.pdf_name}.pdf"


# --- limits every issue keeps, whichever format it came from -------------------------------------
#
# The database's own column sizes where it has them, and generous bounds where it stores Text: an
# issue is read by people, so a 100,000-character headline or a partner name built out of YAML
# aliases is a broken or hostile file, not content. Checked by `check_issue` after either parser.

LIMITS: dict[str, int] = {
    "title": 300,
    "newsletter": 200,
    "slug": 120,
    "summary": 20_000,
    "call_to_action": 2_000,
    "more_info_url": 2_000,
    "pdf_name": 200,
    "partner name": 200,
    "partner title": 200,
    "partner firm": 200,
    "partner email": 320,
    "headline": 500,
    "paragraph": 20_000,
    "source outlet": 200,
    "source author": 200,
    "source title": 1_000,
    "source url": 2_000,
}
MAX_ITEMS = 100
MAX_PARAGRAPHS = 50  # per item
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
URL_SCHEMES = ("https://", "http://")


def _fields(content: IssueContent) -> Iterator[tuple[str, str, str]]:
    """(limit key, where it is, value) for every text field of the issue."""
    p = content.partner
    for key, value in (
        ("title", content.title),
        ("newsletter", content.newsletter),
        ("slug", content.slug),
        ("summary", content.summary),
        ("call_to_action", content.call_to_action),
        ("more_info_url", content.more_info_url or ""),
        ("pdf_name", content.pdf_name),
        ("partner name", p.name),
        ("partner title", p.title),
        ("partner firm", p.firm),
        ("partner email", p.email),
    ):
        yield key, f"the {key.replace('_', ' ')}", value
    for number, item in enumerate(content.items, start=1):
        where = f"item {number}"
        yield "headline", f"the headline of {where}", item.headline
        for paragraph in item.paragraphs:
            yield "paragraph", f"a paragraph of {where}", paragraph
        s = item.source
        for key, value in (
            ("source outlet", s.outlet),
            ("source author", s.author),
            ("source title", s.title),
            ("source url", s.url or ""),
        ):
            yield key, f"the {key} of {where}", value


def issue_problem(content: IssueContent) -> tuple[str, str] | None:
    """What is wrong with a parsed issue (a message for IssueFormatError), or None.

    Lengths within LIMITS, at most MAX_ITEMS items, a slug of `a-z 0-9 -` (it goes into archive
    links and file names), a PDF name that is one file name (never a path), and links that are
    web addresses (no `javascript:` in a reader's mail). Also the offending text ("" when the
    problem is no one field), so a caller holding the file can name its line.
    """
    if not SLUG_PATTERN.match(content.slug):
        return (
            f"the slug {content.slug[:80]!r} may only hold lower-case letters a-z, digits and "
            "single hyphens, like security-chatter-2025-04-09",
            "",
        )
    problem = file_name_problem(content.pdf_name) if content.pdf_name else None
    if problem is not None:
        return f"the PDF name {content.pdf_name[:80]!r} must be one file name, but {problem}", ""
    if len(content.items) > MAX_ITEMS:
        return f"the issue has {len(content.items)} items; at most {MAX_ITEMS} are allowed", ""
    for number, item in enumerate(content.items, start=1):
        if len(item.paragraphs) > MAX_PARAGRAPHS:
            return (
                f"item {number} has {len(item.paragraphs)} paragraphs; at most {MAX_PARAGRAPHS}",
                item.headline,
            )
    for key, where, value in _fields(content):
        if len(value) > LIMITS[key]:
            return (
                f"{where} is {len(value):,} characters long; at most {LIMITS[key]:,} are "
                f"allowed (it begins {value[:40]!r})",
                value,
            )
        if key.endswith("url") and value and not value.lower().startswith(URL_SCHEMES):
            return (
                f"{where} must be a web address starting with https:// (found {value[:80]!r})",
                value,
            )
    return None


def check_issue(content: IssueContent) -> str | None:
    """What is wrong with a parsed issue (a message for IssueFormatError), or None."""
    problem = issue_problem(content)
    return problem[0] if problem is not None else None
