"""Composed messages, checked the way a receiving mail client and a reader would see them.

The issue is the firm's real briefing (mailer/samples), parsed and rendered by the real code; every
message is parsed back with the standard library's strict modern policy.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.content.briefing import parse_briefing
from mailer.content.document import IssueContent
from mailer.errors import ComposeError, ConfigError
from mailer.headers import check_address
from mailer.inbound.judgement import judge
from mailer.inbound.models import InboundKind
from mailer.rendering.email_edition import Personal, Personalizer, RenderedIssue, render_issue
from mailer.sending.bodies import PersonalBodies
from mailer.sending.compose import CampaignInfo, Composer, OutgoingMessage
from mailer.settings import Settings
from mailer.tokens import parse_address, parse_delivery_token
from tests.conftest import BRIEFING

DOMAIN = "news.example.com"
PUBLIC = "https://news.example.com"


def make_settings(tmp: Path, **extra: object) -> Settings:
    """Explicit values win over any MAILER_* in the environment."""
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp / 'mailer.db'}",
        "secret_key": "compose-test-secret-" + "z" * 30,
        "mail_domain": DOMAIN,
        "public_url": PUBLIC,
        "MAILER_FROM": "Miranda Delphi Solutions <briefing@news.example.com>",
        "dkim_key_file": None,
        "dkim_selector": None,
        "dkim_domain": None,
        "dkim_ed25519_key_file": None,
        "dkim_ed25519_selector": None,
        "previous_secret_keys": [],
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def compose_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("compose"))


@pytest.fixture(scope="module")
def content() -> IssueContent:
    return parse_briefing(BRIEFING.read_text(encoding="utf-8"), path=str(BRIEFING))


@pytest.fixture(scope="module")
def rendered(content: IssueContent, compose_settings: Settings) -> RenderedIssue:
    return render_issue(content, compose_settings)


def campaign_info(content: IssueContent, **extra: object) -> CampaignInfo:
    values: dict[str, object] = {
        "campaign_id": 17,
        "issue_slug": content.slug,
        "partner_name": content.partner.name,
        "partner_email": content.partner.email,
        "list_slug": "security-chatter",
        "list_name": "Security Chatter",
    }
    values.update(extra)
    return CampaignInfo(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def composer(
    rendered: RenderedIssue, content: IssueContent, compose_settings: Settings
) -> Composer:
    return Composer(rendered, campaign_info(content), compose_settings)


def parse(out: OutgoingMessage) -> EmailMessage:
    msg = email.message_from_bytes(out.data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def lf(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip("\n")


@pytest.fixture(scope="module")
def sample(composer: Composer) -> Iterator[tuple[OutgoingMessage, EmailMessage]]:
    out = composer.compose(
        4242, "ana.lopez@client.example.mx", "Ana López", date=datetime(2025, 4, 9, 12, tzinfo=UTC)
    )
    yield out, parse(out)


def test_mime_tree(sample: tuple[OutgoingMessage, EmailMessage]) -> None:
    _, msg = sample
    tree = [(p.get_content_type(), p.get_content_charset()) for p in msg.walk()]
    assert tree == [
        ("multipart/mixed", None),
        ("multipart/alternative", None),
        ("text/plain", "utf-8"),
        ("text/html", "utf-8"),
        ("application/pdf", None),
    ]
    for part in msg.walk():
        assert not part.defects, (part.get_content_type(), part.defects)
    pdf = list(msg.walk())[-1]
    assert pdf.get_content_disposition() == "attachment"
    assert pdf.get_filename() == "MI-SecurityChatter-040925.pdf"
    assert pdf.get_param("name") == "MI-SecurityChatter-040925.pdf"


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("../../../../tmp/trial_pwned.pdf", "tmp-trial_pwned.pdf"),
        ("/tmp/x.pdf", "tmp-x.pdf"),  # noqa: S108 (a name to clean, no file)
        ("..\\evil.pdf", "evil.pdf"),
        ("report\u202efdp.exe.pdf", "reportfdp.exe.pdf"),
        ("../..", "issue.pdf"),
    ],
)
def test_the_attachment_filename_is_never_a_path(
    rendered: RenderedIssue,
    content: IssueContent,
    compose_settings: Settings,
    stored: str,
    shown: str,
) -> None:
    """Defence in depth: a PDF name stored before import refused paths (or set by another door)
    still reaches the reader's mail client as one file name."""
    composer = Composer(
        replace(rendered, pdf_filename=stored), campaign_info(content), compose_settings
    )
    msg = parse(composer.compose(1, "ana.lopez@client.example.mx", "Ana López"))
    pdf = list(msg.walk())[-1]
    assert pdf.get_filename() == shown
    assert pdf.get_param("name") == shown


