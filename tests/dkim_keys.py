"""DKIM keys for the tests: made at run time (never stored), written as an operator's key files
are, and the TXT record a receiving server would look up for them."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """A new RSA key of `bits` (2048: what the README tells operators to make)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def pem(key: PrivateKey, *, traditional: bool = False) -> bytes:
    """`key` as unencrypted PEM: PKCS#8, as `openssl genpkey` writes it, or with `traditional`
    the PKCS#1 `BEGIN RSA PRIVATE KEY` form of older `openssl genrsa`, which must work too."""
    form = (
        serialization.PrivateFormat.TraditionalOpenSSL
        if traditional
        else serialization.PrivateFormat.PKCS8
    )
    return key.private_bytes(serialization.Encoding.PEM, form, serialization.NoEncryption())


def write_key(
    path: Path, key: PrivateKey | None = None, *, traditional: bool = False
) -> PrivateKey:
    """`key` (a new RSA-2048 key when None) written to `path` as `pem` writes it; returned, so
    the test can publish its public half."""
    key = key if key is not None else rsa_key()
    path.write_bytes(pem(key, traditional=traditional))
    return key


def txt_record(key: PrivateKey) -> bytes:
    """The DKIM TXT record an operator publishes for `key`: for RSA the public key's DER
    (SubjectPublicKeyInfo), for Ed25519 the raw 32-byte public key (RFC 8463 §4.2), base64."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return b"v=DKIM1; k=ed25519; p=" + base64.b64encode(raw)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)
