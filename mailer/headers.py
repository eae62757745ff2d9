"""Header-safe text and addresses: what every message we build (campaigns, confirmations,
forwarded inquiries) puts in its headers.

Header values that come from data (subscriber names, the subject, the partner's name) pass through
`clean_header_text`, which turns every control character into a space, so no value can end a header
line and start another; non-ASCII display names are RFC 2047-encoded (`phrase`). Addresses are
checked, never repaired (`check_address`). Python 3.11's folding mishandles some quoted names, so
display names are quoted or encoded here rather than left to the email package.
"""

from __future__ import annotations

import re
from email import policy as email_policy
from email.header import Header

from mailer.errors import ComposeError
from subscribers.text import one_line

CRLF = "\r\n"
MAX_NAME = 200

_SPECIALS = re.compile(r'[][\\()<>@,:;".]')
_ADDR_FORBIDDEN = re.compile(r'[\x00-\x20\x7f<>()\[\],;:"\\]')


def clean_header_text(value: str, limit: int = MAX_NAME) -> str:
    """A value safe inside one header: control characters (CR, LF, NUL…) become spaces."""
    return one_line(value, limit)


def check_address(addr: str) -> str:
    """`addr` as it may appear in a header and an SMTP command; ComposeError if it cannot.

    The domain is IDNA-encoded; a non-ASCII local part would need SMTPUTF8, which we do not use.
    """
    local, at, domain = addr.strip().rpartition("@")
    if not at or not local or not domain or "@" in local or _ADDR_FORBIDDEN.search(addr.strip()):
        raise ComposeError(f"not a usable email address: {addr!r}")
    if not local.isascii():
        raise ComposeError(f"address {addr!r}: a non-ASCII local part is not supported")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ComposeError(f"address {addr!r}: invalid domain") from exc
    return f"{local}@{domain}"


def phrase(name: str, header_name: str) -> str:
    """A display name as it goes before `<addr>` in header `header_name` (quoted or RFC 2047)."""
    if not name:
        return ""
    # Parsers decode "=?…?=" even inside quotes, so such a name is encoded to be shown as typed.
    if name.isascii() and "=?" not in name:
        if _SPECIALS.search(name):
            return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return name
    return Header(name, "utf-8", header_name=header_name).encode(linesep=CRLF, maxlinelen=75)


def mailbox(name: str, addr: str, header_name: str) -> str:
    """`Name <addr>` (or the bare address) for header `header_name`, the name made header-safe."""
    shown = phrase(clean_header_text(name), header_name)
    return f"{shown} <{addr}>" if shown else addr


def fold_structured(name: str, value: str) -> str:
    """Policy-based folding for values computed once per campaign (exact, slower)."""
    header = email_policy.SMTP.header_factory(name, value)
    if header.defects:
        raise ComposeError(f"{name} header {value!r}: {header.defects[0]}")
    return header.fold(policy=email_policy.SMTP)


def safe_filename(name: str, default: str = "issue.pdf") -> str:
    """`name` fit for `Content-Disposition: …; filename="…"` in an HTTP response: ASCII letters,
    digits, dot, underscore and hyphen only (no quote, slash or line break can survive), or
    `default` when nothing is left."""
    cleaned = "".join(c for c in name if c.isascii() and (c.isalnum() or c in "._-"))
    return cleaned or default
