"""DKIM signatures on composed messages, verified by dkimpy as a receiving server would.

The one boundary stub in this module is DNS: there is no DNS here, so `dkim.verify` gets a `dnsfunc`
that answers the selector's TXT query with the public half of the key the test generated — exactly
the record an operator would publish (for dual signing, one record per selector: RSA and Ed25519).
The signer canonicalises headers and bodies itself, so that code is also checked against dkimpy's
canonicalisation on generated input, and by verifying messages with awkward headers.
"""

from __future__ import annotations

import base64
import binascii
import email
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from dkim.canonicalization import CanonicalizationPolicy, Relaxed
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.content.document import IssueContent
from mailer.errors import ConfigError
from mailer.rendering.email_edition import RenderedIssue
from mailer.sending.compose import Composer, qp_line
from mailer.sending.dkim import (
    Signer,
    SigningKey,
    relaxed_body_end,
    relaxed_header,
    relaxed_lines,
)
from mailer.settings import Settings
from tests.dkim_keys import pem, rsa_key, txt_record, write_key
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
    path = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    return path, txt_record(write_key(path, traditional=True))


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
    data = signed_composer.compose(35, "ana@example.com", "Ana").data
    assert dkim.verify(data, dnsfunc=dns_for(txt_record(rsa_key()))) is False


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


def test_a_key_file_is_parsed_once_and_read_again_when_rotated(
    tmp_path: Path,
    rendered: RenderedIssue,  # noqa: F811
    content: IssueContent,  # noqa: F811
) -> None:
    """Parsing validates an RSA key (~37 ms): each campaign's Composer in each process, and
    every `mailer send`'s check, reuse the parsed key; a key rotated by replacing the file (a new
    file renamed over the old, as an operator rotates it) signs from the next Composer on."""
    path = tmp_path / "dkim.pem"
    txts = []
    for _ in range(2):
        fresh = tmp_path / "dkim.pem.new"
        key = write_key(fresh)
        fresh.replace(path)
        txts.append(txt_record(key))
        settings = make_settings(
            tmp_path, dkim_key_file=path, dkim_selector=SELECTOR, dkim_domain=SIGNING_DOMAIN
        )
        first, again = Signer.from_settings(settings), Signer.from_settings(settings)
        assert first is not None and again is not None
        assert again.keys[0] is first.keys[0]  # parsed once
        data = Composer(rendered, campaign_info(content), settings).compose(5, "a@example.com").data
        assert dkim.verify(data, dnsfunc=dns_for(txts[-1]))
    assert not dkim.verify(data, dnsfunc=dns_for(txts[0]))  # the old key no longer signs


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
    signer = Signer([SigningKey(keypair[0].read_bytes(), SELECTOR)], SIGNING_DOMAIN)
    signed = signer.sign(unsigned.data)
    assert signed.endswith(unsigned.data)
    assert dkim.verify(signed, dnsfunc=dns_for(keypair[1])) is True


@pytest.mark.parametrize(
    "head",
    [
        # From alone: the only field the signature covers.
        b"From: a@news.example.com\r\n",
        # Names in any case, tabs and runs of spaces, folds with a tab, trailing whitespace,
        # an empty value, two Subjects and two To fields (the last instance is hashed first).
        b"fROM:\t Ana \t <a@news.example.com>  \r\n"
        b"Subject: one\r\n"
        b"to: b@example.com,\r\n\t  c@example.com\r\n"
        b"SUBJECT:   two   words \t\r\n"
        b"X-Empty:\r\n"
        b"To: d@example.com\r\n"
        b"List-Unsubscribe: <https://news.example.com/u/x>,\r\n <mailto:u@x.example>\r\n",
    ],
)
def test_signer_signs_hostile_header_blocks(keypair: tuple[Path, bytes], head: bytes) -> None:
    """Whatever the header block — one field, or every quirk relaxed canonicalisation must
    smooth — the signature verifies, and a second From, Subject or List-Unsubscribe added
    afterwards breaks it (oversigned)."""
    message = head + b"\r\nbody \t line\r\n\r\n\r\n"
    signer = Signer([SigningKey(keypair[0].read_bytes(), SELECTOR)], SIGNING_DOMAIN)
    signed = signer.sign(message)
    dnsfunc = dns_for(keypair[1])
    assert dkim.verify(signed, dnsfunc=dnsfunc) is True
    for added in (
        b"From: mallory@example.net\r\n",
        b"Subject: urgent\r\n",
        b"List-Unsubscribe: <https://evil.example/u>\r\n",
    ):
        end = signed.index(b"\r\n\r\n") + 2
        assert dkim.verify(signed[:end] + added + signed[end:], dnsfunc=dnsfunc) is False, added