def test_a_stored_name_with_a_bidi_override_reaches_no_header(composer: Composer) -> None:
    """Defence in depth: a name stored before the doors dropped format characters (or by
    another path) still shows in the To header as what it is."""
    out = composer.compose(5, "q1@example.com", "Ana\u202emoc.live@\u200b")
    to = parse(out).get("To")
    assert to is not None and "\u202e" not in str(to) and "\u200b" not in str(to)
    assert to.addresses[0].display_name == "Anamoc.live@"
    assert to.addresses[0].addr_spec == "q1@example.com"


def test_pdf_attachment_is_the_exact_pdf(
    sample: tuple[OutgoingMessage, EmailMessage], rendered: RenderedIssue
) -> None:
    _, msg = sample
    pdf = list(msg.walk())[-1]
    data = pdf.get_content()
    assert data == rendered.pdf
    assert data.startswith(b"%PDF-")


def test_headers(
    sample: tuple[OutgoingMessage, EmailMessage], content: IssueContent, rendered: RenderedIssue
) -> None:
    out, msg = sample
    token = out.token
    assert msg["From"].addresses[0].display_name == "Miranda Delphi Solutions"
    assert msg["From"].addresses[0].addr_spec == "briefing@news.example.com"
    (to,) = msg["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Ana López", "ana.lopez@client.example.mx")
    assert msg["Subject"] == rendered.subject
    assert "Security Chatter" in msg["Subject"]
    assert msg["Date"].datetime == datetime(2025, 4, 9, 12, tzinfo=UTC)
    assert msg["Message-ID"] == out.message_id
    assert re.fullmatch(r"<c17\.d4242\.[a-z2-7]{8}@news\.example\.com>", out.message_id)
    (reply_to,) = msg["Reply-To"].addresses
    assert reply_to.display_name == content.partner.name == "Fausto Carbajal Glass"
    assert reply_to.addr_spec == f"reply+{token}@{DOMAIN}"
    assert msg["List-Id"] == "Security Chatter <security-chatter.news.example.com>"
    assert msg["List-Unsubscribe"] == (
        f"<{PUBLIC}/u/{token}>, <mailto:unsubscribe+{token}@{DOMAIN}>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Archive"] == f"<{PUBLIC}/archive>"
    assert msg["Precedence"] == "bulk"
    assert msg["MIME-Version"] == "1.0"
    # Every header occurs exactly once.
    names = [k.lower() for k in msg]
    assert len(names) == len(set(names)), names
    # Raw header lines are ASCII and within the RFC 5322 line limit.
    head = out.data.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))


def test_tokens_identify_the_delivery(
    sample: tuple[OutgoingMessage, EmailMessage], compose_settings: Settings
) -> None:
    out, msg = sample
    secrets = compose_settings.verification_secrets()
    http, mailto = re.fullmatch(r"<([^>]+)>, <([^>]+)>", msg["List-Unsubscribe"]).groups()  # type: ignore[union-attr]
    assert http.startswith(f"{PUBLIC}/u/")
    assert parse_delivery_token(http.rsplit("/", 1)[1], secrets) == 4242
    kind, token = parse_address(mailto.removeprefix("mailto:"), DOMAIN)
    assert kind == "unsubscribe" and parse_delivery_token(token, secrets) == 4242
    kind, token = parse_address(msg["Reply-To"].addresses[0].addr_spec, DOMAIN)
    assert kind == "reply" and parse_delivery_token(token, secrets) == 4242
    # The envelope sender (VERP) and recipients.
    kind, token = parse_address(out.envelope_from, DOMAIN)
    assert out.envelope_from == f"bounces+{out.token}@{DOMAIN}"
    assert kind == "bounces" and parse_delivery_token(token, secrets) == 4242
    assert out.recipients == ("ana.lopez@client.example.mx",)


def test_message_id_is_stable_per_delivery(composer: Composer) -> None:
    first = composer.compose(7, "a@example.com", "A")
    retry = composer.compose(7, "a@example.com", "A")
    other = composer.compose(8, "b@example.com", "B")
    assert first.message_id == retry.message_id == parse(retry)["Message-ID"]
    assert other.message_id != first.message_id
    assert first.token == retry.token != other.token


