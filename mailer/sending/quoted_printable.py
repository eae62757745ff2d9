"""Quoted-printable (RFC 2045 §6.7) as the composer writes it: CRLF line ends, each line already
in DKIM's relaxed body canonical form and in SMTP's wire form (see `qp_line`).

Quoted-printable encodes each line independently, which is what lets a campaign encode the lines
every message shares once (`QuotedPrintable`'s cache, sending/bodies.py's stencils) and per message
only the lines that carry a recipient's values.
"""

from __future__ import annotations

import binascii
import re

_SPACE_RUN = re.compile(rb" {2,}")


def qp_line(line: bytes) -> bytes:
    """Quoted-printable (RFC 2045 §6.7) of one line ending in CRLF, already in DKIM's relaxed
    body canonical form (RFC 6376 §3.4.4) and in SMTP's wire form (RFC 5321 §4.5.2): no tab and
    no run of spaces in any line, (as binascii writes it) no whitespace at a line's end, and no
    line that starts with ".".

    binascii leaves tabs and runs of spaces literal (HTML indentation, an indented list in the
    text part) and a dot at the start of a line or of a soft-broken piece; those become =09,
    " =20=20…" and =2E here, and the line is soft-broken again. The decoded text is the same
    either way. Being canonical as written lets the DKIM body hash run over the message's own
    bytes, and with no line to dot-stuff the same bytes go to the relay (see Composer.compose).
    """
    return canonical(binascii.b2a_qp(line, istext=True))


def canonical(encoded: bytes) -> bytes:
    """`qp_line`'s second half: binascii's encoding of a line made canonical (see there)."""
    if not _needs_fixing(encoded):
        return encoded
    # A literal "=" is always =3D, so "=\r\n" is a soft break: undo them, fix, break again.
    lines, last = _break(_logical(encoded[:-2]))
    lines.append(last)
    return b"\r\n".join(lines) + b"\r\n"


def _needs_fixing(encoded: bytes) -> bool:
    # bytes.find rather than `in`: for bytes, `sub in data` first tries `sub` as an integer and
    # builds, formats and discards a TypeError before it searches (CPython 3.11), three times
    # the search's cost on a line; this runs for every personal line of every message.
    return (
        encoded.find(b"\t") >= 0
        or encoded.find(b"  ") >= 0
        or encoded.find(b"\n.") >= 0
        or encoded.startswith(b".")
    )


def _logical(encoded: bytes) -> bytes:
    """binascii's encoding without its soft breaks, tabs and runs of spaces escaped."""
    logical = encoded.replace(b"=\r\n", b"").replace(b"\t", b"=09")
    return _SPACE_RUN.sub(lambda m: b" " + b"=20" * (len(m[0]) - 1), logical)


def _break(logical: bytes) -> tuple[list[bytes], bytes]:
    """The soft-broken pieces of a logical line, and what is left once 76 characters or fewer
    are (a dot that starts a piece escaped)."""
    lines: list[bytes] = []
    while True:
        if logical.startswith(b"."):  # at the start of the line or of a soft-broken piece
            logical = b"=2E" + logical[1:]
        if len(logical) <= 76:
            return lines, logical
        cut = 75  # 75 characters and the soft break's "=", never inside an =XX escape
        if logical[cut - 1] == 0x3D:
            cut -= 1
        elif logical[cut - 2] == 0x3D:
            cut -= 2
        lines.append(logical[:cut] + b"=")
        logical = logical[cut:]


class QuotedPrintable:
    """Quoted-printable with CRLF line ends, remembering the encoding of lines already seen.

    Quoted-printable encodes each line independently, and all but the few lines that carry a
    recipient's name or links are identical in every message of a campaign: caching encoded lines
    turns the per-message cost from encoding ~55 KB into a few dictionary look-ups. Every line is
    written by `qp_line`, so the output is its own DKIM relaxed canonical form and needs no
    dot-stuffing.
    """

    def __init__(self, *, max_entries: int = 1024) -> None:
        # Two generations: a line seen a second time is one every message shares and stays;
        # lines seen once (a recipient's name, links, tokens) churn and are dropped in bulk,
        # so personal lines never push the shared ones out.
        self._shared: dict[str, bytes] = {}
        self._recent: dict[str, bytes] = {}
        self._max = max_entries

    def encode(self, text: str) -> bytes:
        """The encoded text, ending in CRLF (the next boundary's own)."""
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        if len(self._recent) > self._max:
            self._recent.clear()
        if len(self._shared) > 4 * self._max:  # a pathological campaign: start afresh
            self._shared.clear()
        get, miss = self._shared.get, self._miss
        return b"".join([get(line) or miss(line) for line in lines])

    def _miss(self, line: str) -> bytes:
        """A line not shared (yet): seen once before, it becomes shared; else it is encoded."""
        entry = self._recent.pop(line, None)
        if entry is not None:
            self._shared[line] = entry
            return entry
        entry = self._recent[line] = qp_line(line.encode("utf-8") + b"\r\n")
        return entry


class LineStart:
    """The part of a line before its first recipient's value, encoded once per campaign.

    binascii encodes left to right, and what it writes for a character depends only on the
    characters before it through the length of the current output line (where it breaks), and on
    the next character only when that is a line end, a NUL or nothing. So for a line `start +
    rest` whose rest begins with another character, `b2a_qp(start + rest)` is the encoding of the
    start, then that of the rest written from the same column — which is what encoding the rest
    behind as many "x" as that column gives, the x's cut off (76 columns never break before the
    76th). Per message only the rest is encoded: `qp_line(start + rest) == line(rest)`.
    """

    def __init__(self, start: bytes) -> None:
        if b"\r" in start or b"\n" in start:
            raise ValueError("a line start holds a line end")
        encoded = binascii.b2a_qp(start + b"x\r\n", istext=True)
        head = encoded[:-3]  # "x" is never escaped and, being last, ends the line
        if head.endswith(b"=\r\n"):  # the soft break binascii put before the "x"
            head = head[:-3]
        self.encoded = head
        self.pad = b"x" * (len(head) - head.rfind(b"\n") - 1)  # the column the rest starts at
        # A start that binascii writes with a tab, a run of spaces or a dot after a break makes
        # every such line take `canonical`'s second way, which is greedy from the line's start
        # too: the pieces that lie wholly in the start are broken now, the rest per message.
        self._broken: bytes | None = None
        self._tail = b""
        if _needs_fixing(head):
            pieces, self._tail = _break(_logical(head))
            self._broken = b"".join(piece + b"\r\n" for piece in pieces)

    def line(self, rest: bytes) -> bytes:
        """`qp_line(start + rest)`, for a `rest` ending in CRLF that starts with another
        character than CR, LF or NUL."""
        rest_encoded = binascii.b2a_qp(self.pad + rest, istext=True)[len(self.pad) :]
        if self._broken is None or rest[0] in b" \t":  # (a run of spaces across the two)
            return canonical(self.encoded + rest_encoded)
        lines, last = _break(self._tail + _logical(rest_encoded[:-2]))
        lines.append(last)
        return self._broken + b"\r\n".join(lines) + b"\r\n"
