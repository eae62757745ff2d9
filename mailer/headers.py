"""Header-safe text and addresses: what every message we build (campaigns, confirmations,
forwarded inquiries) puts in its headers.

Header values that come from data (subscriber names, the subject, the partner's name) pass through
`clean_header_text`, which turns every control character into a space, so no value can end a header
line and start another; non-ASCII display names are RFC 2047-encoded (`phrase`). Addresses are
checked, never repaired (`check_address`). Python 3.11's folding mishandles some quoted names, so
display names are quoted or encoded here rather than left to the email package.

Address headers (From, To, Reply-To) are built whole by `mailbox_header`: a display name that is
not plain words is a quoted string kept on one line, or (non-ASCII) RFC 2047 encoded words folded
here between words; the folded result is parsed back and must name exactly the one address we
meant, otherwise the bare address is used. So a name holding commas, quotes, `<addr>` or 300
characters can never turn one mailbox into two, on any Python version.
"""

from __future__ import annotations

import base64
import re
from email import policy as email_policy
from email.header import Header
from email.utils import getaddresses
from urllib.parse import quote

from mailer.errors import ComposeError
from mailer.filenames import download_name
from subscribers.text import one_line, without_format_characters

CRLF = "\r\n"
MAX_NAME = 200

_SPECIALS = re.compile(r'[][\\()<>@,:;".]')
_ADDR_FORBIDDEN = re.compile(r'[\x00-\x20\x7f<>()\[\],;:"\\]')


def clean_header_text(value: str, limit: int = MAX_NAME) -> str:
    """A value safe inside one header: control characters (CR, LF, NUL…) become spaces, and
    invisible format characters (a bidi override that makes a name read backwards) go, even
    from a value stored before the subscribers' doors dropped them."""
    return one_line(without_format_characters(value), limit)


def unstructured(value: str, limit: int = MAX_NAME) -> str:
    """A Subject (or other unstructured header) from data: one line (`clean_header_text`), and
    each `=?` written with a zero-width space between, so no text reads as an RFC 2047 encoded
    word. Python 3.11's email package decodes an encoded word inside a value it is given and
    writes the CR LF it holds as a new header line (CVE-2024-6923): a title or a client's
    subject holding `=?utf-8?q?=0D=0ABcc:_x@example.org?=` added a Bcc header. The space is
    invisible, and decoders never decode twice, so the subject still reads as written."""
    return clean_header_text(value, limit).replace("=?", "=\u200b?")


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
    """`Name <addr>` (or the bare address) for header `header_name`: see `mailbox_value`."""
    return mailbox_value(name, addr, header_name)


_PLAIN_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+/?^_`{|}~ -]+")
# Dot-atoms of letters, digits, "_", "+" and "-" at a domain of letter-digit-hyphen labels: what
# nearly every reader's address looks like, and an address behind which both parsers take a quoted
# or encoded display name exactly (tests/test_headers.py checks it with generated names and
# addresses). `mailbox_value` skips its parse-back for it: the result is the same, and the
# standard library's parser costs more than the rest of a campaign message (~100 µs).
_SIMPLE_ADDRESS = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
_WORD_BYTES = 39  # UTF-8 bytes per encoded word: "=?utf-8?b?" + 52 base64 characters + "?="
# A word a display name may carry as it is (RFC 5322 atext), unless it looks like an encoded word.
_ATEXT_WORD = re.compile(r"[A-Za-z0-9!#$%&'*+/?^_`{|}~-]+")


def encoded_words(name: str) -> list[str]:
    """`name` as RFC 2047 base64 encoded words of at most 64 characters, split between
    characters (an encoded word may not split a UTF-8 sequence), after a space where one
    falls in the word's reach, so that no parser shows a space inside a word."""
    return [
        f"=?utf-8?b?{base64.b64encode(chunk.encode('utf-8')).decode('ascii')}?="
        for chunk in _chunks(name)
    ]


def _chunks(text: str) -> list[str]:
    chunks: list[str] = []
    chunk, size = "", 0
    for char in text:
        width = len(char.encode("utf-8"))
        if size + width > _WORD_BYTES:
            cut = chunk.rfind(" ") + 1  # keep the space in the word before: RFC 2047 §6.2
            if not 0 < cut < len(chunk):
                cut = len(chunk)
            chunks.append(chunk[:cut])
            chunk = chunk[cut:]
            size = len(chunk.encode("utf-8"))
        chunk += char
        size += width
    if chunk:
        chunks.append(chunk)
    return chunks


