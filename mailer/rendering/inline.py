"""An issue's prose in each edition: inline Markdown (content/inline.py) as HTML or plain text.

The templates call three filters:
- `bullets(text, markup)`: the points of a paragraph that is a simple bullet list (else []), each
  a list of runs, shown as <ul><li> in HTML and `- point` lines in the text part.
- `prose(text, markup, words)`: the text as the paragraphs a reader scans (a long one cut between
  sentences, `context.reading_breaks`), each a list of runs. A cut never leaves a tag open: a
  bold phrase spanning two sentences is bold in both halves.
- `inline(runs_or_text, track, kind, item, label, markup=…)`: one paragraph as HTML (autoescaped
  text inside <strong>, <em>, <code>, <a href>) or, in the text part, as plain text with each
  link written `text (URL)` and no emphasis markers. An http(s) link goes through `track` — the
  issue's link table (rendering/links.py), as the source links do — so a link in a paragraph is
  counted and per recipient becomes a signed redirect; a mailto link is never tracked.

Text in HTML is escaped here (markupsafe), never trusted: the result is Markup only because every
piece of it was escaped or is one of the four fixed tags.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from markupsafe import Markup, escape

from mailer.content.inline import Markup as MarkupKind
from mailer.content.inline import Run, bullet_points, runs
from mailer.rendering.context import READING_WORDS, reading_breaks

Link = Callable[[str], str]
URL_HOLE = "\ufffc"  # stands for a per-recipient URL in `required_text(…, part="text")`


def _flattened(items: Sequence[Run], *, strip: bool = True) -> list[Run]:
    """Runs with their whitespace as one space between words and (`strip`) none at either end."""
    out: list[Run] = []
    space = strip  # at the start, leading whitespace is dropped
    for run in items:
        text = []
        for ch in run.text:
            if ch.isspace():
                if not space:
                    text.append(" ")
                space = True
            else:
                text.append(ch)
                space = False
        if text:
            out.append(replace(run, text="".join(text)))
    if strip and out and out[-1].text.endswith(" "):
        last = out[-1]
        out[-1] = replace(last, text=last.text.rstrip(" "))
        if not out[-1].text:
            out.pop()
    return out


def _cut(items: list[Run], start: int, end: int) -> list[Run]:
    """The runs covering characters start…end of their joined text, stripped at both ends."""
    piece: list[Run] = []
    offset = 0
    for run in items:
        a, b = max(start, offset), min(end, offset + len(run.text))
        if a < b:
            piece.append(replace(run, text=run.text[a - offset : b - offset]))
        offset += len(run.text)
    return _flattened(piece)


def prose(text: str, markup: MarkupKind = "text", words: int = READING_WORDS) -> list[list[Run]]:
    """The paragraph as reading paragraphs of runs (`words=0`: never cut)."""
    items = _flattened(runs(text, markup))
    flat = "".join(run.text for run in items)
    if not flat:
        return []
    cuts = [0, *(reading_breaks(flat, words) if words else []), len(flat)]
    pieces = [_cut(items, a, b) for a, b in zip(cuts, cuts[1:], strict=False)]
    return [piece for piece in pieces if piece]


def bullets(text: str, markup: MarkupKind = "text") -> list[list[Run]]:
    """The points of a bullet-list paragraph as runs each, or [] when it is not a list (the
    templates then show it with `prose`)."""
    return [_flattened(runs(point, markup)) for point in bullet_points(text, markup)]


def _as_runs(value: str | Sequence[Run], markup: MarkupKind) -> list[Run]:
    if isinstance(value, str):  # a piece of a sentence, maybe: its outer spaces are kept
        return _flattened(runs(value, markup), strip=False)
    return list(value)


def _linker(track: Callable[..., str] | None, kind: str, item: int | None, label: str) -> Link:
    def link(url: str) -> str:
        if track is None or not url.lower().startswith(("http:", "https:")):
            return url
        return str(track(url, kind, item, label))

    return link


def html_of(items: Sequence[Run], link: Link) -> Markup:
    """Runs as HTML: escaped text in <a href>, <strong>, <em>, <code>; consecutive runs of one
    link share one <a>."""
    out: list[str] = []
    open_href: str | None = None
    for run in items:
        if run.href != open_href:
            if open_href is not None:
                out.append("</a>")
            if run.href is not None:
                out.append(f'<a href="{escape(link(run.href))}">')
            open_href = run.href
        text = str(escape(run.text))
        if run.code:
            text = f"<code>{text}</code>"
        if run.em:
            text = f"<em>{text}</em>"
        if run.strong:
            text = f"<strong>{text}</strong>"
        out.append(text)
    if open_href is not None:
        out.append("</a>")
    return Markup("".join(out))  # noqa: S704 - every piece above is escaped or a fixed tag


def text_of(items: Sequence[Run], link: Link) -> str:
    """Runs as plain text: the words without emphasis markers, a link as `text (URL)` (the URL
    alone when the text is the URL, as in an autolink)."""
    out: list[str] = []
    index = 0
    while index < len(items):
        href = items[index].href
        end = index + 1
        while href is not None and end < len(items) and items[end].href == href:
            end += 1
        words = "".join(run.text for run in items[index:end])
        if href is None:
            out.append(words)
        elif words.strip() in (href, href.removeprefix("mailto:")):
            out.append(words if href.startswith("mailto:") else link(href))
        else:
            out.append(f"{words} ({link(href).removeprefix('mailto:')})")
        index = end
    return "".join(out)


def inline_html(
    value: str | Sequence[Run],
    track: Callable[..., str] | None = None,
    kind: str = "other",
    item: int | None = None,
    label: str = "",
    markup: MarkupKind = "text",
) -> Markup:
    """The `inline` filter of the HTML templates (a text argument is read with `markup`)."""
    return html_of(_as_runs(value, markup), _linker(track, kind, item, label))


def inline_text(
    value: str | Sequence[Run],
    track: Callable[..., str] | None = None,
    kind: str = "other",
    item: int | None = None,
    label: str = "",
    markup: MarkupKind = "text",
) -> str:
    """The `inline` filter of the text templates."""
    return text_of(_as_runs(value, markup), _linker(track, kind, item, label))


def required_text(text: str, markup: MarkupKind, part: str = "html") -> str:
    """What an edition must show of `text`: its visible words, or for the text part
    (`part="text"`) its plain-text rendering with each http(s) link's URL as URL_HOLE, since the
    URL there is the reader's own tracked redirect."""
    if "\n\n" in text:  # a summary of several paragraphs (or lists): each as shown
        return " ".join(required_text(block, markup, part) for block in text.split("\n\n"))
    points = bullet_points(text, markup)
    if points:  # a list: its points one after the other, each after a "- " in the text part
        bullet = "- " if part == "text" else ""
        return " ".join(bullet + required_text(point, markup, part) for point in points)
    items = _flattened(runs(text, markup))
    if part == "text":
        return text_of(items, lambda url: url if url.startswith("mailto:") else URL_HOLE)
    return "".join(run.text for run in items)
