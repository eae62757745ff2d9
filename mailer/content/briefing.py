"""Parser of the firm's plain-text briefing (the format of mailer/samples/security-chatter-*.txt).

The format has no markup: one line per block (byline, summary, headline, paragraph, source, call to
action, link, PDF name), optionally separated by blank lines. So the parser is a line-classifying
state machine rather than a grammar: each line is recognised by its shape (a source line is
`Outlet, M/D/YY, Author: Original title`), and the state says what may come next. That keeps every
error tied to one physical line and able to say what was expected there.

Headline vs. paragraph: a headline is the first line after the summary or after a source line; every
line up to the next source line is a paragraph of that item. A file that lost a source line would
silently merge two items, so a *short* line (a would-be headline) in the middle of an item's
paragraphs that is not directly followed by a source line is refused as "expected a source line".

The issue's date comes from the PDF name (`MI-SecurityChatter-040925` → 2025-04-09, MMDDYY) because
it is part of what the editor wrote; the file name (`…-2025-04-09.txt`) is used only when the PDF
name carries no date, since files get renamed and copied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum, auto
from urllib.parse import unquote, urlsplit

from mailer.content.bylines import AUTHORS, Byline, addressee, parse_byline, reply_to_index
from mailer.content.dates import (
    DATE_FORMATS,
    DATE_PATTERN,
    PDF_DATE,
    date_from_path,
    date_from_pdf_name,
    parse_date,
)
from mailer.content.document import (
    IssueContent,
    Item,
    PartnerInfo,
    Source,
    derived_title,
    issue_slug,
)
from mailer.content.errors import IssueFormatError
from mailer.content.headlines import (
    HEADLINE_MAX_WORDS,
    SUMMARY_LABEL,
    clean_headline,
    first_headline,
    words,
)
from mailer.content.language import written_in
from mailer.filenames import file_name_problem

SOURCE_SHAPE = "`Outlet, M/D/YY, Author: Original title`"
# The same line in a Markdown issue, where it starts with `Source:` (mailer/content/markdown.py).
MARKDOWN_SOURCE_SHAPE = "`Source: Outlet, M/D/YY, Author: Original title`"
CTA_SHAPE = (
    "`If you would like to talk to NAME …, please email him|her|them at ADDRESS` (in Spanish "
    "`Si desea hablar con NAME …, escríbale a ADDRESS`)"
)


_DATE = DATE_PATTERN
# The author may be left out (an unsigned article): `Outlet, date: Original title`.
# A `Source:` (`Fuente:`) label, as a Markdown issue writes it, is not part of the outlet.
_SOURCE = re.compile(
    rf"^(?:(?:source|fuente)\s*:\s*)?(?P<outlet>[^,]+?)\s*,\s*(?P<date>{_DATE})(?:\s*,\s*(?P<author>[^:]*?))?\s*:\s*"
    r"(?P<title>\S.*)$",
    re.IGNORECASE,
)
# Something that tries to be a source line: short comma-separated fields before a colon, or a
# date-like token among the first fields. Used only to give a precise error.
_SOURCE_ATTEMPT = re.compile(
    r"^[^,:]{1,80},\s*(?:[^,:\s]{0,20}\d[^,:]{0,20}\s*[,:]|[^,:]{1,25},\s*[^,:]{1,60}:)"
)
# A link pasted after the original title: `… Author: Title https://…` or `… <https://…>`.
_TRAILING_URL = re.compile(r"\s+<?(?P<url>https?://[^\s<>]+?)>?$")
# The same link written as Markdown: `… Author: Title [link](https://…)`, or the title itself
# linked, `… Author: [Title](https://…)`.
_TRAILING_MARKDOWN_LINK = re.compile(
    r"(?:^|\s+)\[(?P<text>[^\[\]]*)\]\(<?(?P<url>https?://[^\s<>()]+(?:\([^\s<>()]*\))?)>?\)$"
)
_EMAIL = r"[^\s@<>()\[\],;:]+@[^\s@<>()\[\],;:]+\.[A-Za-z]{2,}"
# The Spanish edition's call to action: `Si desea hablar con NAME …, escríbale a ADDRESS` (also
# `Si le gustaría`, `Para hablar con`); Spanish gives no pronoun ("them": not known). Only a whole
# one counts, since a Spanish paragraph or headline may well start `Si …` or `Para …`.
_CTA_START = re.compile(r"^If\s+you(?:\s+would|['’]d)\s+like\b", re.IGNORECASE)
_CTA = re.compile(
    r"^If\s+you(?:\s+would|['’]d)\s+like\s+to\s+(?:talk|speak)\s+(?:to|with)\s+.+?"
    r"\b(?:e-?mail|write\s+to|contact|reach)\s+(?P<pronoun>him|her|them)\s+at\s*:?\s*"
    rf"<?(?P<email>{_EMAIL})>?\s*\.?\s*$",
    re.IGNORECASE,
)
_CTA_ES = re.compile(
    r"^(?:Si|Para)\s.{0,60}?\b(?:hablar|conversar|platicar|contactar)\b.+?"
    r"\b(?:a|al\s+correo|en)\s*:?\s*"
    rf"<?(?P<email>{_EMAIL})>?\s*\.?\s*$",
    re.IGNORECASE,
)
_MORE_INFO = re.compile(
    r"^(?:More\s+information\s+can\s+be\s+found\s+at|M[aá]s\s+informaci[oó]n"
    r"(?:\s+(?:en|disponible\s+en))?)\s*:?\s*<?(?P<url>[^\s<>]+)>?\s*$",
    re.IGNORECASE,
)
_MORE_INFO_START = re.compile(r"^(?:More\s+information|M[aá]s\s+informaci[oó]n)\b", re.I)
_PDF = re.compile(
    r"^(?:Download|Descargar)\s+(?:the\s+|el\s+)?PDF\b\s*:?\s*(?P<value>\S.*?)\s*$", re.I
)
_PDF_START = re.compile(r"^(?:Download|Descargar)\s+(?:the\s+|el\s+)?PDF\b", re.IGNORECASE)
# The article's address on a line of its own, under its source line.
_LONE_URL = re.compile(r"^<?(?P<url>https?://[^\s<>]+)>?$", re.IGNORECASE)
# A signature delimiter (`-- `, as mail programs write it; `—`, `__`): what follows is not part
# of the briefing.
_SIGNATURE = re.compile(r"^(?:--|—|__+|-{3,}\s*)$")


@dataclass(frozen=True)
class Line:
    number: int  # 1-based physical line in the file
    text: str  # stripped of surrounding whitespace


class _State(Enum):
    BYLINE = auto()
    SUMMARY = auto()
    HEADLINE = auto()  # the first item's headline: nothing else may come here
    HEADLINE_OR_CTA = auto()  # after a source line
    BODY = auto()
    TRAILER = auto()
    SIGNATURE = auto()  # after a `--` line below the call to action: the editor's signature


def split_lines(text: str) -> list[Line]:
    """Non-blank lines with their physical numbers; tolerant of a BOM and CR/CRLF endings."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = []
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if stripped:
            lines.append(Line(number, stripped))
    return lines


