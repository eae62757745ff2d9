"""One-line text from people: the one control-character class and the one cleaner.

Names, tags, header values and form fields come from people and files anyone can write. A control
character in one can end a header line and start another (CR, LF), is refused by PostgreSQL (NUL),
or rewrites a terminal (ESC), so every layer uses this class: C0 (including TAB, CR and LF), DEL,
C1 (including NEL, U+0085) and the Unicode line and paragraph separators (U+2028, U+2029). The
mailer imports it from here because `subscribers` never imports `mailer`.

Invisible Unicode format characters (bidi overrides, zero-width spaces) are not refused but
dropped (`without_format_characters`): they come with text pasted from elsewhere, and a name is
still a name without them.
"""

from __future__ import annotations

import re
import unicodedata

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control_characters(text: str) -> bool:
    """Whether `text` holds a control character (see the module docstring for which)."""
    return CONTROL_CHARACTERS.search(text) is not None


# Zero-width non-joiner and joiner: format characters that Persian, the Indic scripts and emoji
# sequences need between two of their characters, and that nothing needs next to ASCII.
_JOINERS = frozenset("\u200c\u200d")


def _script_character(char: str) -> bool:
    """A visible non-ASCII character, next to which a joiner may mean something."""
    return not char.isascii() and unicodedata.category(char) != "Cf"


def without_format_characters(text: str) -> str:
    """`text` without Unicode format characters (category Cf), which are invisible: the bidi
    overrides, embeddings and isolates (U+202A-U+202E, U+2066-U+2069) reorder how the rest is
    shown (`\u202emoc.live@` reads as `@evil.com`), and zero-width spaces and marks (U+200B,
    U+200E, U+200F, U+2060, U+FEFF) make two different names look alike. The joiners U+200C and
    U+200D are kept between two non-ASCII characters, where the scripts that use them need them."""
    if text.isascii():
        return text
    return "".join(
        char
        for i, char in enumerate(text)
        if unicodedata.category(char) != "Cf" or _joining(text, i)
    )


def _joining(text: str, i: int) -> bool:
    """Whether `text[i]` is a joiner between two visible non-ASCII characters."""
    return (
        text[i] in _JOINERS
        and 0 < i < len(text) - 1
        and all(_script_character(c) for c in (text[i - 1], text[i + 1]))
    )


def one_line(text: str, limit: int | None = None) -> str:
    """`text` on one line: each control character becomes a space, runs of white space fold into
    one, the ends are trimmed; then cut to `limit` characters when given."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", text).split())[:limit]


def counted(n: int, word: str, plural: str | None = None) -> str:
    """`1 item`, `2 items`, `0 items`: a count with its noun in the right number (`plural` for
    nouns that do not just take an s, e.g. `addresses`)."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


_ENDS_A_SENTENCE = (".", "!", "?", "…")
_CLOSERS = "\"'”’)]»"


def sentence(text: str) -> str:
    """`text` (trimmed) ending in one full stop: one is added unless it already ends a sentence.

    Messages end with a name or another message more often than it seems ("from Miranda Delphi
    Solutions, S.C.", "must have an @-sign."), and appending "." blindly doubles the stop. A
    closing quote or bracket after the stop counts as the end too."""
    text = text.rstrip()
    if text.rstrip(_CLOSERS).endswith(_ENDS_A_SENTENCE):
        return text
    return text + "."
