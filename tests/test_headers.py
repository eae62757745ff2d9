"""Every From, To and Reply-To we build names exactly one mailbox, whatever the display name holds
(commas, quotes, parentheses, `<addr>`, encoded-word lookalikes, non-ASCII, 300 characters):
checked on the folded header as a mail client parses it, not on the input."""

from __future__ import annotations

import email
import email.policy
import re
import urllib.parse
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mailer.filenames import download_name
from mailer.headers import (
    clean_header_text,
    content_disposition,
    mailbox_header,
    mailbox_value,
    names_exactly,
)
from mailer.inbound.inquiries import ClientContext, build_forward
from mailer.settings import get_settings

OURS = "briefing@news.example.com"
CLIENT = "jose.rivera1@example.org"
PARTNER = "fausto@firm.example.com"

# Names built from the characters that break address headers, and any text at all.
PIECES = [*" ,;:\"'()<>@\\[].=?_-aZ9éñ李\t", "partner@firm.example.com", "=?utf-8?q?"]
HOSTILE = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)
NAMES = st.one_of(HOSTILE, st.text(max_size=300), st.text(min_size=250, max_size=320))


def parsed(head: str) -> EmailMessage:
    msg = email.message_from_bytes(
        head.encode("ascii") + b"\r\nbody\r\n", policy=email.policy.default
    )
    assert isinstance(msg, EmailMessage)
    return msg


def addresses(msg: EmailMessage, name: str) -> list[str]:
    """The addresses a header names, by both parsers mail software uses."""
    structured = [a.addr_spec for a in msg[name].addresses]
    simple = [a for _, a in getaddresses([str(v) for v in msg.get_all(name) or []])]
    assert structured == simple or not simple, (structured, simple)
    return structured


@settings(max_examples=300, deadline=None)
@given(name=NAMES)
def test_every_address_header_names_exactly_our_one_mailbox(name: str) -> None:
    head = mailbox_header("From", name, OURS) + mailbox_header("Reply-To", name, CLIENT)
    assert head.isascii() and all(len(line) <= 998 for line in head.split("\r\n"))
    msg = parsed(head)
    assert addresses(msg, "From") == [OURS]
    assert addresses(msg, "Reply-To") == [CLIENT]
    assert names_exactly(mailbox_value(name, OURS), OURS)


@settings(max_examples=400, deadline=None)
@given(name=NAMES)
def test_a_name_reads_back_as_written_word_for_word(name: str) -> None:
    """As Python 3.11's own parser reads it: it shows a space between any two adjacent encoded
    words (RFC 2047 shows none), so a name cut into encoded words mid-word read "Security Ch
    atter". Only a single word longer than one encoded word (39 bytes) may still be cut."""
    clean = clean_header_text(name, limit=300)
    assume(clean and all(len(word.encode()) <= 39 for word in clean.split(" ")))
    shown = parsed(mailbox_header("From", name, OURS))["From"].addresses[0].display_name
    assert shown.split() == clean.split()


@pytest.mark.parametrize(
    "name",
    [
        "José Rivera vía Security Chatter de Miranda Partners",
        "María José Fernández-Núñez, Partner (Mexico)",
        "Станислав Александрович Ковальчук",
        "山田 太郎 株式会社ミランダ 東京支社",
    ],
)
def test_a_long_non_ascii_name_is_folded_between_words_and_read_exactly(name: str) -> None:
    """Exactly by RFC 2047 decoding (what mail clients do); word for word by Python 3.11's
    parser, which doubles a space where a run of non-ASCII words fills more than one encoded
    word (the space must stay inside the first for RFC 2047 readers)."""
    head = mailbox_header("Reply-To", name, CLIENT)
    assert all(len(line) <= 78 for line in head.split("\r\n"))
    phrase = head.split(":", 1)[1].rsplit("<", 1)[0].replace("\r\n", "").strip()
    assert str(make_header(decode_header(phrase))) == name
    assert parsed(head)["Reply-To"].addresses[0].display_name.split() == name.split()


# A reader's address as most are: dot-atoms of letters, digits, "_+-"; hyphenated domain labels.
_ATOM = "[A-Za-z0-9_+-]{1,12}"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,8}[A-Za-z0-9])?"
SIMPLE_ADDRESSES = st.from_regex(
    rf"\A{_ATOM}(?:\.{_ATOM}){{0,2}}@{_LABEL}(?:\.{_LABEL}){{0,3}}\Z", fullmatch=True
)


@settings(max_examples=400, deadline=None)
@given(name=NAMES, addr=SIMPLE_ADDRESSES)
def test_a_name_before_a_simple_address_is_kept_and_names_exactly_that_address(
    name: str, addr: str
) -> None:
    """For such addresses `mailbox_value` skips its parse-back (the cost of a message's To):
    the header it writes must be one the check would have let through, name included."""
    value = mailbox_value(name, addr, "To")
    assert names_exactly(value, addr)
    msg = parsed(f"To: {value}")
    assert addresses(msg, "To") == [addr]
    assert (value == addr) == (clean_header_text(name, limit=300) == "")