def _quote(text: str, limit: int = 80) -> str:
    """A line as shown in an error message: quoted, and cut at a word when long."""
    if len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return f"'{text}'"


def parse_source_line(
    text: str,
    *,
    path: str | None = None,
    line: int | None = None,
    shape: str = SOURCE_SHAPE,
    written: str | None = None,
) -> Source:
    """One `Outlet, M/D/YY, Author: Original title` line (the title may contain colons).

    `shape` and `written` (the whole line as the file has it) are what an error shows: a Markdown
    issue's source line starts with `Source:`, and its errors must say so."""
    match = _SOURCE.match(text.strip())
    if match is None:
        raise IssueFormatError(
            f"expected a source line {shape}, found {_quote(written or text)}",
            path=path,
            line=line,
        )
    try:
        when = parse_date(match["date"])
    except ValueError:
        raise IssueFormatError(
            f"bad date {match['date']!r} in the source line {_quote(written or text)}: expected "
            f"a real date written {DATE_FORMATS}",
            path=path,
            line=line,
        ) from None
    title, url = match["title"].strip(), None
    markdown = _TRAILING_MARKDOWN_LINK.search(title)
    link = _TRAILING_URL.search(title)
    if markdown is not None:
        before = title[: markdown.start()].strip()
        title, url = (before or markdown["text"].strip()), markdown["url"]
    elif link is not None and link.start() > 0:
        title, url = title[: link.start()].strip(), link["url"]
    author = match["author"] or ""
    return Source(outlet=match["outlet"], date=when, author=author, title=title, url=url)