def test_bodies_are_the_personalised_issue(composer: Composer, rendered: RenderedIssue) -> None:
    """Several recipients in a row: each gets exactly their own personalised text and HTML."""
    personalizer = Personalizer(rendered)
    for delivery_id, addr, name in [
        (1, "one@example.com", "Uno"),
        (2, "two@example.com", "Dos Ñ"),
        (3, "three@example.com", ""),
        (1, "one@example.com", "Uno"),
    ]:
        out = composer.compose(delivery_id, addr, name)
        msg = parse(out)
        url = f"{PUBLIC}/u/{out.token}"
        html, text = personalizer.render(
            Personal(
                email=addr,
                name=name,
                unsubscribe_url=url,
                preferences_url=f"{url}#preferences",
                reply_address=f"reply+{out.token}@{DOMAIN}",
                links=composer.tracked_links(delivery_id),
            )
        )
        plain_part = msg.get_body(("plain",))
        html_part = msg.get_body(("html",))
        assert plain_part is not None and html_part is not None
        assert lf(plain_part.get_content()) == lf(text)
        assert lf(html_part.get_content()) == lf(html)


def test_unsubscribe_link_in_the_html_is_the_list_unsubscribe_url(
    sample: tuple[OutgoingMessage, EmailMessage],
) -> None:
    out, msg = sample
    header_url = re.match(r"<([^>]+)>", msg["List-Unsubscribe"]).group(1)  # type: ignore[union-attr]
    html_part = msg.get_body(("html",))
    assert html_part is not None
    doc = lxml.html.document_fromstring(html_part.get_content())
    links = {
        " ".join(a.text_content().split()).lower(): a.get("href") for a in doc.xpath("//a[@href]")
    }
    assert links["unsubscribe"] == header_url == out.unsubscribe_url
    text_part = msg.get_body(("plain",))
    assert text_part is not None
    assert header_url in text_part.get_content()


def test_test_send_has_a_marked_subject_and_its_own_message_id(composer: Composer) -> None:
    real = composer.compose(99, "editor@example.com", "Editor")
    test = composer.compose(99, "editor@example.com", "Editor", test=True)
    assert parse(test)["Subject"] == "[TEST] " + parse(real)["Subject"]
    assert test.message_id != real.message_id


@pytest.mark.parametrize(
    "name",
    [
        "Eve\r\nBcc: victim@example.org",
        "Eve\nBcc: victim@example.org",
        "Eve\rBcc: victim@example.org",
        "Eve\x00\r\n\r\nBcc: victim@example.org",
        "Évé\r\nBcc: victim@example.org",
        "Eve\u2028Bcc: victim@example.org",
        "Eve\x85Bcc: victim@example.org",
    ],
)
def test_a_name_cannot_inject_headers(composer: Composer, name: str) -> None:
    out = composer.compose(5, "eve@example.com", name)
    msg = parse(out)
    assert msg["Bcc"] is None
    assert [k for k in msg if k.lower() == "bcc"] == []
    # No header line anywhere: the message's own or a MIME part's (a body line may wrap anywhere).
    header_blocks = [out.data.split(b"\r\n\r\n", 1)[0]] + [
        part.split(b"\r\n\r\n", 1)[0] for part in out.data.split(b"\r\n--=_")[1:]
    ]
    assert not any(re.search(rb"(?im)^bcc:", block) for block in header_blocks)
    (to,) = msg["To"].addresses
    assert to.addr_spec == "eve@example.com"
    assert "Bcc: victim@example.org" in to.display_name
    assert not re.search(r"[\x00-\x1f\x7f\x85\u2028]", to.display_name)
    assert out.recipients == ("eve@example.com",)


def test_a_subject_or_partner_name_cannot_inject_headers(
    rendered: RenderedIssue, content: IssueContent, compose_settings: Settings
) -> None:
    info = campaign_info(
        content,
        subject="Weekly\r\nBcc: victim@example.org\r\n\r\nhello",
        partner_name="Fausto\r\nBcc: victim@example.org",
        list_name="Security\nBcc: victim@example.org",
    )
    out = Composer(rendered, info, compose_settings).compose(6, "a@example.com", "A")
    msg = parse(out)
    assert msg["Bcc"] is None
    # No header line anywhere: the message's own or a MIME part's (a body line may wrap anywhere).
    header_blocks = [out.data.split(b"\r\n\r\n", 1)[0]] + [
        part.split(b"\r\n\r\n", 1)[0] for part in out.data.split(b"\r\n--=_")[1:]
    ]
    assert not any(re.search(rb"(?im)^bcc:", block) for block in header_blocks)
    assert msg["Subject"] == "Weekly Bcc: victim@example.org hello"
    assert msg["Reply-To"].addresses[0].display_name == "Fausto Bcc: victim@example.org"
    assert msg.get_body(("html",)) is not None  # the body was not cut short by a blank line


