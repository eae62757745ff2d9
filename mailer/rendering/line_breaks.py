"""Line breaking shared by the layouts of one print: WeasyPrint's `split_first_line`, memoised.

A fitted print lays the issue out again with tighter spacing between blocks (pdf_edition.py's
`fit-1` and `fit-2` change only margins and paddings): every paragraph is broken into the same
lines at the same width, and Pango's shaping of those lines is about a third of a layout. While
`shared_line_breaks()` is active in a thread, a call WeasyPrint's inline layout (or its
preferred-width code) makes that it has already made during the same print is answered from
memory; within one layout too (a page laid out again to honour a break rule).

The memory is keyed by everything the function reads: the text, the available width, the
justification spacing and its two flags, the font configuration, and the style values it reads,
which are the inherited properties (fonts, language, spacing, hyphenation, white space; a text
box inherits all of them from its element) and `text-decoration-line`. A tighter variant that
changes the font size (`fit-3`) or the line height (`fit-2`) has other keys, and is broken anew.
Each caller gets its own copy of the Pango layout object that comes back (it is deactivated, and
WeasyPrint reactivates and mutates it when drawing).

WeasyPrint has no public hook for this: the wrapper is installed only over the function with
the parameters it was written against, in both modules that call it, and is otherwise left out
(the layouts then simply run in full). Tests compare the printed bytes with and without it.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_PARAMETERS = [
    "text",
    "style",
    "context",
    "max_width",
    "justification_spacing",
    "is_line_start",
    "minimum",
]

# The memory of the print running in this thread (None: no print is sharing).
_memory: ContextVar[_Memory | None] = ContextVar("line_breaks", default=None)


class _Memory:
    """One print's answers, and each style object's key (styles are shared by many boxes)."""

    def __init__(self, names: tuple[str, ...]):
        self.names = names
        self.answers: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.styles: dict[int, tuple[Any, str]] = {}
        self.hits = 0

    def style_key(self, style: Any) -> str:
        known = self.styles.get(id(style))
        if known is None or known[0] is not style:  # the style is kept: its id stays its own
            values = (id(style.font_config), *(style[name] for name in self.names))
            known = self.styles[id(style)] = (style, repr(values))
        return known[1]


def _install() -> tuple[str, ...] | None:
    """Wrap WeasyPrint's split_first_line where its layout calls it; the style properties to
    key by, or None when this WeasyPrint is not the one the wrapper was written for."""
    from weasyprint.css.properties import INHERITED
    from weasyprint.layout import inline, preferred
    from weasyprint.text import line_break

    original: Callable[..., tuple[Any, ...]] = line_break.split_first_line
    if (
        list(inspect.signature(original).parameters) != _PARAMETERS
        or getattr(inline, "split_first_line", None) is not original
        or getattr(preferred, "split_first_line", None) is not original
    ):
        return None

    def split_first_line(
        text: str,
        style: Any,
        context: Any,
        max_width: float | None,
        justification_spacing: float,
        is_line_start: bool = True,
        minimum: bool = False,
    ) -> tuple[Any, ...]:
        memory = _memory.get()
        args = (text, style, context, max_width, justification_spacing, is_line_start, minimum)
        if memory is None:
            return original(*args)
        style_key = memory.style_key(style)
        key = (text, style_key, max_width, justification_spacing, is_line_start, minimum)
        answer = memory.answers.get(key)
        if answer is None:
            answer = memory.answers[key] = original(*args)
        else:
            memory.hits += 1
        layout, *rest = answer
        return (copy.copy(layout), *rest)

    inline.split_first_line = split_first_line  # type: ignore[attr-defined]
    preferred.split_first_line = split_first_line  # type: ignore[attr-defined]
    return tuple(sorted(INHERITED | {"text_decoration_line"}))


_NAMES: tuple[str, ...] | None = None
_INSTALLED = False


@contextmanager
def shared_line_breaks() -> Iterator[None]:
    """Within the block, this thread's layouts share their line breaks (see the module)."""
    global _NAMES, _INSTALLED
    if not _INSTALLED:
        _NAMES, _INSTALLED = _install(), True
    if _NAMES is None:
        yield
        return
    token = _memory.set(_Memory(_NAMES))
    try:
        yield
    finally:
        _memory.reset(token)
