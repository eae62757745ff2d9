"""How much of a message's text the judgement reads: its first MAX_TEXT_CHARS characters (the
body, each part, all its parts together), in lines of at most MAX_LINE_CHARS.

The reader's words and a mail system's notice come first. The rules that read a message's lines
cost time that grows faster than a line's length (one line of 2 MB of spaces or dots took
minutes to judge), and a message may carry 25 MiB of text: bounded, every rule's work is.
"""

from __future__ import annotations

import re

__all__ = ["MAX_HTML_CHARS", "MAX_LINE_CHARS", "MAX_TEXT_CHARS", "bounded_text"]

MAX_TEXT_CHARS = 100_000
MAX_LINE_CHARS = 1_000  # RFC 5322 lines are at most 998 characters; decoded text may run longer
MAX_HTML_CHARS = 1_000_000  # of an HTML part converted to text

_LONG_LINE = re.compile(rf"[^\n]{{{MAX_LINE_CHARS + 1},}}")
# A long line's pieces: up to MAX_LINE_CHARS characters ending at a space when there is one.
_PIECE = re.compile(rf"[^\n]{{1,{MAX_LINE_CHARS - 1}}}(?:[ \t]|$)|[^\n]{{1,{MAX_LINE_CHARS}}}")


def bounded_text(text: str) -> str:
    """The first MAX_TEXT_CHARS characters of `text`, a line longer than MAX_LINE_CHARS broken
    into lines that are not (at a space when there is one): what every rule reads, in time that
    grows with the text's length only."""
    text = _LONG_LINE.sub(lambda m: "\n".join(_PIECE.findall(m.group(0))), text[:MAX_TEXT_CHARS])
    return text[:MAX_TEXT_CHARS]
