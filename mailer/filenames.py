"""One file name from data: the PDF edition's name becomes a path (`mailer issue preview`) and
every message's attachment `filename=`, so it must be one path component wherever it goes.

`file_name_problem` is the rule import checks (pure, for an error message naming the field);
`file_name` applies the same rule where a name is used, as defence in depth for names stored
before the rule (or arriving by another door). Plain `re`/`unicodedata`, so reading an issue stays
cheap to import.
"""

from __future__ import annotations

import re
import unicodedata

MAX_FILE_NAME = 200

# Characters that cannot stand in one file name somewhere the file goes: the path separators, and
# what Windows (where most readers save attachments) refuses.
_FILE_NAME_FORBIDDEN = frozenset('/\\:*?"<>|')


def file_name_problem(name: str) -> str | None:
    """Why `name` cannot be one file name, or None. A file name is one path component: no
    separator or Windows-refused character, no control or format character (a right-to-left
    override shows `report\u202efdp.exe` as `reportexe.pdf`), no `..`, no dot at either end."""
    if not name.strip():
        return "it is empty"
    bad = sorted({c for c in name if c in _FILE_NAME_FORBIDDEN})
    if bad:
        return "it holds " + " ".join(bad) + " (which make it a path, or which Windows refuses)"
    if any(unicodedata.category(c).startswith("C") or c in "\u2028\u2029" for c in name):
        return "it holds a control or invisible formatting character"
    if ".." in name or name.startswith(".") or name.endswith("."):
        return "it holds `..`, or starts or ends with a dot"
    return None


def file_name(name: str, default: str = "issue.pdf", limit: int = MAX_FILE_NAME) -> str:
    """`name` made one safe file name, for a path we write (`issue preview`) or an attachment's
    `filename=` (the campaign's PDF). Its extension is kept; in the rest, what
    `file_name_problem` refuses is replaced by `-` (a separator or refused character) or dropped
    (control and format characters), runs of dots become one and dots, spaces and hyphens at
    either end go; `default` when nothing is left. Import refuses such names, so this only ever
    changes a name stored before it did (or set by another door)."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not ext.isalnum():
        stem, ext = name, ""
    kept = "".join(
        "-" if c in _FILE_NAME_FORBIDDEN else c
        for c in stem
        if not unicodedata.category(c).startswith("C") and c not in "\u2028\u2029"
    )
    kept = re.sub(r"\.{2,}", ".", " ".join(kept.split())).strip(". -")
    if not kept:
        return default
    whole = kept[: limit - len(ext) - 1].rstrip(". -") + (f".{ext}" if ext else "")
    return whole if file_name_problem(whole) is None else default