@pytest.mark.parametrize("bits", [1024, 1032, 3072])
def test_other_rsa_key_sizes_fold_and_verify(
    bits: int,
    rendered: RenderedIssue,  # noqa: F811
    content: IssueContent,  # noqa: F811
    compose_settings: Settings,  # noqa: F811
) -> None:
    """The b= value is folded where it was reckoned once per key (its length follows the
    modulus: 172 base64 characters at 1024 bits, 176 at 1032, 512 at 3072); every line of the
    DKIM-Signature stays within 78 characters and the signature verifies."""
    key = rsa_key(bits)
    unsigned = Composer(rendered, campaign_info(content), compose_settings).compose(
        51, "ana@example.com", "Ana"
    )
    signed = Signer([SigningKey(pem(key), SELECTOR)], SIGNING_DOMAIN).sign(unsigned.data)
    field = signed[: len(signed) - len(unsigned.data)]
    assert field.startswith(b"DKIM-Signature:") and field.count(b"DKIM-Signature:") == 1
    assert max(len(line) for line in field.split(b"\r\n")) <= 78
    b_value = b"".join(field.split(b" b=", 1)[1].split())
    assert len(base64.b64decode(b_value, validate=True)) == (bits + 7) // 8
    assert dkim.verify(signed, dnsfunc=dns_for(txt_record(key))) is True


# --------------------------------------------------------------------------------------------
# Hand-rolled canonicalisation, checked against dkimpy's (the verifier's) on generated input
# --------------------------------------------------------------------------------------------

_RELAXED = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
# Header values as they are written: printable ASCII, spaces, tabs, folds (CRLF + WSP).
_VALUE_PIECES = st.sampled_from(
    [
        b" ",
        b"  ",
        b"\t",
        b" \t ",
        b"\r\n ",
        b"\r\n\t",
        b"a",
        b"Zz",
        b"=?utf-8?q?L=C3=B3pez?=",
        b"<x@y>",
    ]
)
_values = st.lists(_VALUE_PIECES, max_size=12).map(b"".join)
_names = st.sampled_from([b"From", b"SUBJECT", b"List-Unsubscribe", b"to", b"X-Tab "])


@settings(max_examples=300, deadline=None)
@given(name=_names, value=_values)
def test_relaxed_header_is_dkimpys(name: bytes, value: bytes) -> None:
    field = name + b":" + value + b"\r\n"
    [(cname, cvalue)] = _RELAXED.canonicalize_headers([(name, value + b"\r\n")])
    assert relaxed_header(field) == (name.strip().lower(), cname + b":" + cvalue)


_BODY_PIECES = st.sampled_from(
    [b" ", b"  ", b"\t", b"\r\n", b"\r\n\r\n", b"text", b"=20", b"a b", b" \t\r\n", b"x\t"]
)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(_BODY_PIECES, max_size=16))
def test_relaxed_body_is_dkimpys(pieces: list[bytes]) -> None:
    body = b"".join(pieces) + b"\r\n"  # as every body ends on the wire
    assert relaxed_body_end(body) == Relaxed.canonicalize_body(body)
    # Line-local: whole lines canonicalised apart, then the last piece (with some text, as the
    # Composer's PDF part has) through relaxed_body_end, make the same canonical body.
    head, sep, tail = body[:-2].rpartition(b"\r\n")
    if sep and tail.strip(b" \t"):
        assert relaxed_lines(head + sep) + relaxed_body_end(tail + b"\r\n") == relaxed_body_end(
            body
        )


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(' \t=.aé€<>"x-'), max_size=240))
def test_quoted_printable_lines_are_their_own_canonical_and_wire_form(text: str) -> None:
    line = text.encode("utf-8") + b"\r\n"
    encoded = qp_line(line)
    assert relaxed_lines(encoded) == encoded
    assert all(len(physical) <= 76 for physical in encoded.split(b"\r\n"))
    # No physical line, first or soft-broken, starts with "." (it would need dot-stuffing).
    assert not encoded.startswith(b".") and b"\n." not in encoded
    assert binascii.a2b_qp(encoded) == line  # decodes to the same text


# --------------------------------------------------------------------------------------------
# Awkward headers, signed by the Composer and verified by dkimpy
# --------------------------------------------------------------------------------------------

