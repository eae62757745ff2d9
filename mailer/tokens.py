"""Signed tokens for the addresses and links in sent mail.

A token travels in `reply+TOKEN@`, `bounces+TOKEN@` and `unsubscribe+TOKEN@` addresses and in
`/u/TOKEN` URLs, so it has to survive what mail systems do to local parts: some lower-case them,
some choke on anything but letters, digits and a few punctuation marks. Hence a token is only
`[a-z0-9]` plus one `-` separator: the payload (a base36 integer or lower-case base32 bytes),
`-`, and a lower-case base32 HMAC-SHA256 truncated to 80 bits. A delivery id up to 10^12 gives
25 characters.

The MAC input names the purpose and the payload's type, so a token minted for one purpose (a
delivery) can never be replayed as another (a future subscription confirmation), even with one key.
Verification tries every key of `settings.verification_secrets()`, so rotating the key keeps links
in mail already sent working.
"""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import re
from collections.abc import Iterable
from email.message import Message
from typing import Literal, overload

from mailer.errors import TokenError

SEPARATOR = "-"
MAC_BYTES = 10  # 80 bits: 16 base32 characters, no padding
MAC_CHARS = 16
ADDRESS_KINDS = ("reply", "bounces", "unsubscribe")
DELIVERY = "delivery"
TEST_COPY = "test-copy"  # the token of a [TEST] copy: no delivery behind it

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_B36_RE = re.compile(r"0|[1-9a-z][0-9a-z]*")
_B32_RE = re.compile(r"[a-z2-7]*")
_MAC_RE = re.compile(r"[a-z2-7]{16}")
_PURPOSE_RE = re.compile(r"[a-z][a-z0-9_.-]*")


def _b36(n: int) -> str:
    if n < 0:
        raise TokenError(f"cannot sign a negative number ({n})")
    if n == 0:
        return "0"
    out = []
    while n:
        n, r = divmod(n, 36)
        out.append(_B36[r])
    return "".join(reversed(out))


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


_B32_PAIRS = [
    a + b for a in "abcdefghijklmnopqrstuvwxyz234567" for b in "abcdefghijklmnopqrstuvwxyz234567"
]


def _mac_text(mac: bytes) -> str:
    """`_b32(mac[:10])`: the 80-bit MAC as 16 base32 characters (no padding), ten bits at a
    time from a table, about twice as fast as the standard library's pure-Python base32 (a token
    per link per recipient adds up)."""
    n = int.from_bytes(mac[:MAC_BYTES], "big")
    t = _B32_PAIRS
    return (
        t[n >> 70]
        + t[(n >> 60) & 1023]
        + t[(n >> 50) & 1023]
        + t[(n >> 40) & 1023]
        + t[(n >> 30) & 1023]
        + t[(n >> 20) & 1023]
        + t[(n >> 10) & 1023]
        + t[n & 1023]
    )


def _unb32(text: str) -> bytes:
    padded = text.upper() + "=" * (-len(text) % 8)
    return base64.b32decode(padded)


def _encode_payload(payload: int | bytes) -> tuple[str, str]:
    """The payload as token text, and a type tag that goes into the MAC input."""
    if isinstance(payload, bool):  # bool is an int; a bool payload is a caller's mistake
        raise TypeError("token payload must be int or bytes, not bool")
    if isinstance(payload, int):
        return "i", _b36(payload)
    if isinstance(payload, bytes):
        if not payload:
            raise TokenError("cannot sign an empty payload")
        return "b", _b32(payload)
    raise TypeError(f"token payload must be int or bytes, not {type(payload).__name__}")


def _mac(purpose: str, kind: str, text: str, secret: str) -> str:
    if not _PURPOSE_RE.fullmatch(purpose):
        raise ValueError(f"token purpose must be a lower-case word, got {purpose!r}")
    msg = b"mailer-token\x00" + purpose.encode() + b"\x00" + kind.encode() + b"\x00" + text.encode()
    return _mac_text(hmac.new(secret.encode(), msg, hashlib.sha256).digest())