ENCODED_INJECTIONS = [
    "Weekly =?utf-8?q?=0D=0ABcc:_victim@example.org?= news",
    "Weekly =?UTF-8?B?DQpCY2M6IHZpY3RpbUBleGFtcGxlLm9yZw==?=",
    "Boletín =?utf-8?q?=0ABcc:_victim@example.org?=",
]


@pytest.mark.parametrize("subject", ENCODED_INJECTIONS)
def test_an_encoded_word_in_a_subject_cannot_inject_headers(
    rendered: RenderedIssue, content: IssueContent, compose_settings: Settings, subject: str
) -> None:
    """A title holding an RFC 2047 encoded word of CR LF (`=?utf-8?q?=0D=0ABcc:…?=`) was decoded
    by the email package while folding and written out as a Bcc header line of every message
    (CVE-2024-6923 in Python 3.11.7): the subject reads as written, on one header line."""
    info = campaign_info(content, subject=subject)
    out = Composer(rendered, info, compose_settings).compose(7, "a@example.com", "A")
    msg = parse(out)
    assert msg["Bcc"] is None
    head = out.data.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"(?im)^bcc:", head), head.decode("ascii", "replace")
    shown = str(make_header(decode_header(msg["Subject"])))
    assert not re.search(r"[\r\n]", shown)
    assert shown.replace("\u200b", "") == subject
    assert out.recipients == ("a@example.com",)


@pytest.mark.parametrize(
    "name",
    [
        "José Ñandú",
        "李小龙",
        'Smith, John "JJ" O\'Brien (CEO) \\ <boss@example.com>',
        "=?utf-8?q?Admin?=",
        "",
    ],
)
def test_names_survive_exactly(composer: Composer, name: str) -> None:
    out = composer.compose(11, "person@example.com", name)
    msg = parse(out)
    (to,) = msg["To"].addresses
    assert to.display_name == " ".join(name.split())[:200]
    assert to.addr_spec == "person@example.com"
    head = out.data.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and all(len(line) <= 998 for line in head.split(b"\r\n"))


def test_long_non_ascii_name_is_split_into_rfc2047_words(composer: Composer) -> None:
    """A name too long for one encoded-word is split into several, each at most 75 characters.

    RFC 2047 §6.2: whitespace between adjacent encoded-words is not displayed. Mail clients (and
    `email.header.decode_header`) honour that; CPython's newer address parser shows it as a space,
    so the name is checked with the RFC decoder here.
    """
    name = "María-José de la Fuente y Hernández-Ávila Castañeda, Dirección General de Análisis " * 2
    out = composer.compose(13, "person@example.com", name)
    raw = email.message_from_bytes(out.data)  # compat32: the header's raw value
    value = "".join(raw["To"].splitlines())
    phrase, addr = value.rsplit(" <", 1)
    assert addr == "person@example.com>"
    words = re.findall(r"=\?[^?]+\?[qQbB]\?[^?]*\?=", phrase)
    assert len(words) > 1 and all(len(w) <= 75 for w in words)
    decoded = str(make_header(decode_header(phrase)))
    assert decoded == " ".join(name.split())[:200]


@pytest.mark.parametrize(
    "addr",
    [
        "victim@example.org\r\nBcc: x@example.org",
        "no-at-sign",
        "two@@example.org",
        "a b@example.org",
        "<a@example.org>",
        "a@example.org>, b@example.org",
        "",
    ],
)
def test_unusable_addresses_are_refused(composer: Composer, addr: str) -> None:
    with pytest.raises(ComposeError):
        composer.compose(12, addr, "X")


def test_idn_domain_is_encoded() -> None:
    assert check_address("ana@méxico.example") == "ana@xn--mxico-bsa.example"


def test_the_pdf_part_is_shared_between_recipients(composer: Composer) -> None:
    """The PDF is encoded once per campaign and the same bytes go to every recipient (what a
    message costs is measured by bench/render.py against a naive loop, not asserted here)."""
    a = composer.compose(21, "a@example.com", "A").data
    b = composer.compose(22, "b@example.com", "B Ñ").data
    pdf = b"Content-Type: application/pdf"
    assert a[a.index(pdf) :] == b[b.index(pdf) :]
    assert a[: a.index(pdf)] != b[: b.index(pdf)]  # personalised before it


