"""Text from bytes whose charset nobody labelled, or labelled wrong: a Japanese reader's phone
writes the subject in raw Shift_JIS with no RFC 2047 word and the body with no Content-Type,
an old Korean webmail sends EUC-KR under "us-ascii", a gateway strips the label. Read as
Windows-1252 (the old default) "自動応答" became "Ž©“®‰ž“š": the partner could not read it and
the judgement could not see the out-of-office label.

The charset is detected by chardet (already a dependency of clevercsv; chardet 7 tells the
East Asian multi-byte charsets apart on a subject of a few characters, where charset-normalizer
guessed CP949 for Shift_JIS), with two guards a short sample needs:
- Western European text is what most readers write, and its code pages read alike for most
  accented letters: Windows-1252 is kept when the detector rates it close to its first choice
  ("Hélène complète" is not read as Windows-1250 "Hélčne";
- a reading that mixes Latin letters with another script in one word ("Fravжr") is no
  reading: the next candidate is tried.
"""

from __future__ import annotations

import unicodedata

import chardet
from chardet import EncodingEra

# Western European code pages: one family for the "close to the first choice" rule.
_WESTERN = frozenset({"cp1252", "iso8859-1", "iso8859-15", "latin-1", "latin1", "windows-1252"})
_CLOSE = 0.8  # Windows-1252 rated at least this share of the first choice's confidence
_SAMPLE = 8_000  # bytes the detector reads and the reading is checked on: a reply's own words


def detected(data: bytes) -> str | None:
    """`data` read in the charset it was most likely written in, or None when it is plain ASCII
    or no candidate gives a plausible text. Valid UTF-8 is UTF-8."""
    encoding = encoding_of(data)
    return None if encoding is None else data.decode(encoding)


def encoding_of(data: bytes) -> str | None:
    """The charset `data` was most likely written in (one that reads all of it, plausibly), or
    None when it is plain ASCII or none does. Valid UTF-8 is UTF-8."""
    escaped = b"\x1b" in data  # ISO-2022-JP and its kin: 7-bit, valid UTF-8, not UTF-8
    if data.isascii() and not escaped:
        return None
    if not escaped:
        try:
            data.decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            pass
    for encoding in _candidates(data[:_SAMPLE]):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if plausible(text[:_SAMPLE]):
            return encoding
    return None


def _candidates(data: bytes) -> list[str]:
    """The detector's encodings, most likely first, Windows-1252 first when it is close."""
    found = chardet.detect_all(
        data,
        ignore_threshold=True,
        encoding_era=EncodingEra.MODERN_WEB,
        prefer_superset=True,
        compat_names=False,
    )
    ranked = [(str(r["encoding"]), float(r["confidence"] or 0)) for r in found if r["encoding"]]
    if not ranked:
        return []
    top = ranked[0][1]
    western = next((c for e, c in ranked if e.lower() in _WESTERN), None)
    names = [e for e, _ in ranked]
    if western is not None and western >= top * _CLOSE:
        names.insert(0, "cp1252")
    return names


def as_text(data: bytes, declared: str | None = None) -> str:
    """`data` as text: UTF-8 when valid, else in its `declared` charset when that reads it,
    else the detected charset, else Windows-1252 (every byte reads)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass
    found = detected(data)
    return found if found is not None else data.decode("cp1252", "replace")


def _script(char: str) -> str:
    """The script a letter belongs to, by its Unicode name's first word (LATIN, CYRILLIC…)."""
    try:
        return unicodedata.name(char).split(" ", 1)[0]
    except ValueError:
        return ""


def plausible(text: str) -> bool:
    """Whether a decoding reads as someone's text: no control characters, no replacement marks,
    and no word that mixes Latin letters with letters of another script (a wrong single-byte
    code page turns "Fravær" into "Fravжr")."""
    if "\ufffd" in text:
        return False
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in text):
        return False
    for word in text.split():
        scripts = {_script(c) for c in word if c.isalpha()}
        if "LATIN" in scripts and len(scripts) > 1:
            return False
    return True
