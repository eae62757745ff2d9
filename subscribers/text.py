"""One-line text from people: the one control-character class and the one cleaner.

Names, tags, header values and form fields come from people and files anyone can write. A control
character in one can end a header line and start another (CR, LF), is refused by PostgreSQL (NUL),
or rewrites a terminal (ESC), so every layer uses this class: C0 (including TAB, CR and LF), DEL,
C1 (including NEL, U+0085) and the Unicode line and paragraph separators (U+2028, U+2029). The
mailer imports it from here because `subscribers` never imports `mailer`.
"""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control_characters(text: str) -> bool:
    """Whether `text` holds a control character (see the module docstring for which)."""
    return CONTROL_CHARACTERS.search(text) is not None


def one_line(text: str, limit: int | None = None) -> str:
    """`text` on one line: each control character becomes a space, runs of white space fold into
    one, the ends are trimmed; then cut to `limit` characters when given."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", text).split())[:limit]


def counted(n: int, word: str, plural: str | None = None) -> str:
    """`1 item`, `2 items`, `0 items`: a count with its noun in the right number (`plural` for
    nouns that do not just take an s, e.g. `addresses`)."""
    return f"{n} {word if n == 1 else plural or word + 's'}"