def sign(purpose: str, payload: int | bytes, secret: str) -> str:
    """A token for `payload` (an int ≥ 0 or non-empty bytes), valid only for `purpose`."""
    kind, text = _encode_payload(payload)
    return f"{text}{SEPARATOR}{_mac(purpose, kind, text, secret)}"


@overload
def verify(
    purpose: str, token: str, secrets: Iterable[str], kind: Literal["int"] = "int"
) -> int: ...
@overload
def verify(purpose: str, token: str, secrets: Iterable[str], kind: Literal["bytes"]) -> bytes: ...
def verify(
    purpose: str, token: str, secrets: Iterable[str], kind: Literal["int", "bytes"] = "int"
) -> int | bytes:
    """The payload of a token made by `sign(purpose, …)` under any of `secrets`.

    Case-insensitive (mail servers may upper- or lower-case local parts); raises TokenError on a
    token that is malformed, truncated, altered, made for another purpose or under an unknown key.
    """
    if not isinstance(token, str) or len(token) > 200:
        raise TokenError("invalid token")
    token = token.lower()
    text, sep, mac = token.partition(SEPARATOR)
    if not sep or not _MAC_RE.fullmatch(mac):
        raise TokenError("invalid token")
    tag = "i" if kind == "int" else "b"
    pattern = _B36_RE if kind == "int" else _B32_RE
    if not text or not pattern.fullmatch(text):
        raise TokenError("invalid token")
    keys = list(secrets)
    if not keys:
        raise TokenError("no key to verify the token with")
    # Compare against every key (no early exit) so timing does not reveal which key matched.
    ok = False
    for key in keys:
        ok |= hmac.compare_digest(_mac(purpose, tag, text, key), mac)
    if not ok:
        raise TokenError("invalid token")
    if kind == "int":
        return int(text, 36)
    try:
        return _unb32(text)
    except ValueError as exc:  # a length no encoder produces: cannot carry a valid MAC anyway
        raise TokenError("invalid token") from exc


class Minter:
    """`sign(purpose, n, secret)` for many integers under one purpose and key, cheaply.

    The HMAC state after the fixed prefix of the MAC input (the purpose and the type tag) is
    computed once; each token then costs one copy and one update of that state, which is what
    lets a message carry a signed link per link of the issue (see `click_payload`)."""

    def __init__(self, purpose: str, secret: str) -> None:
        if not _PURPOSE_RE.fullmatch(purpose):
            raise ValueError(f"token purpose must be a lower-case word, got {purpose!r}")
        prefix = b"mailer-token\x00" + purpose.encode() + b"\x00i\x00"
        self._state = hmac.new(secret.encode(), prefix, hashlib.sha256)

    def sign(self, payload: int) -> str:
        """The same token as `sign(purpose, payload, secret)`."""
        text = _b36(payload)
        mac = self._state.copy()
        mac.update(text.encode())
        return f"{text}{SEPARATOR}{_mac_text(mac.digest())}"


# A tracked link names the delivery and the link's index in the campaign's link table, packed
# into one integer so that it is signed like any other token (one MAC, ~25 characters).
CLICK = "click"
OPEN = "open"
LINK_SLOTS = 256  # links per issue a click token can name (the renderer refuses more)


def click_payload(delivery_id: int, link_index: int) -> int:
    """The integer a click token signs: delivery id and link index together."""
    if not 0 <= link_index < LINK_SLOTS:
        raise ValueError(f"link index {link_index} is outside 0..{LINK_SLOTS - 1}")
    return delivery_id * LINK_SLOTS + link_index


def parse_click_token(token: str, secrets: Iterable[str]) -> tuple[int, int]:
    """(delivery id, link index) of a click token; TokenError if altered or forged."""
    return divmod(verify(CLICK, token, secrets, "int"), LINK_SLOTS)


def digest(purpose: str, data: str, secret: str, chars: int = 8) -> str:
    """A short keyed digest in `[a-z2-7]`, for identifiers that must not be guessable."""
    return _mac(purpose, "d", data, secret)[:chars]