@pytest.mark.parametrize(
    "from_", ["Firm <news@example.com>\r\nBcc: x@example.org", "not an address", "a@x.com, b@x.com"]
)
def test_a_bad_from_setting_is_a_config_error(
    rendered: RenderedIssue, content: IssueContent, tmp_path: Path, from_: str
) -> None:
    with pytest.raises(ConfigError, match="MAILER_FROM"):
        Composer(rendered, campaign_info(content), make_settings(tmp_path, MAILER_FROM=from_))


def test_a_non_ascii_firm_name_in_from_is_encoded(
    rendered: RenderedIssue, content: IssueContent, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, MAILER_FROM="Análisis Delphi <news@example.com>")
    out = Composer(rendered, campaign_info(content), settings).compose(1, "a@example.com", "A")
    assert parse(out)["From"].addresses[0].display_name == "Análisis Delphi"
    assert out.data.split(b"\r\n\r\n", 1)[0].isascii()


def test_a_long_mailer_from_with_a_comma_stays_one_mailbox(
    rendered: RenderedIssue, content: IssueContent, tmp_path: Path
) -> None:
    """Python 3.11 drops the quotes of a long quoted name when it folds it: we fold it ourselves."""
    name = "Miranda Delphi Solutions, Risk & Intelligence Unit — Weekly Security Briefing"
    settings = make_settings(tmp_path, MAILER_FROM=f'"{name}" <news@example.com>')
    out = Composer(rendered, campaign_info(content), settings).compose(1, "a@example.com", "A")
    raw = email.message_from_bytes(out.data)  # compat32: what a plain parser splits
    [(shown, addr)] = getaddresses([str(raw["From"]).replace("\r\n", "")])
    assert addr == "news@example.com"
    assert str(make_header(decode_header(shown))) == name  # RFC 2047 §6.2, as mail clients
    assert [a.addr_spec for a in parse(out)["From"].addresses] == ["news@example.com"]


def test_a_test_copys_token_is_not_a_delivery_token(composer: Composer) -> None:
    """Test copies are numbered 0, 1, 2…: their tokens must not name real deliveries 0, 1, 2."""
    from mailer.errors import TokenError

    real = composer.compose(1, "ana@example.org", "Ana")
    test = composer.compose(1, "editor@example.org", "Editor", test=True)
    assert real.token != test.token
    secrets = [composer.secret]
    assert parse_delivery_token(real.token, secrets) == 1
    with pytest.raises(TokenError):
        parse_delivery_token(test.token, secrets)


def test_a_newsletter_that_comes_back_as_sent_is_our_own_mail_not_a_bounce(
    composer: Composer, compose_settings: Settings
) -> None:
    """A forwarding rule can return the newsletter itself to its bounces+ or reply+ address: its
    text names the partner's address beside words a bounce reader looks for, but it is ours."""
    out = composer.compose(7, "reader@example.com", "A Reader")
    domain = compose_settings.mail_domain
    for rcpt in (f"bounces+x@{domain}", f"reply+x@{domain}", ""):
        got = judge(out.data, mail_from=None, rcpt_to=rcpt, domain=domain)
        assert got.kind == InboundKind.LOOP, (rcpt, got.kind, got.reason)
        assert not got.failures


# --------------------------------------------------------------------------------------------
# Bodies from stencils (sending/bodies.py) are the bytes the Jinja fill gives
# --------------------------------------------------------------------------------------------

WHEN = datetime(2025, 4, 9, 12, tzinfo=UTC)
HOSTILE_NAMES = [
    "",
    "Ana",
    "<script>alert('x')</script>",
    '"quoted, name"',
    "José Ñandú",
    "李小龙",
    "x" * 300,
    "Ωé" * 120,
    "= 3D =\t=",
    ". starts with a dot",
    ".",
    "=",
    "a  b   c",
    "{name} {links[0]} {{",
    "&amp; &lt; &#39;",
    "O'Brien & Sons <ceo@example.com>",
    "Eve\r\nBcc: victim@example.org",
    "y" * 199 + " cut here, leaving a space at the end",
    "\u00a0nbsp\u00a0 and a soft hyphen\u00ad",
    "😀 emoji",
    "=?utf-8?q?Admin?=",
]
ADDRESSES = ["reader@example.com", "o'brien.x+tag@sub.example.co.uk", "ana@méxico.example"]


