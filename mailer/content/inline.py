"""Inline Markdown of an issue's texts, read into runs of styled text.

A Markdown issue keeps its paragraphs and summary as Markdown source (mailer/content/markdown.py);
every edition shows them through this one reading, so the HTML email, the plain-text part, the PDF
and the checks that compare them agree on what a reader sees. A briefing's text has no markup at
all (`IssueContent.markup == "text"`): it is one plain run, so an asterisk there stays an asterisk.

A paragraph may also be a simple bullet list, stored as `- point` lines (`bullet_points`).

Supported: *emphasis*, **strong**, `code`, [links](https://…) and autolinks <https://…>,
<name@example.com>; backslash escapes and entities. A link goes only to http, https or mailto:
any other scheme (`javascript:`, `data:`, `file:` …) is not a link, and its text is shown as it
was written. HTML is never passed through (markdown-it's `html` option is off): `<b>` is text. An
image is shown as its alt text (the email carries no remote images in the prose).

A run is flat — its text plus the marks around it — so a renderer can cut a paragraph between
sentences (rendering/context.reading_paragraphs) without leaving a tag open.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

Markup = Literal["markdown", "text"]
LINK_SCHEMES = ("http:", "https:", "mailto:")


@dataclass(frozen=True)
class Run:
    """A piece of text and the inline marks it carries."""

    text: str
    strong: bool = False
    em: bool = False
    code: bool = False
    href: str | None = None  # an http(s) or mailto URL, or None


def _allowed_link(url: str) -> bool:
    return url.strip().lower().startswith(LINK_SCHEMES)


_MD = MarkdownIt("commonmark", {"html": False})
_MD.validateLink = _allowed_link  # type: ignore[method-assign]


def _children(source: str) -> list[Token]:
    tokens = _MD.parseInline(source)
    return list(tokens[0].children or []) if tokens else []


def runs(source: str, markup: Markup = "markdown") -> list[Run]:
    """The text as runs: Markdown read inline, or (`markup="text"`) the text as one plain run.

    Whitespace (line breaks included) is kept as written; renderers flatten it."""
    if markup != "markdown":
        return [Run(source)] if source else []
    out: list[Run] = []
    state = Run("")
    depth = {"strong": 0, "em": 0}  # `*a *b* c*` nests: c is still emphasised
    for token in _children(source):
        kind = token.type
        mark, _, edge = kind.partition("_")
        if kind in ("text", "text_special"):
            out.append(replace(state, text=token.content))
        elif kind in ("softbreak", "hardbreak"):
            out.append(replace(state, text=" "))
        elif kind == "code_inline":
            out.append(replace(state, text=token.content, code=True))
        elif kind == "image":
            out.append(replace(state, text=token.content))  # its alt text
        elif mark in depth and edge in ("open", "close"):
            depth[mark] = max(0, depth[mark] + (1 if edge == "open" else -1))
            state = replace(state, strong=depth["strong"] > 0, em=depth["em"] > 0)
        elif kind == "link_open":
            href = str(token.attrs.get("href", ""))
            state = replace(state, href=href if _allowed_link(href) else None)
        elif kind == "link_close":
            state = replace(state, href=None)
        elif token.content:  # a token type of a later markdown-it: keep its text, never drop it
            out.append(replace(state, text=token.content))
    return _merged(out)


def _merged(items: list[Run]) -> list[Run]:
    """Adjacent runs with the same marks as one."""
    merged: list[Run] = []
    for run in items:
        if not run.text:
            continue
        if merged and replace(merged[-1], text="") == replace(run, text=""):
            merged[-1] = replace(run, text=merged[-1].text + run.text)
        else:
            merged.append(run)
    return merged


def bullet_points(source: str, markup: Markup = "markdown") -> list[str]:
    """The points of a paragraph that is a simple bullet list, or [] for any other paragraph.

    The Markdown parser stores a list as `- point` lines (mailer/content/markdown.py); a
    paragraph of Markdown source never starts with `- ` (Markdown would read it as a list), so
    the shape is unambiguous. A briefing's text is never a list."""
    lines = source.split("\n")
    if markup != "markdown" or not all(line.startswith("- ") for line in lines):
        return []
    return [line[2:] for line in lines]


def plain_text(source: str, markup: Markup = "markdown") -> str:
    """What a reader sees of the text, markup removed, whitespace flattened (a list's points
    one after the other)."""
    points = [
        point
        for block in source.split("\n\n")
        for point in (bullet_points(block, markup) or [block])
    ]
    text = " ".join("".join(run.text for run in runs(point, markup)) for point in points)
    return " ".join(text.split())