class Digester:
    """`digest(purpose, data, secret, chars)` for many `data` under one purpose and key, with the
    HMAC state after the fixed prefix computed once (as `Minter`): a Message-ID per message."""

    def __init__(self, purpose: str, secret: str, chars: int = 8) -> None:
        if not _PURPOSE_RE.fullmatch(purpose):
            raise ValueError(f"token purpose must be a lower-case word, got {purpose!r}")
        prefix = b"mailer-token\x00" + purpose.encode() + b"\x00d\x00"
        self._state = hmac.new(secret.encode(), prefix, hashlib.sha256)
        self._chars = chars

    def digest(self, data: str) -> str:
        """The same digest as `digest(purpose, data, secret, chars)`."""
        mac = self._state.copy()
        mac.update(data.encode())
        return _mac_text(mac.digest())[: self._chars]


def delivery_token(delivery_id: int, secret: str) -> str:
    """The token that identifies one delivery (one message to one subscriber)."""
    return sign(DELIVERY, delivery_id, secret)


def parse_delivery_token(token: str, secrets: Iterable[str]) -> int:
    """The delivery id in `token`; TokenError if it was altered or forged."""
    return verify(DELIVERY, token, secrets, "int")


def is_test_copy_token(token: str, secrets: Iterable[str]) -> bool:
    """Whether `token` is a [TEST] copy's (signed for TEST_COPY, not for a delivery): its links
    and addresses name no delivery and no subscription, and the pages and the inbound server say
    so rather than calling it forged."""
    try:
        verify(TEST_COPY, token, secrets, "int")
    except TokenError:
        return False
    return True


def address(kind: str, token: str, domain: str) -> str:
    """`kind+TOKEN@domain` for one of ADDRESS_KINDS."""
    if kind not in ADDRESS_KINDS:
        raise ValueError(f"unknown address kind {kind!r}")
    return f"{kind}+{token}@{domain}"


def reply_address(token: str, domain: str) -> str:
    return address("reply", token, domain)


def bounce_address(token: str, domain: str) -> str:
    return address("bounces", token, domain)


def unsubscribe_address(token: str, domain: str) -> str:
    return address("unsubscribe", token, domain)


def parse_address(addr: str, domain: str | None = None) -> tuple[str, str]:
    """`("bounces", TOKEN)` from `bounces+TOKEN@domain` (case-insensitive, `<…>` allowed).

    Only splits the address: the token is returned lower-cased but unverified (use
    `parse_delivery_token`). With `domain`, an address at any other domain is refused.
    """
    a = addr.strip()
    if a.startswith("<") and a.endswith(">"):
        a = a[1:-1]
    local, at, dom = a.rpartition("@")
    if not at or not local:
        raise TokenError(f"not one of our addresses: {addr!r}")
    if domain is not None and dom.lower().rstrip(".") != domain.lower().rstrip("."):
        raise TokenError(f"not one of our addresses (domain is not {domain}): {addr!r}")
    kind, plus, token = local.partition("+")
    kind = kind.lower()
    if not plus or kind not in ADDRESS_KINDS or not token:
        raise TokenError(f"not one of our addresses: {addr!r}")
    return kind, token.lower()


# The Message-ID of a delivery: `<cCAMPAIGN.dDELIVERY.TAG@domain>`, TAG a keyed digest of the
# campaign and the delivery. It is the one identifier of a delivery that a forger cannot read off
# the mail the reader received and show us: the VERP return path, the reply+ address and the
# List-Unsubscribe link reach whoever sees the message's headers, and reports about the message
# (bounces, complaints) are what would act on the reader. A mail system returns the Message-ID
# with the original it reports on; so a report that carries it is about the message we sent.
MESSAGE_ID = "message-id"
MESSAGE_ID_CHARS = 8  # 40 bits: a forger must guess it blind, one report per guess
_OUR_MESSAGE_ID = re.compile(
    r"<?\bc(\d{1,15})\.d(\d{1,15})\.([a-z2-7]{8,16})@([a-z0-9.-]{1,253})>?", re.I
)