def phrase_words(name: str) -> list[str]:
    """A display name (one line, single spaces) as the words of an RFC 5322 phrase: each word
    of atext stays as written, each run of other words becomes encoded words.

    Why not encode it whole: Python's structured parser (3.11, `email.policy.default`) shows a
    space between any two adjacent encoded words, where RFC 2047 §6.2 shows none, so a name
    cut into encoded words mid-word reads "Security Ch atter" to one and right to the other.
    Between an encoded word and a plain word both keep the space, so only a run of non-atext
    words longer than one encoded word is still cut, after a space (shown doubled by Python).
    """
    pieces: list[str] = []
    run: list[str] = []
    for word in name.split(" "):
        if "=?" not in word and _ATEXT_WORD.fullmatch(word):
            if run:
                pieces += encoded_words(" ".join(run))
                run = []
            pieces.append(word)
        else:
            run.append(word)
    if run:
        pieces += encoded_words(" ".join(run))
    return pieces


def folded(words: list[str], used: int) -> str:
    """`words` joined by spaces, folded (CRLF SP) before a word that would take a line past 78
    characters (RFC 5322 §2.1.1); `used` counts what precedes them on the first line."""
    lines: list[str] = []
    line = ""
    for word in words:
        if line and used + len(line) + 1 + len(word) > 78:
            lines.append(line)
            line, used = word, 1
        else:
            line = f"{line} {word}" if line else word
    return (CRLF + " ").join([*lines, line])


def mailbox_value(name: str, addr: str, header_name: str = "From") -> str:
    """The value of an address header naming exactly one mailbox, folded with CRLF SP.

    Plain words stay as they are; other ASCII names become one quoted string on one line (no
    folding at all); non-ASCII names and names holding "=?" become encoded words, folded between
    words. The folded value is checked by parsing it back (unless `addr` is of the simple form
    for which the check always passes); a value that does not name exactly `addr` falls back to
    the bare address.
    """
    addr = check_address(addr)
    name = clean_header_text(name, limit=300)
    if not name:
        return addr
    if _PLAIN_NAME.fullmatch(name):
        return f"{name} <{addr}>"  # words of atext and an address check_address accepted
    if name.isascii() and "=?" not in name:
        # One quoted string on one line (at most ~330 octets of the 998 allowed): never folded.
        value = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + f'" <{addr}>'
    else:
        value = folded([*phrase_words(name), f"<{addr}>"], len(header_name) + 2)
    if _SIMPLE_ADDRESS.fullmatch(addr):
        return value
    return value if names_exactly(value, addr) else addr


def mailbox_header(header_name: str, name: str, addr: str) -> str:
    """A whole header field, `Name: value` CRLF, naming exactly one mailbox (see above)."""
    return f"{header_name}: {mailbox_value(name, addr, header_name)}{CRLF}"


def names_exactly(value: str, addr: str) -> bool:
    """Whether a (folded) address header value names exactly one mailbox, `addr`.

    Checked twice: by the standard library's structured parser and by `getaddresses`, the way
    mail clients split a header into addresses.
    """
    unfolded = value.replace(CRLF, "")
    parsed = email_policy.SMTP.header_factory("From", unfolded)
    found = [a.addr_spec.lower() for a in getattr(parsed, "addresses", ())]
    simple = [a.lower() for _, a in getaddresses([unfolded])]
    return found == [addr.lower()] and simple == [addr.lower()] and not parsed.defects


def fold_structured(name: str, value: str) -> str:
    """Policy-based folding for values computed once per campaign (exact, slower)."""
    header = email_policy.SMTP.header_factory(name, value)
    if header.defects:
        raise ComposeError(f"{name} header {value!r}: {header.defects[0]}")
    return header.fold(policy=email_policy.SMTP)


# RFC 5987 attr-char beyond letters and digits: what a filename*= value keeps unescaped.
ATTR_CHAR_PUNCTUATION = "!#$&+-.^_`|~"


def content_disposition(name: str, kind: str = "attachment") -> str:
    """The Content-Disposition value of an HTTP response that saves `name` (RFC 6266): an
    ASCII `filename="…"` for every client (a character it cannot carry becomes "_"), and, when
    that is not `name` itself, `filename*=UTF-8''…` (RFC 5987 percent-encoding), which current
    browsers prefer. `name` is cleaned by `download_name` first, so no quote, path or line
    break reaches the header (mailer/filenames.py)."""
    name = download_name(name, "download")
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    value = f'{kind}; filename="{fallback}"'
    if fallback != name:
        value += "; filename*=UTF-8''" + quote(name, safe=ATTR_CHAR_PUNCTUATION)
    return value