def jinja_twin(composer: Composer) -> Composer:
    """The same campaign composed by filling the templates with Jinja per recipient."""
    twin = Composer(composer.rendered, composer.info, composer.settings)
    twin.bodies = PersonalBodies(twin.personalizer, stencils=False)
    return twin


@pytest.fixture(scope="module")
def tracked_composer(content: IssueContent, tmp_path_factory: pytest.TempPathFactory) -> Composer:
    tracking = make_settings(
        tmp_path_factory.mktemp("tracked"), track_clicks=True, track_opens=True
    )
    return Composer(render_issue(content, tracking), campaign_info(content), tracking)


@pytest.mark.parametrize("tracking", [False, True], ids=["untracked", "tracked"])
def test_messages_from_stencils_are_byte_identical_to_the_jinja_fill(
    composer: Composer, tracked_composer: Composer, tracking: bool
) -> None:
    ours = tracked_composer if tracking else composer
    twin = jinja_twin(ours)
    compared = 0
    for n, name in enumerate(HOSTILE_NAMES):
        addr = ADDRESSES[n % len(ADDRESSES)]
        for test, track in ((False, True), (False, False), (True, True)):
            a = ours.compose(n, addr, name, test=test, track=track, date=WHEN)
            b = twin.compose(n, addr, name, test=test, track=track, date=WHEN)
            assert a.wire == b.wire, (name, test, track)
            compared += 1
    assert compared == 3 * len(HOSTILE_NAMES)
    # Every shape of recipient met here (named or not, tracked or not) went by stencil.
    shapes = ours.bodies.by_stencil()
    assert len(shapes) >= (4 if tracking else 2) and all(shapes.values()), shapes
    if tracking:  # the tracked shape really has the links and the pixel as holes
        html = parse(ours.compose(1, "a@example.com", "A", date=WHEN)).get_body(("html",))
        assert html is not None and "/o/" in html.get_content() and "/r/" in html.get_content()


@pytest.fixture(scope="module")
def tracked_twin(tracked_composer: Composer) -> Composer:
    return jinja_twin(tracked_composer)


@settings(max_examples=60, deadline=None)
@given(name=st.text(max_size=260), delivery=st.integers(min_value=0, max_value=10**9))
def test_any_name_composes_the_bytes_of_the_jinja_fill(
    tracked_composer: Composer, tracked_twin: Composer, name: str, delivery: int
) -> None:
    a = tracked_composer.compose(delivery, "reader@example.com", name, date=WHEN)
    b = tracked_twin.compose(delivery, "reader@example.com", name, date=WHEN)
    assert a.wire == b.wire


@pytest.mark.parametrize(
    ("kind", "old", "new", "shown"),
    [
        ("html", "[[% name %]]", "[[% name|upper %]]", "ANA"),
        (
            "html",
            "[[% email %]]",
            '[[@ if name == "Ana" @]]VIP [[@ endif @]][[% email %]]',
            "VIP ana@example.com",
        ),
        ("text", "[[% unsubscribe_url %]]", "[[% unsubscribe_url ~ '?from=text' %]]", "?from=text"),
    ],
)
def test_a_template_a_stencil_cannot_reproduce_is_filled_by_jinja(
    rendered: RenderedIssue,
    content: IssueContent,
    compose_settings: Settings,
    kind: str,
    old: str,
    new: str,
    shown: str,
) -> None:
    """A filter, a comparison, an expression: the composer fills such a template with Jinja per
    recipient (and the message says what the template says)."""
    field = f"{kind}_template"
    template = getattr(rendered, field)
    assert old in template
    changed = replace(rendered, **{field: template.replace(old, new)})
    composer = Composer(changed, campaign_info(content), compose_settings)
    twin = jinja_twin(composer)
    for n, name in enumerate(["Ana", "Luis <b>", ""]):
        a = composer.compose(n, "ana@example.com", name, date=WHEN)
        assert a.wire == twin.compose(n, "ana@example.com", name, date=WHEN).wire
    shapes = composer.bodies.by_stencil()
    assert shapes and not any(shapes.values()), shapes
    msg = parse(composer.compose(9, "ana@example.com", "Ana", date=WHEN))
    body = msg.get_body(("html",) if kind == "html" else ("plain",))
    assert body is not None and shown in body.get_content()