class MessageIds:
    """The Message-IDs of one campaign's messages under one key, with the HMAC state after the
    fixed prefix computed once (as `Minter`): one digest per message sent."""

    def __init__(self, campaign_id: int, secret: str, domain: str) -> None:
        self.campaign_id = campaign_id
        self.domain = domain
        self._digester = Digester(MESSAGE_ID, secret, MESSAGE_ID_CHARS)

    def tag(self, name: str) -> str:
        """The digest over `CAMPAIGN:name` (`dN` for a delivery, `tN[.SEND]` for a test copy)."""
        return self._digester.digest(f"{self.campaign_id}:{name}")

    def delivery(self, delivery_id: int) -> str:
        """The same Message-ID as `delivery_message_id(campaign, delivery_id, secret, domain)`."""
        name = f"d{delivery_id}"
        return f"<c{self.campaign_id}.{name}.{self.tag(name)}@{self.domain}>"


def delivery_message_id(campaign_id: int, delivery_id: int, secret: str, domain: str) -> str:
    """The Message-ID (with angle brackets) of the message sent as delivery `delivery_id`."""
    return MessageIds(campaign_id, secret, domain).delivery(delivery_id)


def parse_message_id(value: str, secrets: Iterable[str]) -> int | None:
    """The delivery id a Message-ID of ours names, when its digest verifies under one of
    `secrets` (every key, no early exit, as `verify`); None for anyone else's, a test copy's,
    or one altered by a single character."""
    match = _OUR_MESSAGE_ID.fullmatch(value.strip())
    if match is None:
        return None
    return _verified(match, list(secrets))


def _verified(match: re.Match[str], keys: list[str]) -> int | None:
    campaign_id, delivery_id, tag = match.group(1), match.group(2), match.group(3).lower()
    if len(tag) != MESSAGE_ID_CHARS or not keys:
        return None
    ok = False
    for key in keys:
        ok |= hmac.compare_digest(digest(MESSAGE_ID, f"{campaign_id}:d{delivery_id}", key), tag)
    return int(delivery_id) if ok else None


def our_message_ids(
    raw_or_message: bytes | str | Message, secrets: Iterable[str]
) -> tuple[int, ...]:
    """The deliveries whose signed Message-ID a report carries, verified, in order of
    appearance, once each.

    Read everywhere a report can hold the original's Message-ID (or References / In-Reply-To,
    which name it too): the headers of an attached message/rfc822 or text/rfc822-headers part, a
    DSN's or an ARF report's text, an original pasted into the body, in any transfer encoding.
    Only the digest decides, never where it was found: a Message-ID is ours when it verifies.
    """
    keys = list(secrets)
    found: dict[int, None] = {}
    for text in _texts(raw_or_message):
        for match in _OUR_MESSAGE_ID.finditer(text):
            delivery_id = _verified(match, keys)
            if delivery_id is not None:
                found.setdefault(delivery_id, None)
    return tuple(found)


def _texts(raw_or_message: bytes | str | Message) -> Iterable[str]:
    """The report as text: its bytes as received, then each part decoded (a base64 or
    quoted-printable original hides its headers from the first)."""
    if isinstance(raw_or_message, str):
        yield raw_or_message
        return
    if isinstance(raw_or_message, bytes):
        yield raw_or_message.decode("latin-1")
        try:
            msg = email.message_from_bytes(raw_or_message)
        except Exception:  # noqa: BLE001 - an unparsable report still had its bytes read
            return
    else:
        msg = raw_or_message
        try:
            whole = msg.as_string()
        except Exception:  # noqa: BLE001 - its parts below are read one by one
            whole = ""
        yield whole
    yield from _decoded_parts(msg)


def _decoded_parts(msg: Message) -> Iterable[str]:
    """Each leaf part with a transfer encoding, decoded; at most 1,000 parts (as
    shape.MAX_MIME_PARTS), and none past a nesting the standard library cannot walk."""
    decoded: list[str] = []
    try:
        for count, part in enumerate(msg.walk(), 1):
            if count > 1_000:
                break
            if part.is_multipart() or not part.get("Content-Transfer-Encoding"):
                continue
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                decoded.append(payload.decode("latin-1"))
    except RecursionError:  # nested deeper than the parser walks: what was read so far
        pass
    return decoded
