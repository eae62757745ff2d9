"""A campaign's two bodies (text and HTML), quoted-printable, for one recipient at a time.

Per campaign, each body is made a stencil (rendering/stencil.py) and every line that holds no
recipient's value is encoded once; per message only the few lines with a hole are filled and
encoded (`qp_line`), and the bytes joined. Quoted-printable encodes each line on its own, so the
result is byte for byte what encoding the whole Jinja fill gives — which is checked, per shape of
recipient, against the Jinja fill of two unlike sample recipients (escaping, characters
quoted-printable must escape, a leading dot, soft breaks); a template or shape that fails the
check, or a value holding a line break, goes the Jinja way (`Personalizer.render`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from markupsafe import escape

from mailer.rendering.email_edition import Personal, Personalizer
from mailer.rendering.stencil import shape
from mailer.sending.quoted_printable import LineStart, QuotedPrintable, qp_line

_OPEN, _CLOSE = "\ue000", "\ue001"  # around a hole's number while the lines are split
_MARKED = re.compile(f"{_OPEN}([0-9]+){_CLOSE}")

Values = dict[str, Any]
_UNKNOWN: Any = object()
_ESCAPED = re.compile("[&<>\"']")  # what markupsafe.escape replaces


class EncodedBody:
    """One body for recipients of one shape: runs of shared lines as encoded bytes, and between
    them, as `str.format` templates, the lines that hold a hole."""

    def __init__(self, pieces: list[str]) -> None:
        keys = pieces[1::2]
        if any(_OPEN in p or _CLOSE in p for p in pieces[::2]):
            raise ValueError("a static piece holds a hole marker")
        marked = "".join(
            p if n % 2 == 0 else f"{_OPEN}{n // 2}{_CLOSE}" for n, p in enumerate(pieces)
        )
        # As QuotedPrintable.encode splits a body: CR and CRLF are line ends too; the values put
        # in the holes hold neither (`PersonalBodies` checks), so this commutes with filling.
        if "\r" in marked:
            marked = marked.replace("\r\n", "\n").replace("\r", "\n")
        lines = marked.split("\n")
        if lines[-1] == "":
            lines.pop()
        chunks: list[bytes | tuple[Callable[[bytes], bytes], str]] = []
        shared: list[bytes] = []
        for line in lines:
            if _OPEN not in line:
                shared.append(qp_line(line.encode("utf-8") + b"\r\n"))
                continue
            if shared:
                chunks.append(b"".join(shared))
                shared = []
            start, *parts = _MARKED.split(line)
            rest = "".join(
                f"{{{keys[int(p)]}}}" if n % 2 == 0 else p.replace("{", "{{").replace("}", "}}")
                for n, p in enumerate(parts)
            )
            # What precedes the first value is encoded now (LineStart); the rest per message.
            chunks.append((LineStart(start.encode("utf-8")).line, rest))
        if shared:
            chunks.append(b"".join(shared))
        self.chunks = tuple(chunks)

    def fill(self, values: Values) -> bytes:
        """The encoded body for a recipient's values (escaped already for an HTML body); each
        value non-empty, with no CR, LF or NUL (LineStart's condition)."""
        out = []
        for chunk in self.chunks:
            if isinstance(chunk, bytes):
                out.append(chunk)
            else:
                line, rest = chunk
                out.append(line(rest.format_map(values).encode() + b"\r\n"))
        return b"".join(out)


def html_values(values: Values) -> Values:
    """The values as an autoescaping Jinja environment prints them (markupsafe.escape)."""
    return {
        k: tuple(str(escape(x)) for x in v) if isinstance(v, tuple) else str(escape(v))
        for k, v in values.items()
    }


def _samples(values: Values) -> list[Values]:
    """Two recipients of the same shape as `values` and unlike each other or any real one: markup
    and quotes to escape, "=", a leading dot, non-ASCII, runs of spaces, braces, soft breaks."""

    def sample(make: Callable[[str], str]) -> Values:
        return {
            k: tuple(make(f"{k}{n}") for n in range(len(v)))
            if isinstance(v, tuple)
            else (make(k) if v else "")
            for k, v in values.items()
        }

    return [
        sample(lambda k: f".{k} <b>\"x\" & 'y' = {{z}} é"),
        sample(lambda k: f"{k}=.x  " + "Ωé =" * 30 + "."),
    ]


class PersonalBodies:
    """Both bodies of one campaign, encoded per recipient: by stencil where it reproduces the
    Jinja fill, by `Personalizer.render` otherwise."""

    def __init__(self, personalizer: Personalizer, *, stencils: bool = True) -> None:
        """`stencils=False`: always the Jinja way (the reference the tests and bench compare)."""
        self.personalizer = personalizer
        self._qp = QuotedPrintable()  # the Jinja way's line cache
        self._bodies: dict[tuple[int, ...], tuple[EncodedBody, EncodedBody] | None] = {}
        self._stencils = stencils

    def encode(self, values: Values) -> tuple[bytes, bytes]:
        """(text, HTML) quoted-printable for one recipient; `values` as `asdict(Personal)`."""
        key = shape(values)
        bodies = self._bodies.get(key, _UNKNOWN)
        if bodies is _UNKNOWN:
            stencils = self.personalizer.stencils(values) if self._stencils else None
            bodies = self._bodies[key] = stencils and self._verified(stencils, values)
        if bodies is not None:
            # Every value in one string: a value with a line break or NUL, or an empty item of
            # a tuple, goes the Jinja way (EncodedBody.fill's condition); with nothing HTML
            # escapes, the HTML values are the values themselves.
            joined = "".join([v if v.__class__ is str else "".join(v) for v in values.values()])
            clean = "\n" not in joined and "\r" not in joined and "\0" not in joined
            if clean and all(all(v) for v in values.values() if v.__class__ is tuple):
                text, html = bodies  # type: ignore[misc]
                escaped = _ESCAPED.search(joined) is not None
                return text.fill(values), html.fill(html_values(values) if escaped else values)
        html_text, text_text = self.personalizer.render(Personal(**values))
        return self._qp.encode(text_text), self._qp.encode(html_text)

    def by_stencil(self) -> dict[tuple[int, ...], bool]:
        """Per shape of recipient met so far: whether its bodies come from stencils."""
        return {key: bodies is not None for key, bodies in self._bodies.items()}

    def _verified(
        self, stencils: tuple[list[str], list[str]], values: Values
    ) -> tuple[EncodedBody, EncodedBody] | None:
        """The encoded bodies, if they give the Jinja way's bytes for two sample recipients."""
        html_pieces, text_pieces = stencils
        text, html = EncodedBody(text_pieces), EncodedBody(html_pieces)
        for sample in _samples(values):
            html_text, text_text = self.personalizer.render(Personal(**sample))
            reference = QuotedPrintable()
            if text.fill(sample) != reference.encode(text_text):
                return None
            if html.fill(html_values(sample)) != reference.encode(html_text):
                return None
        return text, html