LONG_NAME = "Maria Fernanda de los Ángeles Ñúñez-Großmann, Dirección de Análisis Estratégico"


@pytest.mark.parametrize(
    ("sender", "subject", "name", "list_name"),
    [
        # A long non-ASCII display name in From and To: RFC 2047 words folded over lines.
        (f'"{LONG_NAME}" <briefing@news.example.com>', "", LONG_NAME, "Security Chatter"),
        # A Subject folded over several lines, with non-ASCII and doubled spaces.
        (
            "Firm <briefing@news.example.com>",
            "Análisis:  " + "la seguridad en México, semana por semana " * 4,
            "Ana",
            "Chatter",
        ),
        # Tabs and runs of spaces in a reader's name and in the list's name.
        ("Firm <briefing@news.example.com>", "", "José\t\tO'Brien   Díaz", "Sec\t  Chatter"),
        # An ASCII name that needs quoting, and a one-word list.
        ('"Ops, Intel & Co." <briefing@news.example.com>', "Short", 'A "quoted", name', "x"),
    ],
)
def test_awkward_headers_verify(
    tmp_path: Path,
    keypair: tuple[Path, bytes],
    rendered: RenderedIssue,  # noqa: F811
    content: IssueContent,  # noqa: F811
    sender: str,
    subject: str,
    name: str,
    list_name: str,
) -> None:
    settings = make_settings(
        tmp_path,
        MAILER_FROM=sender,
        dkim_key_file=keypair[0],
        dkim_selector=SELECTOR,
        dkim_domain=SIGNING_DOMAIN,
    )
    info = campaign_info(content, subject=subject, list_name=list_name)
    composer = Composer(rendered, info, settings)
    dnsfunc = dns_for(keypair[1])
    for delivery_id, test in ((60, False), (61, True)):
        data = composer.compose(delivery_id, "ana@example.com", name, test=test).data
        head = data.split(b"\r\n\r\n", 1)[0]
        assert any(line[:1] in (b" ", b"\t") for line in head.split(b"\r\n")[3:])  # folded
        assert dkim.verify(data, dnsfunc=dnsfunc) is True, (sender, subject, name)


# --------------------------------------------------------------------------------------------
# Ed25519-SHA256 beside RSA (RFC 8463)
# --------------------------------------------------------------------------------------------

ED_SELECTOR = "brief2025e"


@pytest.fixture(scope="module")
def ed25519_keypair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A PKCS#8 PEM key, as `openssl genpkey -algorithm ed25519` writes it, and its TXT record."""
    path = tmp_path_factory.mktemp("dkim-ed") / "ed25519.pem"
    return path, txt_record(write_key(path, ed25519.Ed25519PrivateKey.generate()))


def dual_dns(rsa_txt: bytes, ed_txt: bytes):
    """The two TXT records an operator publishes for dual signing (the DNS boundary, stubbed)."""
    records = {
        f"{SELECTOR}._domainkey.{SIGNING_DOMAIN}.".encode(): rsa_txt,
        f"{ED_SELECTOR}._domainkey.{SIGNING_DOMAIN}.".encode(): ed_txt,
    }

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        return records.get(name)

    return dnsfunc


def verify_at(data: bytes, idx: int, dnsfunc) -> bool:  # type: ignore[no-untyped-def]
    """dkimpy's verification of the idx-th DKIM-Signature (0: the topmost), False on any failure
    as `dkim.verify` reports it."""
    try:
        return bool(dkim.DKIM(data).verify(idx=idx, dnsfunc=dnsfunc))
    except dkim.DKIMException:
        return False