def looks_like_source(text: str) -> bool:
    """A line that is, or tries to be, a source line (used to name a broken one precisely)."""
    if _SOURCE.match(text):
        return True
    return words(text) <= HEADLINE_MAX_WORDS and bool(_SOURCE_ATTEMPT.match(text))


def issue_title(newsletter: str, when: date, lang: str = "en") -> str:
    """`Security Chatter — 9 April 2025`, `Panorama — 9 de abril de 2025`: the title of an issue
    that gives none, its date in the issue's language `lang` (whatever the process locale), so
    that the CLI and the admin list it as its readers see it."""
    return derived_title(newsletter, when, lang)


def newsletter_from_pdf_name(pdf_name: str) -> str:
    """`MI-SecurityChatter-040925` → `Security Chatter` (firm prefix and date dropped)."""
    parts = [p for p in pdf_name.split("-") if p]
    if parts and PDF_DATE.search("-" + parts[-1]):
        parts = parts[:-1]
    if len(parts) > 1 and parts[0].isupper() and len(parts[0]) <= 4:
        parts = parts[1:]
    words = []
    for part in parts:
        words.extend(re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", part).split())
    return " ".join(words)


def starts_call_to_action(text: str) -> bool:
    """An English line starting like a call to action, or a whole Spanish one."""
    return bool(_CTA_START.match(text) or _CTA_ES.match(text))


def read_call_to_action(text: str) -> tuple[str, str] | None:
    """The partner's address and pronoun (him/her/them) a call to action gives, in English or
    Spanish; None when it gives no address at its end."""
    match = _CTA.match(text)
    if match is not None:
        return match["email"], match["pronoun"].lower()
    spanish = _CTA_ES.match(text)
    return (spanish["email"], "them") if spanish is not None else None


def pdf_name_of(value: str) -> str | None:
    """The PDF edition's name from what follows `Download PDF:`: a name, a file name or the
    firm's address of the file (its last part); None when it is several words.

    Why: the firm's site links the PDF, so an editor pastes the link; the name (and its date) is
    the same either way, and this service prints and hosts its own PDF edition."""
    text = value.strip().removeprefix("<").removesuffix(">").strip()
    if re.match(r"^https?://", text, re.IGNORECASE):
        text = unquote(urlsplit(text).path.rstrip("/").rpartition("/")[2])
    if not text or any(ch.isspace() for ch in text):
        return None
    return text[:-4] if text.lower().endswith(".pdf") else text


@dataclass
class _Draft:
    """An item being read: its headline line and the paragraphs so far."""

    headline: Line
    paragraphs: list[Line]


class _Parser:
    def __init__(self, text: str, path: str | None, newsletter: str | None):
        self.lines = split_lines(text)
        self.path = path
        self.newsletter = newsletter
        self.byline: Byline | None = None
        self.byline_line = 1
        self.summary = ""
        self.items: list[Item] = []
        self.draft: _Draft | None = None
        self.cta: Line | None = None
        self.cta_reply: tuple[str, str] | None = None
        self.more_info: str | None = None
        self.pdf: Line | None = None
        self.pdf_name = ""
        self.position = 0  # index in self.lines of the line being read
        self.headline_at: int | None = None  # index of the first item's headline
        self.title = ""  # a title line over the byline, when the editor wrote one

    def fail(self, message: str, line: int) -> IssueFormatError:
        return IssueFormatError(message, path=self.path, line=line)

    def run(self) -> IssueContent:
        if not self.lines:
            raise self.fail("the file is empty: expected a briefing starting with the byline", 1)
        state = _State.BYLINE
        first = self.lines[0].text
        if (
            len(self.lines) > 1
            and parse_byline(first) is None
            and parse_byline(self.lines[1].text) is not None
            and re.search(_DATE, first, re.IGNORECASE)
            and words(first) <= 20
        ):
            # `Security Chatter — April 9, 2025` over the byline: the editor's title line.
            self.title, self.lines = first, self.lines[1:]
        for index, line in enumerate(self.lines):
            self.position = index
            following = self.lines[index + 1] if index + 1 < len(self.lines) else None
            state = self.step(state, line, following)
        self.finish(state)
        return self.build()

    def step(self, state: _State, line: Line, following: Line | None) -> _State:
        text = line.text
        if state is _State.BYLINE:
            self.byline = parse_byline(text)
            self.byline_line = line.number
            if self.byline is None:
                raise self.fail(
                    f"expected the byline `By NAME, TITLE, FIRM` as the first line of a "
                    f"plain-text briefing (a Markdown issue starts with a `---` line), found "
                    f"{_quote(text)}",
                    line.number,
                )
            return _State.SUMMARY
        if state is _State.SUMMARY:
            label = SUMMARY_LABEL.match(text)
            if label is not None and label.end() == len(text):
                return _State.SUMMARY  # `Executive summary` on its own line: a label, not text
            text = text[label.end() :] if label is not None else text
            if looks_like_source(text) or starts_call_to_action(text):
                raise self.fail(
                    f"expected the summary paragraph after the byline, found {_quote(text)}",
                    line.number,
                )
            self.summary = text
            return _State.HEADLINE
        if state in (_State.HEADLINE, _State.HEADLINE_OR_CTA):
            return self.headline(state, line)
        if state is _State.BODY:
            return self.body(line, following)
        if state is _State.SIGNATURE:
            return state
        if _SIGNATURE.match(text):
            return _State.SIGNATURE
        return self.trailer(line)

    def headline(self, state: _State, line: Line) -> _State:
        text = line.text
        after = "the summary" if state is _State.HEADLINE else "the previous item's source line"
        if state is _State.HEADLINE_OR_CTA and starts_call_to_action(text):
            return self.call_to_action(line)
        if state is _State.HEADLINE_OR_CTA and _LONE_URL.match(text):
            return self.source_link(line)
        if _MORE_INFO_START.match(text) or _PDF_START.match(text):
            raise self.fail(
                f"expected the call to action {CTA_SHAPE} after the last item, "
                f"found {_quote(text)}",
                line.number,
            )
        if _SOURCE.match(text) and state is _State.HEADLINE:
            raise self.fail(
                f"expected a headline after the summary, found a source line {_quote(text)}: the "
                f"first item's headline is missing (a line of more than {HEADLINE_MAX_WORDS} "
                "words after the summary is read as more of the summary)",
                line.number,
            )
        if _SOURCE.match(text):
            raise self.fail(
                f"expected a headline after {after}, found a second source line {_quote(text)}",
                line.number,
            )
        if state is _State.HEADLINE and self.position < self.first_headline_at():
            # Not a headline: the summary's next paragraph (the renderers split it at "\n\n").
            self.summary += "\n\n" + text
            return _State.HEADLINE
        if words(text) > HEADLINE_MAX_WORDS:
            raise self.fail(
                f"expected a headline (one short line) after {after}, found a paragraph of "
                f"{words(text)} words {_quote(text)}",
                line.number,
            )
        self.draft = _Draft(line, [])
        return _State.BODY

    def source_link(self, line: Line) -> _State:
        """The article's address on its own line under the source line: the source's link."""
        match = _LONE_URL.match(line.text)
        assert match is not None
        last = self.items[-1]
        if last.source.url is not None:
            raise self.fail(
                f"the source line above already links {_quote(last.source.url)}: expected the "
                f"next item's headline, found a second link {_quote(line.text)}",
                line.number,
            )
        self.items[-1] = replace(last, source=replace(last.source, url=match["url"]))
        return _State.HEADLINE_OR_CTA

    def first_headline_at(self) -> int:
        """The index of the first item's headline, judged once over the lines up to the first
        source line (or whatever ends the items) by `first_headline`."""
        if self.headline_at is None:
            start = end = self.position
            while end < len(self.lines) and not self.ends_block(self.lines[end].text):
                end += 1
            block = [line.text for line in self.lines[start:end]]
            self.headline_at = start + first_headline(block)
        return self.headline_at

    @staticmethod
    def ends_block(text: str) -> bool:
        return bool(
            _SOURCE.match(text)
            or starts_call_to_action(text)
            or _MORE_INFO_START.match(text)
            or _PDF_START.match(text)
        )

    def body(self, line: Line, following: Line | None) -> _State:
        assert self.draft is not None
        text = line.text
        item = _quote(self.draft.headline.text)
        if _SOURCE.match(text):
            if not self.draft.paragraphs:
                raise self.fail(
                    f"the item {item} (line {self.draft.headline.number}) has no paragraph "
                    "between its headline and its source line",
                    line.number,
                )
            source = parse_source_line(text, path=self.path, line=line.number)
            self.items.append(
                Item(
                    headline=clean_headline(self.draft.headline.text),
                    paragraphs=tuple(p.text for p in self.draft.paragraphs),
                    source=source,
                )
            )
            self.draft = None
            return _State.HEADLINE_OR_CTA
        if starts_call_to_action(text) or _MORE_INFO_START.match(text) or _PDF_START.match(text):
            raise self.fail(
                f"expected a source line {SOURCE_SHAPE} after the item {item}, found "
                f"{_quote(text)}",
                line.number,
            )
        if following is not None and _SOURCE.match(following.text):
            # The item's last paragraph: whatever its shape, the source line follows.
            self.draft.paragraphs.append(line)
            return _State.BODY
        if looks_like_source(text):
            raise self.fail(
                f"expected a source line {SOURCE_SHAPE} after the item {item}, found "
                f"{_quote(text)} ({self.source_problem(text)})",
                line.number,
            )
        if self.draft.paragraphs and words(text) <= HEADLINE_MAX_WORDS:
            # A short line after a paragraph that is not the item's last paragraph reads as the
            # next headline: this item's source line is missing or unrecognisable. The first
            # paragraph may be short (right after a headline no headline is expected), as
            # docs/ISSUES.md says.
            raise self.fail(
                f"expected a source line {SOURCE_SHAPE} after the item {item}, found "
                f"{_quote(text)} (a short line after a paragraph is read as the next headline: "
                "if it is the next item's headline, the item above has lost its source line; "
                "if it is a paragraph of this item, join it to the paragraph before it, since "
                f"a paragraph between an item's first and last is longer than "
                f"{HEADLINE_MAX_WORDS} words)",
                line.number,
            )
        self.draft.paragraphs.append(line)
        return _State.BODY

    @staticmethod
    def source_problem(text: str) -> str:
        """Why a line that tries to be a source line is not one."""
        fields = [f.strip() for f in text.split(",", 2)]
        if len(fields) < 3:
            return "it needs three comma-separated parts: outlet, date, author: title"
        if not re.fullmatch(_DATE, fields[1], re.IGNORECASE):
            return f"{fields[1]!r} is not a date written {DATE_FORMATS}"
        if ":" not in fields[2]:
            return "no colon between the author and the original title"
        return "the author or the original title is missing"

    def call_to_action(self, line: Line) -> _State:
        reply = read_call_to_action(line.text)
        if reply is None:
            raise self.fail(
                f"the call to action must end with the partner's email address: expected "
                f"{CTA_SHAPE}, found {_quote(line.text)}",
                line.number,
            )
        self.cta, self.cta_reply = line, reply
        return _State.TRAILER

    def trailer(self, line: Line) -> _State:
        text = line.text
        if _MORE_INFO_START.match(text) and self.more_info is None:
            match = _MORE_INFO.match(text)
            if match is None:
                raise self.fail(
                    f"expected `More information can be found at: URL`, found {_quote(text)}",
                    line.number,
                )
            self.more_info = match["url"]
            return _State.TRAILER
        if _PDF_START.match(text) and self.pdf is None:
            match = _PDF.match(text)
            name = pdf_name_of(match["value"]) if match is not None else None
            if name is None:
                raise self.fail(
                    f"expected `Download PDF: NAME` (one word, e.g. MI-SecurityChatter-040925, "
                    f"or the PDF's https:// address), found {_quote(text)}",
                    line.number,
                )
            problem = file_name_problem(name)
            if problem is not None:
                raise self.fail(
                    f"`Download PDF: NAME` must name one file, like MI-SecurityChatter-040925, "
                    f"but {problem}; found {_quote(text)}",
                    line.number,
                )
            self.pdf, self.pdf_name = line, name
            return _State.TRAILER
        raise self.fail(
            "expected only `More information can be found at: URL` and `Download PDF: NAME` "
            f"after the call to action, found {_quote(text)}",
            line.number,
        )

    def finish(self, state: _State) -> None:
        last = self.lines[-1].number
        if state in (_State.SUMMARY, _State.HEADLINE):
            raise self.fail("the file ends before the first item: expected a headline", last)
        if state is _State.BODY:
            assert self.draft is not None
            raise self.fail(
                f"the file ends inside the item {_quote(self.draft.headline.text)}: expected a "
                f"source line {SOURCE_SHAPE}",
                last,
            )
        if state is _State.HEADLINE_OR_CTA:
            raise self.fail(
                f"the file ends after the last item: expected the call to action {CTA_SHAPE}",
                last,
            )
        if self.pdf is None:
            raise self.fail(
                "the file ends without `Download PDF: NAME` (e.g. MI-SecurityChatter-040925)",
                last,
            )

    def build(self) -> IssueContent:
        assert self.byline is not None and self.cta is not None and self.cta_reply is not None
        assert self.pdf is not None
        when = date_from_pdf_name(self.pdf_name) or date_from_path(self.path)
        if when is None:
            raise self.fail(
                f"cannot tell the issue's date: the PDF name {self.pdf_name!r} does not end in "
                "-MMDDYY and the file name has no YYYY-MM-DD",
                self.pdf.number,
            )
        newsletter = self.newsletter or newsletter_from_pdf_name(self.pdf_name)
        if not newsletter:
            raise self.fail(
                f"cannot tell the newsletter's name from the PDF name {self.pdf_name!r} "
                "(expected e.g. MI-SecurityChatter-040925)",
                self.pdf.number,
            )
        names = self.byline.names
        first = reply_to_index(names, self.cta.text)
        if first is None:
            raise self.fail(
                f"the call to action names {addressee(self.cta.text)!r}, who is not in the "
                f"byline ({' and '.join(names)}, line {self.byline_line}): replies and the "
                "'Talk to' button would go to someone the issue does not credit; name one of "
                "the authors in the call to action, or fix the byline",
                self.cta.number,
            )
        texts = [self.summary, *(p for item in self.items for p in item.paragraphs)]
        partner = PartnerInfo(
            name=names[first],
            email=self.cta_reply[0],
            title=self.byline.title,
            firm=self.byline.firm,
            pronoun=self.cta_reply[1],
        )
        extra = {AUTHORS: "\n".join(names)} if len(names) > 1 else {}
        return IssueContent(
            title=self.title or issue_title(newsletter, when, written_in(None, texts)),
            newsletter=newsletter,
            date=when,
            partner=partner,
            summary=self.summary,
            items=tuple(self.items),
            call_to_action=self.cta.text,
            more_info_url=self.more_info,
            pdf_name=self.pdf_name,
            slug=issue_slug(newsletter, when),
            extra=extra,
            markup="text",  # the briefing has no markup: its text is shown as written
        )


def parse_briefing(
    text: str, *, path: str | None = None, newsletter: str | None = None
) -> IssueContent:
    """Parse one briefing; raises IssueFormatError naming the path, the line and what was expected.

    `newsletter` overrides the name derived from the PDF name (e.g. "Security Chatter").
    """
    return _Parser(text, path, newsletter).run()
