"""DKIM signing (RFC 6376) of composed messages: rsa-sha256, and ed25519-sha256 (RFC 8463) too.

Configured by MAILER_DKIM_KEY_FILE / _SELECTOR / _DOMAIN (RSA, required for signing) and, to add
an Ed25519 signature, MAILER_DKIM_ED25519_KEY_FILE / _ED25519_SELECTOR (same d= domain).

What is signed: relaxed/relaxed canonicalisation; the signature covers every header a receiver
or a one-click unsubscriber relies on (`SIGNED_HEADERS`); From, Subject, Reply-To and both
List-Unsubscribe headers are "oversigned" (named once more than they occur, RFC 6376 §5.4.2), so
nobody can add a copy — a second, or a first where the message had none — without breaking the
signature.

Two signatures: RFC 8463 §6 lets a signer add one signature per algorithm, each under its own
selector and the same d=, and prescribes no order; RFC 6376 §6.1 leaves the order in which
signatures are tried to the verifier. We put the RSA signature first (topmost) and the Ed25519
one after it: RSA is the one every verifier understands, so a verifier that only tries the
topmost signature (as dkimpy's `verify()` does by default) still finds a valid one. Ed25519 is
never the only signature — most receivers do not verify it yet — so it needs the RSA settings.

Why not `dkim.sign()`, or dkimpy at all on this path: it parses the whole message back, runs
regular expressions over every header and the whole body, and (its own RSA) costs ~16 ms per
130 KB message. Here the cost of a signature is its cryptographic operation plus the SHA-256 of
the body, and little else:

- the body hash comes from the Composer, which writes bodies that are already in relaxed
  canonical form (see compose.py) and hashes the shared prefix once per campaign;
- headers are never parsed back: the Composer hands over its header fields as it wrote them,
  each canonicalised here by `relaxed_header` (a cached result for the fields every message
  shares);
- everything constant per campaign — the h= list, which fields it selects in which order, the
  v/a/c/d/s/q tags already folded, their canonical form — is computed once per header layout;
- per message: the t=, bh= and b= tags, one join, and the signature by OpenSSL (via
  cryptography).

Tests verify every signature with dkimpy's `dkim.verify`, as a receiving server would, and check
this module's canonicalisation against dkimpy's on generated input.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
import time
from binascii import b2a_base64
from collections.abc import Callable, Sequence
from operator import itemgetter
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from mailer.errors import ConfigError
from mailer.settings import Settings

SIGNED_HEADERS: tuple[bytes, ...] = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"list-archive",
    b"precedence",
    b"mime-version",
    b"content-type",
)
OVERSIGNED: tuple[bytes, ...] = (
    b"from",
    b"subject",
    b"reply-to",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)
RSA_SHA256 = b"rsa-sha256"
ED25519_SHA256 = b"ed25519-sha256"
_HEADER = b"DKIM-Signature"
_WIDTH = 76  # folded lines of the DKIM-Signature stay within RFC 5322's 78 characters

# The RSA scheme's parameters: stateless, built once rather than per signature.
_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()

# Searched for before the regular expression runs, with bytes.find: for bytes, `sub in data`
# first tries `sub` as an integer (a byte value) and builds, formats and discards a TypeError
# before it searches, three times the search's own cost on a header field (CPython 3.11).
_WSP_RUN = re.compile(rb"[ \t]+")
_TRAILING_CRLFS = re.compile(rb"(?:\r\n)+\Z")
_FIELD_END = re.compile(rb"\r\n(?![ \t])")  # a line end not followed by a continuation
_NAME, _CANONICAL = itemgetter(0), itemgetter(1)  # of relaxed_header's pair


def relaxed_header(field: bytes) -> tuple[bytes, bytes]:
    """(lower-case name, relaxed canonical form ending in CRLF) of one header field.

    `field` is a complete field as written, "Name: value\\r\\n", folded or not (RFC 6376
    §3.4.2: lower-case the name, unfold, reduce each run of whitespace to one space, drop the
    whitespace at the end of the value and around the colon). ValueError without a colon.
    """
    name, colon, value = field.partition(b":")
    if not colon:
        raise ValueError(f"not a header field: {field[:40]!r}")
    if value.endswith(b"\r\n"):
        value = value[:-2]
    # Unfold: a field's CRLF is always followed by whitespace (`replace` returns the value
    # itself when there is none). `find`, not `in`: see _WSP_RUN.
    value = value.replace(b"\r\n", b"")
    if value.find(b"\t") >= 0 or value.find(b"  ") >= 0:
        value = _WSP_RUN.sub(b" ", value)
    name = name.rstrip(b" \t").lower()
    return name, b"".join((name, b":", value.strip(b" \t"), b"\r\n"))


def relaxed_lines(data: bytes) -> bytes:
    """Relaxed body canonicalisation of whole lines (RFC 6376 §3.4.4): no whitespace at the end
    of a line, each run of whitespace within one reduced to a single space.

    Line-local, so the canonical body is the concatenation of the canonical pieces as long as
    every piece but the last ends in CRLF; the last piece goes through `relaxed_body_end`.
    """
    if data.find(b"\t") >= 0 or data.find(b"  ") >= 0:
        data = _WSP_RUN.sub(b" ", data)
    return data.replace(b" \r\n", b"\r\n")


def relaxed_body_end(data: bytes) -> bytes:
    """Relaxed canonicalisation of the last piece of a body: `relaxed_lines`, then no empty
    lines at the end, and an empty body stays empty. A body not ending in CRLF is taken as SMTP
    carries it, with a CRLF added (so its last line loses its trailing whitespace too)."""
    data = relaxed_lines(data).rstrip(b" \t")
    if not data:
        return b""
    data = _TRAILING_CRLFS.sub(b"", data) + b"\r\n"
    return b"" if data == b"\r\n" else data


def header_fields(head: bytes) -> list[bytes]:
    """The header section of a message (CRLF line ends) as complete fields, each ending in CRLF."""
    head = head.rstrip(b"\r\n")
    return [f + b"\r\n" for f in _FIELD_END.split(head)] if head else []


def _fold(words: Sequence[bytes], first: int) -> bytes:
    """Words joined by spaces, folded (CRLF before the space) so that no line passes `_WIDTH`;
    `first` is what already stands on the first line."""
    lines: list[bytes] = []
    line = b""
    column = first
    for word in words:
        if line and column + 1 + len(word) > _WIDTH:
            lines.append(line)
            line, column = word, 1 + len(word)  # a continuation line starts with its space
        elif line:
            line, column = line + b" " + word, column + 1 + len(word)
        else:
            line, column = word, column + len(word)
    lines.append(line)
    return b"\r\n ".join(lines)


def _base64_cuts(length: int, first: int) -> tuple[slice, ...]:
    """Where a base64 value of `length` characters is broken across lines (FWS is allowed
    anywhere within it), `first` characters already standing on its first line: the same for
    every signature of one key, so computed once per layout."""
    cut = _WIDTH - first
    cuts = [(0, min(cut, length))]
    cuts += [(i, min(i + _WIDTH - 1, length)) for i in range(cut, length, _WIDTH - 1)]
    return tuple(slice(i, j) for i, j in cuts if i < j)


class SigningKey:
    """One private key and its selector: rsa-sha256 (RSA, ≥ 1024 bits) or ed25519-sha256.

    `pem` is the key in PEM (PKCS#8 as `openssl genpkey` writes it, or PKCS#1 for RSA);
    `setting` names the variable it came from in ConfigError messages.
    """

    def __init__(self, pem: bytes, selector: str, *, setting: str = "MAILER_DKIM_KEY_FILE"):
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{setting} is not a usable private key: {exc}") from exc
        self._rsa: rsa.RSAPrivateKey | None = None
        self._ed25519: ed25519.Ed25519PrivateKey | None = None
        if isinstance(key, rsa.RSAPrivateKey):
            if key.key_size < 1024:
                raise ConfigError(
                    f"{setting}: the DKIM key has {key.key_size} bits; receivers need ≥ 1024"
                )
            self._rsa = key
            self.algorithm = RSA_SHA256
            self.signature_size = (key.key_size + 7) // 8  # bytes, as long as the modulus
        elif isinstance(key, ed25519.Ed25519PrivateKey):
            self._ed25519 = key
            self.algorithm = ED25519_SHA256
            self.signature_size = 64
        else:
            raise ConfigError(f"{setting} must hold an RSA or an Ed25519 key")
        try:
            self.selector = selector.encode("ascii")
        except UnicodeEncodeError as exc:
            raise ConfigError(f"the DKIM selector {selector!r} is not ASCII") from exc

    def sign(self, data: bytes) -> bytes:
        """The signature (b= value before base64) over the header hash input `data`.

        RSA: PKCS#1 v1.5 over SHA-256 of `data` (RFC 6376 §3.3.1); Ed25519: PureEdDSA over
        the 32-byte SHA-256 digest of `data` (RFC 8463 §3)."""
        if self._rsa is not None:
            return self._rsa.sign(data, _PKCS1V15, _SHA256)
        assert self._ed25519 is not None
        return self._ed25519.sign(hashlib.sha256(data).digest())

    def dns_record(self) -> str:
        """The TXT record value that publishes the public half at SELECTOR._domainkey.DOMAIN:
        p= is the DER SubjectPublicKeyInfo for RSA (RFC 6376 §3.6.1) and the raw 32-byte
        public key for Ed25519 (RFC 8463 §4.2), base64 either way."""
        if self._rsa is not None:
            kind = "rsa"
            public = self._rsa.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        else:
            assert self._ed25519 is not None
            kind = "ed25519"
            public = self._ed25519.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        return f"v=DKIM1; k={kind}; p={base64.b64encode(public).decode('ascii')}"


class _Layout:
    """What is constant for one sequence of header names: which fields are hashed in which
    order, and per key the folded DKIM-Signature up to t= with its canonical form and where its
    b= value is folded."""

    __slots__ = ("order", "pick", "prefixes")

    def __init__(self, names: tuple[bytes, ...], keys: Sequence[SigningKey], domain: bytes):
        # RFC 6376 §5.4.2: each name in h= takes the last instance not yet taken; a name with
        # no instance left (oversigning) contributes nothing to the hash.
        left: dict[bytes, list[int]] = {}
        for i, name in enumerate(names):
            left.setdefault(name, []).append(i)
        if b"from" not in left:
            raise ValueError("a DKIM signature must cover From")
        # The oversigned names once more than they occur, even when they do not occur at all
        # (RFC 6376 §5.4.2): then nobody can add the first one either.
        include = [h for h in SIGNED_HEADERS if h in left] + list(OVERSIGNED)
        order = []
        for h in include:
            if left.get(h):
                order.append(left[h].pop())
        self.order = tuple(order)
        # The canonical forms to hash, in h= order, from the message's list of them.
        self.pick: Callable[[list[bytes]], tuple[bytes, ...]] = (
            itemgetter(*order) if len(order) > 1 else lambda canonical: (canonical[order[0]],)
        )
        self.prefixes: list[tuple[SigningKey, bytes, bytes, tuple[slice, ...]]] = []
        h_words = [b"h=" + include[0]] + [w for h in include[1:] for w in (b":", h)]
        for key in keys:
            tags = [
                b"v=1;",
                b"a=" + key.algorithm + b";",
                b"c=relaxed/relaxed;",
                b"d=" + domain + b";",
                b"s=" + key.selector + b";",
                b"q=dns/txt;",
            ]
            head = _HEADER + b": " + _fold(tags, len(_HEADER) + 2)
            raw = head + b"\r\n " + _fold([*h_words[:-1], h_words[-1] + b";"], 1) + b"\r\n "
            # The canonical form of the same text up to here (b= is emptied, RFC 6376 §3.5).
            canonical = relaxed_header(raw + b"t=\r\n")[1][: -len(b"t=\r\n")]
            cuts = _base64_cuts(4 * -(-key.signature_size // 3), len(b" b="))
            self.prefixes.append((key, raw, canonical, cuts))


class Signer:
    """Signs messages with one or two keys (RSA, then optionally Ed25519) for one domain."""

    def __init__(self, keys: Sequence[SigningKey], domain: str) -> None:
        if not keys:
            raise ValueError("a Signer needs at least one key")
        self.keys = tuple(keys)
        try:
            self.domain = domain.encode("ascii")
        except UnicodeEncodeError as exc:
            raise ConfigError(
                f"MAILER_DKIM_DOMAIN {domain!r} must be ASCII (the IDNA form)"
            ) from exc
        self._layouts: dict[tuple[bytes, ...], _Layout] = {}
        self._canonical: dict[bytes, tuple[bytes, bytes]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Signer | None:
        """None when DKIM is not configured; ConfigError naming the variables when it is half
        configured, when a key file cannot be read or holds the wrong kind of key."""
        rsa_values = {
            "MAILER_DKIM_KEY_FILE": settings.dkim_key_file,
            "MAILER_DKIM_SELECTOR": settings.dkim_selector,
            "MAILER_DKIM_DOMAIN": settings.dkim_domain,
        }
        ed_values = {
            "MAILER_DKIM_ED25519_KEY_FILE": settings.dkim_ed25519_key_file,
            "MAILER_DKIM_ED25519_SELECTOR": settings.dkim_ed25519_selector,
        }
        if not any(rsa_values.values()) and not any(ed_values.values()):
            return None
        missing = [k for k, v in rsa_values.items() if not v]
        if missing:
            if any(rsa_values.values()):
                raise ConfigError(f"DKIM is half configured: set {', '.join(missing)} as well")
            raise ConfigError(
                "the Ed25519 DKIM signature goes alongside the RSA one (most receivers verify "
                f"only RSA): set {', '.join(missing)} as well"
            )
        missing = [k for k, v in ed_values.items() if not v]
        if len(missing) == 1:
            raise ConfigError(
                f"the Ed25519 DKIM signature is half configured: set {missing[0]} as well"
            )
        keys = [_load(settings.dkim_key_file, str(settings.dkim_selector), "MAILER_DKIM_KEY_FILE")]
        if keys[0].algorithm != RSA_SHA256:
            raise ConfigError("MAILER_DKIM_KEY_FILE must hold an RSA key (rsa-sha256)")
        if not missing:
            ed = _load(
                settings.dkim_ed25519_key_file,
                str(settings.dkim_ed25519_selector),
                "MAILER_DKIM_ED25519_KEY_FILE",
            )
            if ed.algorithm != ED25519_SHA256:
                raise ConfigError("MAILER_DKIM_ED25519_KEY_FILE must hold an Ed25519 key")
            if ed.selector == keys[0].selector:
                raise ConfigError(
                    "MAILER_DKIM_ED25519_SELECTOR must differ from MAILER_DKIM_SELECTOR: "
                    "each selector publishes one key"
                )
            keys.append(ed)
        return cls(keys, str(settings.dkim_domain))

    def _canonical_miss(self, field: bytes) -> tuple[bytes, bytes]:
        """`relaxed_header` of a field not in the cache (yet), which keeps it: the fields every
        message shares are found there from the second message on."""
        entry = relaxed_header(field)
        if len(self._canonical) > 1024:  # per-message fields churn; the shared come back
            self._canonical.clear()
        self._canonical[field] = entry
        return entry

    def signature(
        self, fields: Sequence[bytes], body_hash: bytes, *, timestamp: int | None = None
    ) -> bytes:
        """The DKIM-Signature header fields (each ending in CRLF, RSA first) to prepend.

        `fields` are the message's header fields in order, each complete as written
        ("Name: value\\r\\n", folded or not); `body_hash` is the SHA-256 digest of the
        relaxed-canonicalised body (RFC 6376 §3.7); `timestamp` is t= (default: now, in Unix
        seconds). ValueError when there is no From field.
        """
        # Per message, only what differs: the fields not seen before are canonicalised (the
        # shared ones are one dict hit each), then a join, the tags, and per key its signature.
        # (map and itemgetter rather than comprehensions: each of those is a function object
        # made and called per message.)
        get, miss = self._canonical.get, self._canonical_miss
        entries = [get(f) or miss(f) for f in fields]
        names = tuple(map(_NAME, entries))
        layout = self._layouts.get(names)
        if layout is None:
            layout = self._layouts[names] = _Layout(names, self.keys, self.domain)
        signed = layout.pick(list(map(_CANONICAL, entries)))
        t = int(time.time()) if timestamp is None else timestamp
        tail = b"t=%d; bh=%s;" % (t, b2a_base64(body_hash, newline=False))
        out: list[bytes] = []
        for key, raw, canonical, cuts in layout.prefixes:
            # The header hash input ends with this very field, b= empty, without its CRLF.
            b = b2a_base64(key.sign(b"".join((*signed, canonical, tail, b" b="))), newline=False)
            if len(b) != cuts[-1].stop:  # never with keys as loaded; never cut a signature short
                raise ValueError(f"a {len(b)}-character b= value where {cuts[-1].stop} expected")
            out += (raw, tail, b"\r\n b=", b"\r\n ".join(map(b.__getitem__, cuts)), b"\r\n")
        return b"".join(out)

    def sign(self, message: bytes) -> bytes:
        """A whole message (CRLF line ends) with its DKIM-Signature fields prepended."""
        head, sep, body = message.partition(b"\r\n\r\n")
        body_hash = hashlib.sha256(relaxed_body_end(body)).digest()
        return self.signature(header_fields(head + b"\r\n"), body_hash) + message


def _load(path: Path | None, selector: str, setting: str) -> SigningKey:
    """The key file's SigningKey, parsed once per process for each version of the file.

    Parsing validates an RSA key (OpenSSL checks that its primes are primes: ~37 ms of CPU for
    RSA-2048, as much as a hundred signatures), and a Composer is built per campaign in every
    pool process, and checked again by every `mailer send`: the parsed key is kept, keyed by the
    file's identity and modification time, so a rotated key file is read afresh."""
    try:
        stat = os.stat(str(path))
    except OSError as exc:
        raise ConfigError(f"{setting} {path}: cannot read ({exc})") from exc
    version = (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    return _parsed(str(path), version, selector, setting)


@functools.lru_cache(maxsize=8)
def _parsed(path: str, version: tuple[int, ...], selector: str, setting: str) -> SigningKey:
    """`_load`'s cache: `version` is only its key. A file that fails raises and is not kept."""
    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{setting} {path}: cannot read ({exc})") from exc
    return SigningKey(pem, selector, setting=setting)