@pytest.fixture(scope="module")
def dual_composer(
    keypair: tuple[Path, bytes],
    ed25519_keypair: tuple[Path, bytes],
    rendered: RenderedIssue,  # noqa: F811
    content: IssueContent,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Composer:
    settings = make_settings(
        tmp_path_factory.mktemp("dkim-dual"),
        dkim_key_file=keypair[0],
        dkim_selector=SELECTOR,
        dkim_domain=SIGNING_DOMAIN,
        dkim_ed25519_key_file=ed25519_keypair[0],
        dkim_ed25519_selector=ED_SELECTOR,
    )
    return Composer(rendered, campaign_info(content), settings)


def test_dual_signatures_rsa_first_both_verify(
    dual_composer: Composer,
    keypair: tuple[Path, bytes],
    ed25519_keypair: tuple[Path, bytes],
) -> None:
    data = dual_composer.compose(70, "ana@example.com", "Ana López").data
    values = email.message_from_bytes(data).get_all("DKIM-Signature", [])
    tags = [dkim.util.parse_tag_value("".join(v.split()).encode()) for v in values]
    assert [t[b"a"] for t in tags] == [b"rsa-sha256", b"ed25519-sha256"]
    assert [t[b"s"] for t in tags] == [SELECTOR.encode(), ED_SELECTOR.encode()]
    assert {t[b"d"] for t in tags} == {SIGNING_DOMAIN.encode()}
    assert tags[0][b"h"] == tags[1][b"h"] and tags[0][b"bh"] == tags[1][b"bh"]
    dnsfunc = dual_dns(keypair[1], ed25519_keypair[1])
    assert verify_at(data, 0, dnsfunc) is True
    assert verify_at(data, 1, dnsfunc) is True
    # Each holds on its own: a wrong Ed25519 key fails the Ed25519 signature only.
    wrong = txt_record(ed25519.Ed25519PrivateKey.generate())
    assert verify_at(data, 1, dual_dns(keypair[1], wrong)) is False
    assert verify_at(data, 0, dual_dns(keypair[1], wrong)) is True
    tampered = data.replace(b"Sheinbaum", b"Sheinbaun", 1)
    assert verify_at(tampered, 1, dnsfunc) is False


def test_an_ed25519_signature_alone_verifies(
    ed25519_keypair: tuple[Path, bytes],
    compose_settings: Settings,  # noqa: F811
) -> None:
    """The Signer can sign with Ed25519 alone (the settings always add RSA first)."""
    unsigned = b"From: a@news.example.com\r\nSubject: hi\r\n\r\nbody  text\t\r\n\r\n"
    signer = Signer([SigningKey(ed25519_keypair[0].read_bytes(), ED_SELECTOR)], SIGNING_DOMAIN)
    signed = signer.sign(unsigned)
    assert signed.startswith(b"DKIM-Signature: v=1; a=ed25519-sha256;")
    assert dkim.verify(signed, dnsfunc=dual_dns(b"", ed25519_keypair[1])) is True
    assert signer.keys[0].dns_record() == ed25519_keypair[1].decode()


def test_half_configured_ed25519_names_the_variable(
    tmp_path: Path, keypair: tuple[Path, bytes], ed25519_keypair: tuple[Path, bytes]
) -> None:
    rsa_values = {
        "dkim_key_file": keypair[0],
        "dkim_selector": SELECTOR,
        "dkim_domain": SIGNING_DOMAIN,
    }
    cases = [
        (
            {**rsa_values, "dkim_ed25519_key_file": ed25519_keypair[0]},
            "MAILER_DKIM_ED25519_SELECTOR",
        ),
        ({**rsa_values, "dkim_ed25519_selector": ED_SELECTOR}, "MAILER_DKIM_ED25519_KEY_FILE"),
        # Ed25519 never alone: the RSA settings are what is missing.
        (
            {"dkim_ed25519_key_file": ed25519_keypair[0], "dkim_ed25519_selector": ED_SELECTOR},
            "MAILER_DKIM_KEY_FILE, MAILER_DKIM_SELECTOR, MAILER_DKIM_DOMAIN",
        ),
        # Each file holds its own kind of key; each selector publishes one key.
        (
            {**rsa_values, "dkim_ed25519_key_file": keypair[0], "dkim_ed25519_selector": "e"},
            "MAILER_DKIM_ED25519_KEY_FILE must hold an Ed25519 key",
        ),
        (
            {**rsa_values, "dkim_key_file": ed25519_keypair[0]},
            "MAILER_DKIM_KEY_FILE must hold an RSA key",
        ),
        (
            {
                **rsa_values,
                "dkim_ed25519_key_file": ed25519_keypair[0],
                "dkim_ed25519_selector": SELECTOR,
            },
            "MAILER_DKIM_ED25519_SELECTOR must differ",
        ),
        (
            {
                **rsa_values,
                "dkim_ed25519_key_file": tmp_path / "missing-ed.pem",
                "dkim_ed25519_selector": ED_SELECTOR,
            },
            "MAILER_DKIM_ED25519_KEY_FILE .*missing-ed.pem: cannot read",
        ),
    ]
    for values, message in cases:
        with pytest.raises(ConfigError, match=message):
            Signer.from_settings(make_settings(tmp_path, **values))
