"""DKIM signatures on composed messages, verified by dkimpy as a receiving server would.

The one boundary stub in this module is DNS: there is no DNS here, so `dkim.verify` gets a `dnsfunc`
that answers the selector's TXT query with the public half of the key the test generated — exactly
the record an operator would publish.
"""

from __future__ import annotations

import base64
import email
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailer.content.document import IssueContent
from mailer.errors import ConfigError
from mailer.rendering.email_edition import RenderedIssue
from mailer.sending.compose import Composer
from mailer.sending.dkim import Signer
from mailer.settings import Settings
from tests.sending.test_compose import (  # noqa: F401  (module-scoped fixtures reused)
    campaign_info,
    compose_settings,
    content,
    make_settings,
    rendered,
)

SELECTOR = "brief2025"
SIGNING_DOMAIN = "news.example.com"


@pytest.fixture(scope="module")
def keypair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    txt = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    return path, txt


@pytest.fixture(scope="module")
def signed_composer(
    keypair: tuple[Path, bytes],
    rendered: RenderedIssue,  # noqa: F811
    content: IssueContent,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Composer:
    settings = make_settings(
        tmp_path_factory.mktemp("dkim-settings"),
        dkim_key_file=keypair[0],
        dkim_selector=SELECTOR,
        dkim_domain=SIGNING_DOMAIN,
    )
    return Composer(rendered, campaign_info(content), settings)


def dns_for(txt: bytes):
    """The published TXT record for our selector; any other name is unknown (None)."""
    queried: list[bytes] = []

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        queried.append(name)
        if name == f"{SELECTOR}._domainkey.{SIGNING_DOMAIN}.".encode():
            return txt
        return None

    dnsfunc.queried = queried  # type: ignore[attr-defined]
    return dnsfunc


def test_signed_message_verifies(signed_composer: Composer, keypair: tuple[Path, bytes]) -> None:
    data = signed_composer.compose(31, "ana@example.com", "Ana López").data
    assert data.startswith(b"DKIM-Signature:")
    dnsfunc = dns_for(keypair[1])
    assert dkim.verify(data, dnsfunc=dnsfunc) is True
    assert dnsfunc.queried == [b"brief2025._domainkey.news.example.com."]


def test_signature_covers_the_headers_receivers_rely_on(
    signed_composer: Composer,
) -> None:
    data = signed_composer.compose(32, "ana@example.com", "Ana").data
    (value,) = email.message_from_bytes(data).get_all("DKIM-Signature", [])
    tags = dkim.util.parse_tag_value("".join(value.split()).encode())
    signed = [h.strip().lower() for h in tags[b"h"].split(b":")]
    for header in [
        b"from",
        b"to",
        b"subject",
        b"date",
        b"message-id",
        b"reply-to",
        b"list-unsubscribe",
        b"list-unsubscribe-post",
        b"list-id",
        b"mime-version",
        b"content-type",
    ]:
        assert header in signed, header
    # Oversigned: a second copy added in transit would break the signature.
    for header in [b"from", b"subject", b"reply-to", b"list-unsubscribe", b"list-unsubscribe-post"]:
        assert signed.count(header) == 2, header
    assert tags[b"a"] == b"rsa-sha256"
    assert tags[b"c"] == b"relaxed/relaxed"
    assert tags[b"d"] == SIGNING_DOMAIN.encode() and tags[b"s"] == SELECTOR.encode()


def test_altered_subject_fails_verification(
    signed_composer: Composer, keypair: tuple[Path, bytes]
) -> None:
    data = signed_composer.compose(33, "ana@example.com", "Ana").data
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    i = next(n for n, line in enumerate(lines) if line.lower().startswith(b"subject:"))
    lines[i] = b"Subject: You have won a prize"
    while lines[i + 1][:1] in (b" ", b"\t"):  # drop the old value's continuation lines
        del lines[i + 1]
    tampered = b"\r\n".join(lines) + b"\r\n\r\n" + body
    assert dkim.verify(tampered, dnsfunc=dns_for(keypair[1])) is False


def test_added_list_unsubscribe_or_altered_body_fails(
    signed_composer: Composer, keypair: tuple[Path, bytes]
) -> None:
    data = signed_composer.compose(34, "ana@example.com", "Ana").data
    dnsfunc = dns_for(keypair[1])
    extra = b"List-Unsubscribe: <https://evil.example.org/u/x>\r\n" + data
    assert dkim.verify(extra, dnsfunc=dnsfunc) is False
    altered = data.replace(b"Sheinbaum", b"Sheinbaun", 1)
    assert altered != data
    assert dkim.verify(altered, dnsfunc=dnsfunc) is False


def test_a_different_published_key_fails(signed_composer: Composer) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    der = other.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    data = signed_composer.compose(35, "ana@example.com", "Ana").data
    txt = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)
    assert dkim.verify(data, dnsfunc=dns_for(txt)) is False


def test_unsigned_without_settings(compose_settings: Settings) -> None:  # noqa: F811
    assert Signer.from_settings(compose_settings) is None


def test_half_configured_dkim_names_the_missing_variables(
    tmp_path: Path, keypair: tuple[Path, bytes]
) -> None:
    settings = make_settings(tmp_path, dkim_key_file=keypair[0])
    with pytest.raises(ConfigError, match="MAILER_DKIM_SELECTOR, MAILER_DKIM_DOMAIN"):
        Signer.from_settings(settings)


def test_unreadable_or_bad_key_file(tmp_path: Path) -> None:
    missing = make_settings(
        tmp_path, dkim_key_file=tmp_path / "nope.pem", dkim_selector="s", dkim_domain="d.example"
    )
    with pytest.raises(ConfigError, match="nope.pem"):
        Signer.from_settings(missing)
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key\n")
    garbage = make_settings(tmp_path, dkim_key_file=bad, dkim_selector="s", dkim_domain="d.example")
    with pytest.raises(ConfigError, match="MAILER_DKIM_KEY_FILE"):
        Signer.from_settings(garbage)


def test_every_message_of_a_campaign_verifies(
    signed_composer: Composer, keypair: tuple[Path, bytes]
) -> None:
    """The composer hashes the shared parts once; each recipient's signature must still hold."""
    dnsfunc = dns_for(keypair[1])
    for n, (addr, name) in enumerate(
        [("a@example.com", "Ana"), ("b@example.com", "Bé  Tab\tName"), ("a@example.com", "Ana")]
    ):
        out = signed_composer.compose(40 + n, addr, name, test=n == 2)
        assert dkim.verify(out.data, dnsfunc=dnsfunc) is True, (addr, name)


def test_signer_signs_any_message(
    keypair: tuple[Path, bytes],
    rendered: RenderedIssue,  # noqa: F811
    content: IssueContent,  # noqa: F811
    compose_settings: Settings,  # noqa: F811
) -> None:
    unsigned = Composer(rendered, campaign_info(content), compose_settings).compose(
        50, "ana@example.com", "Ana"
    )
    assert not unsigned.data.startswith(b"DKIM-Signature:")
    signer = Signer(keypair[0].read_bytes(), SELECTOR, SIGNING_DOMAIN)
    signed = signer.sign(unsigned.data)
    assert signed.endswith(unsigned.data)
    assert dkim.verify(signed, dnsfunc=dns_for(keypair[1])) is True
