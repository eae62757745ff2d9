"""The shape of an inbound message's bytes, counted before parsing: how many MIME parts and
header fields it holds, how long its fields are, and the limits beyond which it is refused
(`UnreadableMessage`) rather than parsed. The standard library parses and walks MIME recursively
and reads some fields in time that grows with the square of their length, so hostile mail is
measured here, on the raw bytes, where nothing it holds can cost more than a linear scan.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from mailer.errors import MailerError

MAX_MULTIPARTS = 200  # multipart containers in one message; deeper or wider is refused
MAX_MIME_PARTS = 1_000  # parts of any kind (attachments included) in one message; more is refused
# Header fields read in one message, its parts' and attached messages' headers included, and of
# one name in one header: real mail has a few dozen (a long thread's Received, a few hundred);
# tens of thousands make every header lookup slow and the forward huge. Counted on the bytes.
MAX_HEADER_FIELDS = 10_000
MAX_SAME_FIELD = 1_000
# Bytes of one header field (its folded lines included) and of all the message's headers: the
# standard library parses a field in time that grows with the square of its length (a 200 KB
# Subject or From took 30 to 60 s to read). A long thread's References (a hundred Message-IDs)
# fits in a field; a message's headers and its attached messages' rarely pass 50 KB.
MAX_FIELD_BYTES = 8_000
MAX_HEADER_BYTES = 256_000
# Bytes of one Content-Type or Content-Disposition field: the parser reads their parameters
# slowest of all (7,900 bytes of quote marks: 0.6 s a parse); a real one is under 200 bytes, a
# long non-ASCII file name in RFC 2231 form under 2,000.
MAX_MIME_FIELD_BYTES = 2_000
MULTIPART = re.compile(rb"^content-type:[ \t]*multipart/", re.I | re.M)
_BOUNDARY = re.compile(rb"""boundary[ \t]*=[ \t]*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))""", re.I)
# A header field's start (its name and colon at the start of a line; a folded line starts with
# white space), the end of a header block, and a Content-Type field with its folded lines.
_FIELD_START = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:", re.M)
_BLOCK_END = re.compile(rb"\n\r?\n")
_CONTENT_TYPE = re.compile(rb"^content-type[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)", re.I | re.M)
_MIME_FIELD = re.compile(
    rb"^(content-(?:type|disposition))[ \t]*:[^\n]*(?:\n[ \t][^\n]*)*", re.I | re.M
)


class UnreadableMessage(MailerError):
    """The message cannot be judged safely (nested too deep, for example); it is kept as failed."""


@dataclass(frozen=True)
class Shape:
    """What a message's bytes hold, counted before parsing (`shape`)."""

    parts: int  # body parts its multiparts open (attachments included)
    fields: int  # header fields, in every header it has (parts' and attached messages' too)
    most_repeated: str  # the field name written most often in one header ("" if none)
    repeats: int  # how often
    longest: str = ""  # the name of the longest header field
    longest_bytes: int = 0  # its length, folded lines included
    header_bytes: int = 0  # of every header together
    longest_mime: str = ""  # the longest Content-Type or Content-Disposition field's name
    longest_mime_bytes: int = 0  # its length, folded lines included


def shape(raw: bytes) -> Shape:
    """Count a message's parts and header fields on its bytes, walking its structure as the
    parser will: a header block (up to the first empty line), then, when its Content-Type is
    multipart, the parts its boundary's delimiter lines open (each one a header block and a
    body, up to the next delimiter), and when it is message/*, the message in its body.

    A boundary is read only from a multipart Content-Type field: a `boundary=` in another field,
    in a text part's Content-Type or in the body text splits nothing (the parser splits on it no
    more; counting its lines as parts refused plain messages). A flat multipart of 50,000
    one-byte attachments, or a header of 50,000 fields, is counted in one pass over the bytes,
    never parsed (that took minutes)."""
    parts = fields = repeats = longest_bytes = header_bytes = mime_bytes = 0
    most = longest = mime = ""
    todo = [(0, len(raw))]  # (start, end) of a header block and its body; a stack, no recursion
    while todo:
        start, end = todo.pop()
        block, body = header_block(raw, start, end)
        names = Counter(m.lower() for m in _FIELD_START.findall(block))
        fields += sum(names.values())
        header_bytes += len(block)
        name, size = _longest_field(block)
        if size > longest_bytes:
            longest, longest_bytes = name, size
        name, size = _longest_mime_field(block)
        if size > mime_bytes:
            mime, mime_bytes = name, size
        if names:
            name, count = names.most_common(1)[0]
            if count > repeats:
                most, repeats = name.decode("ascii", "replace"), count
        ctype = _content_type(block)
        kind = ctype.lower()
        if kind.startswith(b"message/"):
            todo.append((body, end))
        elif kind.startswith(b"multipart/"):
            opened = _part_spans(raw, body, end, ctype)
            parts += len(opened)
            todo.extend(reversed(opened))
    return Shape(
        parts, fields, most, repeats, longest, longest_bytes, header_bytes, mime, mime_bytes
    )


