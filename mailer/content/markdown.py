"""Parser of the editor's format: Markdown with YAML front matter.

```
---
newsletter: Security Chatter
date: 2025-04-09
partner: {name: …, title: Partner, firm: …, email: …, pronoun: him}   # or a partner slug / email
summary: …
more_info_url: https://…
pdf_name: MI-SecurityChatter-040925
call_to_action: … # optional: default_call_to_action() otherwise
lang: en          # optional: the issue's language (hyphenation); else recognised from the text
---
## Headline
Paragraph…

Source: Outlet, M/D/YY, Author: Original title <https://…>
```

markdown-it-py does the block splitting (so wrapped lines, blank lines and CRLF behave as any
Markdown reader expects) and gives each block its line range, which is what error messages need.
Paragraph, summary and call-to-action text is kept as Markdown source (inline emphasis and links
stay as written, `IssueContent.markup == "markdown"`): every edition shows it through
mailer/content/inline.py, and nothing the editor wrote is lost. A headline is plain text (its
marks dropped here). Users' documentation of the format: docs/ISSUES.md.

Unknown front matter keys are refused rather than ignored, so a typo such as `sumary:` cannot
silently drop the summary.

The YAML is read with PyYAML's safe loader and its aliases bounded: a few hundred bytes of nested
`&anchor`/`*alias` can stand for millions of values ("billion laughs"), so the front matter is
refused when it refers to more than MAX_YAML_ALIASES aliases or expands to more than
MAX_YAML_VALUES values, and when it nests lists or mappings more than MAX_YAML_DEPTH deep
(mailer/content/bounded_yaml.py). Text values keep the limits of `document.LIMITS`, reported at
their line.

A partner given only by slug or email cannot be completed without the database; the parser then
returns a PartnerInfo with the missing fields empty and the reference in `extra["partner"]`, and
mailer.content.issues resolves it on import.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import yaml
from email_validator import EmailNotValidError, validate_email
from markdown_it import MarkdownIt
from markdown_it.token import Token

from mailer.content.bounded_yaml import load_bounded
from mailer.content.briefing import (
    MARKDOWN_SOURCE_SHAPE,
    issue_title,
    newsletter_from_pdf_name,
    parse_source_line,
)
from mailer.content.document import (
    LIMITS,
    SLUG_PATTERN,
    URL_SCHEMES,
    IssueContent,
    Item,
    PartnerInfo,
    Source,
    issue_slug,
    slugify,
)
from mailer.content.errors import IssueFormatError
from mailer.content.inline import plain_text
from mailer.content.language import normal_language, written_in
from mailer.filenames import file_name_problem

FRONT_MATTER_KEYS = (
    "title",
    "newsletter",
    "date",
    "partner",
    "summary",
    "more_info_url",
    "pdf_name",
    "call_to_action",
    "slug",
    "lang",
)
PARTNER_KEYS = ("name", "title", "firm", "email", "pronoun")
PRONOUNS = ("him", "her", "them")

_FENCE = re.compile(r"^(---|\.\.\.)\s*$")
_SOURCE_PREFIX = re.compile(r"^Source\s*:\s*", re.IGNORECASE)
_ANGLE_URL = re.compile(r"\s*<(?P<url>[a-z][a-z0-9+.-]*:[^\s<>]+)>\s*$", re.IGNORECASE)
_LINKED_TITLE = re.compile(r"^\[(?P<title>.+)\]\((?P<url>[^\s()]+)\)\s*\.?$")

# A bullet list's point that is one paragraph, as markdown-it gives it.
_POINT_TOKENS = ("list_item_open", "paragraph_open", "inline", "paragraph_close", "list_item_close")
_BLOCK_NAMES = {
    "ordered_list_open": "a numbered list",
    "blockquote_open": "a block quote",
    "fence": "a code block",
    "code_block": "an indented code block",
    "html_block": "an HTML block",
    "hr": "a horizontal rule",
    "table_open": "a table",
}


# The default call to action in each language the editions have wording for (rendering/chrome.py):
# a Spanish issue's invitation was the one English sentence in it. {pronoun} is English only.
_DEFAULT_CTA = {
    "en": "If you would like to talk to {name} about anything in {about}, please email {pronoun} "
    "at {email}",
    "es": "Si desea hablar con {name} sobre cualquier tema de {about}, escríbale a {email}",
    "pt": "Se quiser falar com {name} sobre qualquer assunto {about}, escreva para {email}",
    "fr": "Si vous souhaitez parler à {name} de {about}, écrivez à {email}",
}
# (this issue of NEWSLETTER, this issue, whom when the partner has no name)
_CTA_WORDS = {
    "en": ("this issue of {newsletter}", "this issue", "us"),
    "es": ("este número de {newsletter}", "este número", "nosotros"),
    "pt": ("desta edição de {newsletter}", "desta edição", "a nossa equipe"),
    "fr": ("ce numéro de {newsletter}", "ce numéro", "nous"),
}


def default_call_to_action(partner: PartnerInfo, newsletter: str = "", lang: str = "en") -> str:
    """The sentence inviting readers to write to the partner, when the front matter gives no
    `call_to_action:`, in the issue's language `lang` (English for one without a wording): neutral
    (it names the issue's newsletter, not a line of business), so any firm's issue can use it."""
    lang = lang if lang in _DEFAULT_CTA else "en"
    of_newsletter, this_issue, us = _CTA_WORDS[lang]
    about = of_newsletter.format(newsletter=newsletter) if newsletter else this_issue
    return _DEFAULT_CTA[lang].format(
        name=partner.name.split()[0] if partner.name else us,
        about=about,
        pronoun=partner.pronoun,
        email=partner.email,
    )


def _pdf_name_for(newsletter: str, when: date) -> str:
    """`SecurityChatter-040925` when the front matter names no PDF (same MMDDYY as the firm's)."""
    camel = "".join(word[:1].upper() + word[1:] for word in slugify(newsletter).split("-"))
    return f"{camel}-{when:%m%d%y}"


class _FrontMatter:
    """The parsed YAML mapping plus the file line of each key, for errors about its value."""

    def __init__(self, yaml_text: str, first_line: int, path: str | None):
        self.path = path
        self.first_line = first_line  # file line of the YAML's first line
        try:
            node, data = load_bounded(yaml_text, first_line, path)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = first_line + mark.line if mark is not None else first_line
            raise IssueFormatError(
                f"invalid YAML in the front matter: {exc.problem or exc}", path=path, line=line
            ) from None
        except yaml.reader.ReaderError as exc:  # a character YAML does not allow (NUL, ESC…)
            line = first_line + yaml_text[: exc.position].count("\n")
            raise IssueFormatError(
                f"the front matter holds a character YAML does not allow "
                f"(U+{exc.character:04X}); remove it",
                path=path,
                line=line,
            ) from None
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            # e.g. `date: 2025-13-45`, which PyYAML turns into a datetime and fails on.
            raise IssueFormatError(
                f"a value in the front matter cannot be read: {exc}", path=path, line=first_line
            ) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise IssueFormatError(
                "the front matter must be `key: value` lines (title, date, partner, …)",
                path=path,
                line=first_line,
            )
        self.data: dict[str, Any] = data
        self.lines: dict[str, int] = {}
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                self.lines[str(key_node.value)] = first_line + key_node.start_mark.line
                if isinstance(value_node, yaml.MappingNode):  # partner: its fields' own lines
                    for sub_node, _sub_value in value_node.value:
                        self.lines[f"{key_node.value}.{sub_node.value}"] = (
                            first_line + sub_node.start_mark.line
                        )
        for key in data:
            if key not in FRONT_MATTER_KEYS:
                raise self.error(
                    str(key),
                    f"unknown front matter key {key!r}; expected some of: "
                    + ", ".join(FRONT_MATTER_KEYS),
                )

    def line_of(self, key: str) -> int:
        """The file line of `key` (`partner.email` for a partner's field, else its `partner:`
        line): every error about a field names the field's own line."""
        parent = key.split(".", 1)[0]
        return self.lines.get(key, self.lines.get(parent, self.first_line))

    def url(self, key: str) -> str | None:
        """A link field (`more_info_url:`): a web address, refused at its line otherwise (no
        `javascript:` or `ftp:` in a reader's mail)."""
        value = self.text(key)
        if value and not value.lower().startswith(URL_SCHEMES):
            raise self.error(
                key,
                f"`{key}:` must be a web address starting with https:// (found {value[:80]!r})",
            )
        return value or None

    def error(self, key: str, message: str) -> IssueFormatError:
        return IssueFormatError(message, path=self.path, line=self.line_of(key))

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise IssueFormatError(
                    f"the front matter needs `{key}:`", path=self.path, line=self.first_line - 1
                )
            return ""
        if not isinstance(value, str | int | float):
            raise self.error(key, f"`{key}:` must be text, found {type(value).__name__}")
        text = _normalise(str(value))
        limit = LIMITS.get(key)
        if limit is not None and len(text) > limit:
            raise self.error(
                key, f"`{key}:` is {len(text):,} characters long; at most {limit:,} are allowed"
            )
        return text


def _normalise(text: str) -> str:
    """Lines of a paragraph joined by one space; paragraphs (blank-line separated) kept apart."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _split_front_matter(lines: list[str], path: str | None) -> tuple[int, int]:
    """Index of the opening and closing `---` lines (0-based)."""
    if not lines or lines[0].strip() != "---":
        raise IssueFormatError(
            "a Markdown issue starts with YAML front matter between two `---` lines",
            path=path,
            line=1,
        )
    for index in range(1, len(lines)):
        if _FENCE.match(lines[index]):
            return 0, index
    raise IssueFormatError(
        "the front matter opened on line 1 is never closed: add a `---` line after it",
        path=path,
        line=1,
    )


def _check_email(email: str, fm: _FrontMatter, key: str) -> str:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise fm.error(key, f"{email!r} is not a valid email address: {exc}") from None
    return email


def _partner(fm: _FrontMatter) -> tuple[PartnerInfo, dict[str, str]]:
    value = fm.data.get("partner")
    if value is None or value == "":
        raise IssueFormatError(
            "the front matter needs `partner:` (name, title, firm, email, pronoun — or a partner "
            "slug or email known to `mailer partner list`)",
            path=fm.path,
            line=fm.first_line - 1,
        )
    if isinstance(value, str):
        ref = value.strip()
        # The line goes with the reference: a partner nobody added is found only on import,
        # and the error then names the file's line as every other front-matter error does.
        extra = {"partner": ref, "partner_line": str(fm.line_of("partner"))}
        if "@" in ref:
            return PartnerInfo(name="", email=_check_email(ref, fm, "partner")), extra
        return PartnerInfo(name="", email=""), extra
    if not isinstance(value, dict):
        raise fm.error("partner", "`partner:` must be a slug, an email, or name/email/… fields")
    unknown = [k for k in value if k not in PARTNER_KEYS]
    if unknown:
        raise fm.error(
            f"partner.{unknown[0]}",
            f"unknown partner field {unknown[0]!r}; expected some of: " + ", ".join(PARTNER_KEYS),
        )
    for k, v in value.items():
        if v is not None and not isinstance(v, str | int | float):
            raise fm.error(
                f"partner.{k}", f"the partner's `{k}:` must be text, found {type(v).__name__}"
            )
    fields = {k: " ".join(str(v).split()) for k, v in value.items() if v is not None}
    for k, text in fields.items():
        limit = LIMITS.get(f"partner {k}")
        if limit is not None and len(text) > limit:
            raise fm.error(
                f"partner.{k}",
                f"the partner's `{k}:` is {len(text):,} characters long; at most {limit:,}",
            )
    if not fields.get("email"):
        raise fm.error("partner", "the partner needs an `email:` (where clients' replies go)")
    pronoun = fields.get("pronoun", "them").lower()
    if pronoun not in PRONOUNS:
        raise fm.error(
            "partner.pronoun", f"the partner's pronoun must be him, her or them, not {pronoun!r}"
        )
    email = _check_email(fields["email"], fm, "partner.email")
    if not fields.get("name"):
        return PartnerInfo(name="", email=email, pronoun=pronoun), {"partner": email}
    return (
        PartnerInfo(
            name=fields["name"],
            email=email,
            title=fields.get("title", ""),
            firm=fields.get("firm", ""),
            pronoun=pronoun,
        ),
        {},
    )


def _slug(fm: _FrontMatter) -> str:
    """`slug:` as given, if it is one: it becomes part of archive links and file names."""
    slug = fm.text("slug")
    if slug and not SLUG_PATTERN.match(slug):
        raise fm.error(
            "slug",
            f"`slug:` may only hold lower-case letters a-z, digits and single hyphens, like "
            f"security-chatter-2025-04-09; found {slug[:80]!r}",
        )
    return slug


def _pdf_name(fm: _FrontMatter) -> str:
    """`pdf_name:` without `.pdf`, if it is one file name: it names the file `issue preview`
    writes and every message's attachment, so a path (`../../x`, `/tmp/x`) must never pass."""
    name = fm.text("pdf_name").removesuffix(".pdf")
    problem = file_name_problem(name) if name else None
    if problem is not None:
        raise fm.error(
            "pdf_name",
            f"`pdf_name:` must be one file name, like MI-SecurityChatter-040925, but {problem}; "
            f"found {name[:80]!r}",
        )
    return name


def _date(fm: _FrontMatter) -> date:
    value = fm.data.get("date")
    if value is None:
        raise IssueFormatError(
            "the front matter needs `date:` (YYYY-MM-DD)", path=fm.path, line=fm.first_line - 1
        )
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise fm.error("date", f"`date:` must be YYYY-MM-DD, found {value!r}") from None


def _source(text: str, *, path: str | None, line: int) -> Source:
    """`Source: Outlet, M/D/YY, Author: Title` with an optional `<url>` or `[Title](url)`."""
    rest = _SOURCE_PREFIX.sub("", text, count=1).strip()
    url = None
    angle = _ANGLE_URL.search(rest)
    if angle is not None:
        url = angle["url"]
        rest = rest[: angle.start()].strip()
    source = parse_source_line(
        rest, path=path, line=line, shape=MARKDOWN_SOURCE_SHAPE, written=text
    )
    linked = _LINKED_TITLE.match(source.title)
    title, own = (linked["title"], linked["url"]) if linked else (source.title, source.url)
    if own is not None and url is not None:
        raise IssueFormatError(
            "the source line gives two URLs: keep the linked title or the <url> at the end",
            path=path,
            line=line,
        )
    return Source(source.outlet, source.date, source.author, title, own or url)


def _paragraph_text(inline: Token) -> str:
    """A paragraph's Markdown source on one line (wrapped lines joined, as a reader sees them)."""
    return " ".join(line.strip() for line in inline.content.splitlines() if line.strip())


def parse_markdown(text: str, *, path: str | None = None) -> IssueContent:
    """Parse one Markdown issue; raises IssueFormatError naming the path and the line."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    _open, close = _split_front_matter(lines, path)
    fm = _FrontMatter("\n".join(lines[1:close]), first_line=2, path=path)
    body_offset = close + 1  # 0-based index of the body's first line in the file

    partner, extra = _partner(fm)
    _language(fm, extra)
    when = _date(fm)
    pdf_name = _pdf_name(fm)
    newsletter = fm.text("newsletter") or (newsletter_from_pdf_name(pdf_name) if pdf_name else "")
    if not newsletter:
        raise IssueFormatError(
            "the front matter needs `newsletter:` (e.g. Security Chatter)",
            path=path,
            line=close + 1,
        )
    lead, items = _read_body(lines, body_offset, path)
    summary = _summary(fm, lead, path, close)
    if not items:
        raise IssueFormatError(
            "the issue has no items: start each with `## Headline`", path=path, line=len(lines)
        )
    lang = written_in(extra.get("lang"), [summary, *(p for i in items for p in i.paragraphs)])
    call_to_action = fm.text("call_to_action")
    if not call_to_action and partner.name:
        call_to_action = default_call_to_action(partner, newsletter, lang)
    return IssueContent(
        title=fm.text("title") or issue_title(newsletter, when, lang),
        newsletter=newsletter,
        date=when,
        partner=partner,
        summary=summary,
        items=tuple(items),
        call_to_action=call_to_action,
        more_info_url=fm.url("more_info_url"),
        pdf_name=pdf_name or _pdf_name_for(newsletter, when),
        slug=_slug(fm) or issue_slug(newsletter, when),
        extra=extra,
        markup="markdown",
    )


def _language(fm: _FrontMatter, extra: dict[str, Any]) -> None:
    """`lang:` into `extra` (hyphenation and `lang` attributes); else it is recognised from the
    text later."""
    if fm.text("lang"):
        lang = normal_language(fm.text("lang"))
        if lang is None:
            raise fm.error(
                "lang", f"`lang:` must be a language code such as en or es, not {fm.text('lang')!r}"
            )
        extra["lang"] = lang


def _summary(fm: _FrontMatter, lead: list[str], path: str | None, close: int) -> str:
    """The executive summary: `summary:` in the front matter or the text before the first item,
    never both."""
    summary = fm.text("summary")
    if summary and lead:
        raise IssueFormatError(
            "the summary is given twice: in the front matter and as text before the first item",
            path=path,
            line=fm.line_of("summary"),
        )
    summary = summary or "\n\n".join(lead)
    if not summary:
        raise IssueFormatError(
            "the front matter needs `summary:` (the executive summary)",
            path=path,
            line=close + 1,
        )
    return summary


def _make_item(
    headline: tuple[str, int], paragraphs: list[tuple[str, int]], at_line: int, path: str | None
) -> Item:
    """One item from its `## Headline` and its paragraphs, the last of which is its source."""
    title, line_no = headline
    if not paragraphs or not _SOURCE_PREFIX.match(paragraphs[-1][0]):
        raise IssueFormatError(
            f"the item '{title}' (line {line_no}) must end with a source line "
            f"{MARKDOWN_SOURCE_SHAPE}",
            path=path,
            line=at_line,
        )
    *body, (source_text, source_line) = paragraphs
    if not body:
        raise IssueFormatError(
            f"the item '{title}' (line {line_no}) has no paragraph before its source line",
            path=path,
            line=source_line,
        )
    return Item(
        headline=title,
        paragraphs=tuple(p for p, _ in body),
        source=_source(source_text, path=path, line=source_line),
    )


def _bullet_list(tokens: list[Token], index: int, path: str | None, line: int) -> tuple[str, int]:
    """A simple bullet list as one paragraph of `- point` lines (content/inline.bullet_points),
    and the index of its last token. A point is one paragraph: a nested list, a second paragraph
    or any other block in a point is refused."""
    points: list[str] = []
    index += 1
    while tokens[index].type != "bullet_list_close":
        if tuple(t.type for t in tokens[index : index + 5]) != _POINT_TOKENS:
            raise IssueFormatError(
                "a bullet list may hold only one-paragraph points (`- point` lines): no nested "
                "lists, second paragraphs or other blocks inside a point",
                path=path,
                line=line,
            )
        points.append("- " + _paragraph_text(tokens[index + 2]))
        index += 5
    return "\n".join(points), index - 2  # the loop steps 3 tokens on


def _read_body(
    lines: list[str], body_offset: int, path: str | None
) -> tuple[list[str], list[Item]]:
    """The body after the front matter: the lead paragraphs (before the first `## Headline`)
    and the items. Only h2 headings and paragraphs are allowed; errors name the file line."""
    tokens = MarkdownIt("commonmark").parse("\n".join(lines[body_offset:]))
    lead: list[str] = []
    items: list[Item] = []
    headline: tuple[str, int] | None = None  # text, file line
    paragraphs: list[tuple[str, int]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        start = body_offset + 1 + (token.map[0] if token.map else 0)  # 1-based file line
        if token.type == "heading_open":
            if token.tag != "h2":
                raise IssueFormatError(
                    f"only `## Headline` headings are allowed (one per item), found a "
                    f"level-{token.tag[1:]} heading; the issue's title goes in the front matter",
                    path=path,
                    line=start,
                )
            if headline is not None:
                items.append(_make_item(headline, paragraphs, start, path))
            # A headline is plain text everywhere (subject lines, contents, reports): any inline
            # Markdown in it is read (escapes, entities) and its marks dropped.
            headline = (plain_text(_paragraph_text(tokens[index + 1])), start)
            paragraphs = []
        elif token.type in ("paragraph_open", "bullet_list_open"):
            if token.type == "paragraph_open":
                paragraph = _paragraph_text(tokens[index + 1])
            else:
                paragraph, index = _bullet_list(tokens, index, path, start)
            if headline is None:
                if _SOURCE_PREFIX.match(paragraph):
                    raise IssueFormatError(
                        "a `Source:` line before the first `## Headline`", path=path, line=start
                    )
                lead.append(paragraph)
            elif paragraphs and _SOURCE_PREFIX.match(paragraphs[-1][0]):
                raise IssueFormatError(
                    f"the `Source:` line (line {paragraphs[-1][1]}) must be the last line of the "
                    f"item '{headline[0]}'; start the next item with `## Headline`",
                    path=path,
                    line=start,
                )
            else:
                paragraphs.append((paragraph, start))
        else:
            kind = _BLOCK_NAMES.get(token.type, token.type)
            raise IssueFormatError(
                f"found {kind}; an issue's body holds only `## Headline` lines, paragraphs, "
                "simple bullet lists (`- point` lines) and each item's last line "
                f"{MARKDOWN_SOURCE_SHAPE}. Inside a paragraph, **bold**, *italic*, `code` and "
                "[links](https://…) work (docs/ISSUES.md)",
                path=path,
                line=start,
            )
        index += 3
    if headline is not None:
        items.append(_make_item(headline, paragraphs, len(lines), path))
    return lead, items
