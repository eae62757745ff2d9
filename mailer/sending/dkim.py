"""DKIM signing of composed messages, configured by MAILER_DKIM_KEY_FILE/_SELECTOR/_DOMAIN.

rsa-sha256, relaxed/relaxed. The signature covers every header a receiver or a one-click
unsubscriber relies on; From, Subject, Reply-To and both List-Unsubscribe headers are "oversigned"
(named once more than they occur), so nobody can add a second copy without breaking the signature.

Why not just `dkim.sign()`: dkimpy's pure-Python RSA and whole-message regex canonicalisation cost
~16 ms per 130 KB message, which would cap a worker at ~60 messages a second. Here dkimpy still does
the DKIM-specific work (header selection, relaxed header canonicalisation, the signature header's
format and folding — the same code that verifies), while the RSA operation runs in OpenSSL (via
cryptography) and the body hash comes from the Composer, which canonicalises the parts shared by a
campaign once (see `Signer.signature`). Tests verify every signature with `dkim.verify`.
"""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

import dkim as dkimpy
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from dkim.canonicalization import (
    CanonicalizationPolicy,
    Relaxed,
    compress_whitespace,
    strip_trailing_whitespace,
)

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
_HEADER = b"DKIM-Signature"
_CANON = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")


def relaxed_lines(data: bytes) -> bytes:
    """Relaxed body canonicalisation of whole lines from the middle of a body (RFC 6376 §3.4.4).

    Line-local, so the canonical body is the concatenation of the canonical pieces as long as
    every piece but the last ends in CRLF; the last piece goes through `relaxed_body_end`.
    """
    return compress_whitespace(strip_trailing_whitespace(data))


def relaxed_body_end(data: bytes) -> bytes:
    """Relaxed canonicalisation of the last piece of a body (also drops trailing empty lines)."""
    return Relaxed.canonicalize_body(data)


class _Collect:
    """Receives what dkimpy would hash, so OpenSSL can hash and sign it in one step."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def update(self, data: bytes) -> None:
        self.parts.append(data)


class Signer:
    """Signs messages with one key, loaded once per Composer."""

    def __init__(self, key_pem: bytes, selector: str, domain: str) -> None:
        try:
            key = serialization.load_pem_private_key(key_pem, password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"MAILER_DKIM_KEY_FILE is not a usable private key: {exc}") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError("MAILER_DKIM_KEY_FILE must hold an RSA key (rsa-sha256)")
        if key.key_size < 1024:
            raise ConfigError(f"the DKIM key has {key.key_size} bits; receivers need ≥ 1024")
        self.key = key
        self.selector = selector.encode("ascii")
        self.domain = domain.encode("ascii")

    @classmethod
    def from_settings(cls, settings: Settings) -> Signer | None:
        """None when DKIM is not configured; ConfigError when it is half configured."""
        values = {
            "MAILER_DKIM_KEY_FILE": settings.dkim_key_file,
            "MAILER_DKIM_SELECTOR": settings.dkim_selector,
            "MAILER_DKIM_DOMAIN": settings.dkim_domain,
        }
        if not any(values.values()):
            return None
        missing = [k for k, v in values.items() if not v]
        if missing:
            raise ConfigError(f"DKIM is half configured: set {', '.join(missing)} as well")
        path = Path(str(settings.dkim_key_file))
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"MAILER_DKIM_KEY_FILE {path}: cannot read ({exc})") from exc
        return cls(pem, str(settings.dkim_selector), str(settings.dkim_domain))

    def signature(self, header_block: bytes, body_hash: bytes) -> bytes:
        """The DKIM-Signature header (ending in CRLF) for these headers and canonical body hash.

        `header_block` is the message's header section (ending in the blank line); `body_hash`
        is the SHA-256 digest of the relaxed-canonicalised body.
        """
        headers, _ = dkimpy.rfc822_parse(header_block)
        present = {name.lower() for name, _value in headers}
        include = [h for h in SIGNED_HEADERS if h in present]
        include += [h for h in OVERSIGNED if h in present]
        if b"from" not in include:
            raise ValueError("a DKIM signature must cover From")
        fields = [
            (b"v", b"1"),
            (b"a", b"rsa-sha256"),
            (b"c", b"relaxed/relaxed"),
            (b"d", self.domain),
            (b"q", b"dns/txt"),
            (b"s", self.selector),
            (b"t", str(int(time.time())).encode("ascii")),
            (b"h", b" : ".join(include)),
            (b"bh", base64.b64encode(body_hash)),
            (b"b", b"0" * 60),  # makes b= fold onto its own line, as dkimpy does
        ]
        value = b"; ".join(b"=".join(f) for f in fields)
        value = dkimpy.fold(value, namelen=len(_HEADER), linesep=b"\r\n")
        value = dkimpy.RE_BTAG.sub(b"\\1", value)
        collect = _Collect()
        dkimpy.hash_headers(
            collect,
            _CANON,
            _CANON.canonicalize_headers(headers),
            include,
            (_HEADER, b" " + value),
            dict(fields),
        )
        signed = self.key.sign(b"".join(collect.parts), padding.PKCS1v15(), hashes.SHA256())
        fields[-1] = (b"b", base64.b64encode(signed))
        value = b"; ".join(b"=".join(f) for f in fields) + b"\r\n"
        return _HEADER + b": " + dkimpy.fold(value, namelen=len(_HEADER), linesep=b"\r\n")

    def sign(self, message: bytes) -> bytes:
        """A whole message (CRLF line ends) with its DKIM-Signature prepended."""
        head, sep, body = message.partition(b"\r\n\r\n")
        body_hash = hashlib.sha256(relaxed_body_end(body)).digest()
        return self.signature(head + sep, body_hash) + message