@settings(max_examples=60, deadline=None)
@given(name=NAMES)
def test_a_forward_is_from_us_and_answers_the_client_whatever_their_name(name: str) -> None:
    raw = (
        f"From: x <{CLIENT}>\r\nTo: reply+1-aaaaaaaaaaaaaaaa@news.example.com\r\n"
        "Subject: Re: briefing\r\nMessage-ID: <m1@example.org>\r\n\r\nCall me.\r\n"
    ).encode()
    ctx = ClientContext(
        client_name=name,
        client_email=CLIENT,
        subscriber_email=CLIENT,
        company="",
        lists=(),
        tags=(),
        issue_title="Briefing",
        issue_slug="briefing",
        issue_date="2025-04-09",
        newsletter="Security Chatter",
        campaign_id=1,
        list_name="Briefing",
        partner_name=name,
        partner_email=PARTNER,
    )
    fwd = build_forward(raw, ctx, get_settings(), "<inquiry.1.x@news.example.com>", when=_when())
    msg = email.message_from_bytes(fwd.data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert addresses(msg, "From") == [parseaddr(get_settings().from_)[1]]
    assert addresses(msg, "To") == [PARTNER]
    assert addresses(msg, "Reply-To") == [CLIENT]


def _when():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2025, 4, 9, 8, tzinfo=UTC)


def test_a_reader_who_types_the_partners_address_as_their_name_stays_a_name() -> None:
    head = mailbox_header("From", f"Fausto <{PARTNER}>, via", OURS)
    msg = parsed(head)
    assert addresses(msg, "From") == [OURS]
    assert msg["From"].addresses[0].display_name == f"Fausto <{PARTNER}>, via"


def test_a_long_quoted_name_with_a_comma_is_one_mailbox_after_folding() -> None:
    name = "Acme Risk Consulting, Intelligence Unit — Weekly Briefing for Clients and Partners"
    head = mailbox_header("From", name, OURS)
    assert all(len(line) <= 78 for line in head.split("\r\n"))  # folded, here
    assert addresses(parsed(head), "From") == [OURS]


def test_a_pdf_name_is_served_under_its_own_name_and_never_as_a_path() -> None:
    """Our PDF names go through the same Content-Disposition as a sender's file names: an ASCII
    name as it is, a non-ASCII one whole in `filename*=` (it used to lose its letters: "Zoë
    Brief.pdf" was saved as "ZoBrief.pdf"), and a stored path cut to its last part."""
    assert (
        content_disposition("MI-SecurityChatter-040925.pdf")
        == 'attachment; filename="MI-SecurityChatter-040925.pdf"'
    )
    assert content_disposition("Zoë Brief.pdf", "inline") == (
        "inline; filename=\"Zo_ Brief.pdf\"; filename*=UTF-8''Zo%C3%AB%20Brief.pdf"
    )
    assert content_disposition("../../../../tmp/trial_pwned.pdf") == (
        'attachment; filename="trial_pwned.pdf"'
    )
    assert content_disposition('a"; x=\r\n/../b.pdf') == 'attachment; filename="b.pdf"'
    assert content_disposition("\r\n\x00") == 'attachment; filename="download"'


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("../../../tmp/x.pdf", "x.pdf"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("C:\\Users\\ana\\notas.txt", "notas.txt"),
        ("evil\r\nX-Injected: 1.pdf", "evil X-Injected: 1.pdf"),
        ("a\x00b\x1b[31m.pdf", "a b [31m.pdf"),
        ("line\u2028break\x85.pdf", "line break .pdf"),
        ("report\u202efdp.exe", "reportfdp.exe"),  # no right-to-left override
        ("..", "attachment-1"),
        ("/", "attachment-1"),
        (" .hidden. ", "hidden"),
        ("Informe año 2025.pdf", "Informe año 2025.pdf"),
        ("Informe an\u0303o.pdf", "Informe año.pdf"),  # NFC
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
    ],
)
def test_a_download_name_is_a_clean_base_name(sent: str, shown: str) -> None:
    assert download_name(sent, "attachment-1") == shown


@given(st.text(max_size=80))
@settings(max_examples=300)
def test_no_file_name_can_break_out_of_its_content_disposition(name: str) -> None:
    value = content_disposition(name)
    assert value.isascii() and value.isprintable()
    parts = re.fullmatch(
        r'attachment; filename="([^"\\]*)"(; filename\*=UTF-8\'\'([^;"\s]+))?', value
    )
    assert parts is not None, value
    cleaned = download_name(name, "download")
    assert "/" not in cleaned and "\\" not in cleaned
    encoded = parts.group(3)
    assert urllib.parse.unquote(encoded) == cleaned if encoded else parts.group(1) == cleaned