def header_fields(block: bytes) -> list[tuple[bytes, int, int]]:
    """(name, start, end) of each field of a header block, folded lines included; what comes
    before the first field (an mbox "From " line, or anything) is a field named b"" too."""
    found = [(m.group(1), m.start()) for m in _FIELD_START.finditer(block)]
    if not found or found[0][1] > 0:
        found.insert(0, (b"", 0))
    ends = [start for _, start in found[1:]] + [len(block)]
    return [(name, start, end) for (name, start), end in zip(found, ends, strict=True)]


def _longest_field(block: bytes) -> tuple[str, int]:
    """The name and length of a header block's longest field (folded lines included)."""
    if len(block) <= MAX_FIELD_BYTES:  # the common case: no field can be too long
        return "", 0
    name, start, end = max(header_fields(block), key=lambda f: f[2] - f[1])
    return name.decode("ascii", "replace"), end - start


def _longest_mime_field(block: bytes) -> tuple[str, int]:
    """The name (as written) and length of a header block's longest Content-Type or
    Content-Disposition field, folded lines included; ("", 0) when it has none."""
    if len(block) <= MAX_MIME_FIELD_BYTES:  # the common case: none can be too long
        return "", 0
    found = max(_MIME_FIELD.finditer(block), key=lambda m: m.end() - m.start(), default=None)
    if found is None:
        return "", 0
    return found.group(1).decode("ascii", "replace"), found.end() - found.start()


def header_block(raw: bytes, start: int, end: int) -> tuple[bytes, int]:
    """The header block at `start` (up to its empty line, before `end`) and where its body
    starts; a part that starts with an empty line has no header."""
    if raw.startswith((b"\n", b"\r\n"), start):
        return b"", raw.index(b"\n", start) + 1
    found = _BLOCK_END.search(raw, start, end)
    if found is None:
        return raw[start:end], end
    return raw[start : found.start() + 1], found.end()


def _content_type(block: bytes) -> bytes:
    """The first Content-Type field's value (the one the parser reads), unfolded; b"" when
    there is none."""
    found = _CONTENT_TYPE.search(block)
    return b" ".join(found.group(1).split()) if found else b""


def _part_spans(raw: bytes, start: int, end: int, ctype: bytes) -> list[tuple[int, int]]:
    """(start, end) of each part a multipart body (raw[start:end]) opens with the boundary its
    Content-Type value `ctype` declares, up to the closing delimiter (or `end`)."""
    found = _BOUNDARY.search(ctype)
    if found is None:
        return []
    boundary = found.group(1) or found.group(2)  # as written: compared case-sensitively
    delimiter = re.compile(rb"^--" + re.escape(boundary) + rb"(--)?[ \t]*\r?$", re.M)
    spans: list[tuple[int, int]] = []
    for line in delimiter.finditer(raw, start, end):
        if spans:
            spans[-1] = (spans[-1][0], line.start())
        if line.group(1):  # the closing delimiter
            return spans
        spans.append((min(line.end() + 1, end), end))
    return spans


def mime_parts(raw: bytes) -> int:
    """How many body parts the message's multiparts open, counted on the bytes (`shape`)."""
    return shape(raw).parts


def header_problem(found: Shape) -> str:
    """Why a message with this shape is not read (too many header fields, in all or of one
    name in one header), "" when it is within MAX_HEADER_FIELDS and MAX_SAME_FIELD."""
    if found.fields > MAX_HEADER_FIELDS:
        return (
            f"the message has {found.fields:,} header fields, more than the "
            f"{MAX_HEADER_FIELDS:,} we read: not forwarded"
        )
    if found.longest_bytes > MAX_FIELD_BYTES:
        return (
            f"the message has a header field ({found.longest or 'unnamed'}) of "
            f"{found.longest_bytes:,} bytes, longer than the {MAX_FIELD_BYTES:,} we read: "
            "not forwarded"
        )
    if found.longest_mime_bytes > MAX_MIME_FIELD_BYTES:
        return (
            f"the message has a {found.longest_mime} field of {found.longest_mime_bytes:,} "
            f"bytes, longer than the {MAX_MIME_FIELD_BYTES:,} we read for a MIME field: not "
            "forwarded"
        )
    if found.header_bytes > MAX_HEADER_BYTES:
        return (
            f"the message's headers take {found.header_bytes:,} bytes, more than the "
            f"{MAX_HEADER_BYTES:,} we read: not forwarded"
        )
    if found.repeats > MAX_SAME_FIELD:
        return (
            f"the message has {found.repeats:,} header fields named {found.most_repeated!r} in "
            f"one header, more than the {MAX_SAME_FIELD:,} of one name we read: not forwarded"
        )
    return ""
