"""File names from data, ours and other people's, each made one path component wherever it goes.

Ours is the PDF edition's name: it becomes a path (`mailer issue preview`) and every message's
attachment `filename=`. Other people's are an inquiry's attachments, listed and served under the
name their sender gave them. One cleaning rule serves both, in one place: `download_name` (someone
else's name: its base name, nothing invisible, a bounded length with the extension kept) is the
building block of `file_name` (our own name: the same, then what `file_name_problem` refuses for a
name we publish replaced or dropped).

`file_name_problem` is the rule import checks (pure, for an error message naming the field);
`file_name` applies the same rule where a name is used, as defence in depth for names stored
before the rule (or arriving by another door). Plain `re`/`unicodedata` (and subscribers.text),
so reading an issue stays cheap to import.
"""

from __future__ import annotations

import re
import unicodedata

from subscribers.text import CONTROL_CHARACTERS, one_line

MAX_FILE_NAME = 200
MAX_DOWNLOAD_NAME = 150

# Characters that cannot stand in one file name somewhere the file goes: the path separators, and
# what Windows (where most readers save attachments) refuses.
_FILE_NAME_FORBIDDEN = frozenset('/\\:*?"<>|')
PATH_SEPARATORS = re.compile(r"[/\\]")


def _invisible(char: str) -> bool:
    """Whether `char` is a control or other invisible character (Unicode category C: controls,
    format characters such as the bidi overrides, surrogates, private use and unassigned code
    points), or a line or paragraph separator (U+2028, U+2029)."""
    return unicodedata.category(char).startswith("C") or char in "\u2028\u2029"


def file_name_problem(name: str) -> str | None:
    """Why `name` cannot be one file name, or None. A file name is one path component: no
    separator or Windows-refused character, no control or format character (a right-to-left
    override shows `report\u202efdp.exe` as `reportexe.pdf`), no `..`, no dot at either end."""
    if not name.strip():
        return "it is empty"
    bad = sorted({c for c in name if c in _FILE_NAME_FORBIDDEN})
    if bad:
        return "it holds " + " ".join(bad) + " (which make it a path, or which Windows refuses)"
    if any(_invisible(c) for c in name):
        return "it holds a control or invisible formatting character"
    if ".." in name or name.startswith(".") or name.endswith("."):
        return "it holds `..`, or starts or ends with a dot"
    return None


def download_name(name: str, default: str, limit: int = MAX_DOWNLOAD_NAME) -> str:
    """A file name someone else chose (an email attachment's), fit to show and to save: its
    base name (what follows the last / or \\), NFC-normalised, each control character a space
    (runs folded), without the other invisible characters (a right-to-left override can make
    "gpj.exe" read "exe.jpg"; private-use and unassigned code points show as nothing or as
    anything), no leading or trailing dots and spaces (no "..", no hidden file), at most `limit`
    characters with its extension kept; `default` when nothing is left."""
    base = PATH_SEPARATORS.split(unicodedata.normalize("NFC", name))[-1]
    base = "".join(c for c in base if not _invisible(c) or CONTROL_CHARACTERS.match(c))
    base = one_line(base).strip(" .")  # the control characters become spaces here
    if len(base) > limit:
        stem, dot, ext = base.rpartition(".")
        keep = dot + ext if dot and stem and len(ext) <= 16 else ""
        base = (stem if keep else base)[: limit - len(keep)].rstrip(" .") + keep
    return base or default


def file_name(name: str, default: str = "issue.pdf", limit: int = MAX_FILE_NAME) -> str:
    """`name` made one safe file name of ours, for a path we write (`issue preview`) or an
    attachment's `filename=` (the campaign's PDF). Its extension is kept; the rest gets
    `download_name`'s cleaning, except that a path separator or a character Windows refuses
    becomes `-` first (a stored path stays readable, `tmp-x.pdf`, rather than cut to its last
    part); then runs of dots become one and dots, spaces and hyphens go at either end; `default`
    when nothing is left. Import refuses such names, so this only ever changes a name stored before
    it did (or set by another door)."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not ext.isalnum():
        stem, ext = name, ""
    joined = "".join("-" if c in _FILE_NAME_FORBIDDEN else c for c in stem)
    kept = download_name(joined, "", limit - len(ext) - 1)
    kept = re.sub(r"\.{2,}", ".", kept).strip(". -")
    if not kept:
        return default
    whole = kept + (f".{ext}" if ext else "")
    return whole if file_name_problem(whole) is None else default
