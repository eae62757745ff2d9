"""Who counts as a mail system writing to us: judged by the sender's address and the message's
structure (a delivery report), never by a display name, which anyone writes as they like.

A reader whose From reads `"postmaster@example.com" <jane@client.example>` (an alias copied
into the name by a phone's contact card) or an RFC 2047 encoded "MAILER-DAEMON" is a person:
their reply reaches the partner."""

from __future__ import annotations

import pytest

from mailer.inbound.judgement import judge
from mailer.inbound.models import InboundKind
from tests.inbound_support import DOMAIN, dsn, reply

REPLY = f"reply+2-7i2yu7zqadredljl@{DOMAIN}"
BOUNCES = f"bounces+2-7i2yu7zqadredljl@{DOMAIN}"
ASKS = "Could you send me the full analysis on Pemex before Friday?\n\nJane Holt\nClient Co."


@pytest.mark.parametrize(
    "from_",
    [
        '"postmaster@example.com" <jane.holt@client.example>',
        "=?utf-8?b?TUFJTEVSLURBRU1PTg==?= <jane.holt@client.example>",  # "MAILER-DAEMON"
        "=?iso-8859-1?q?Mail_Delivery_Subsystem?= <jane.holt@client.example>",
        '"Mail Delivery System" <jane.holt@client.example>',
        '"mailer-daemon@client.example" <jane.holt@client.example>',
    ],
)
@pytest.mark.parametrize("mail_from", ["jane.holt@client.example", None])
def test_a_readers_reply_under_a_mail_systems_display_name_reaches_the_partner(
    from_: str, mail_from: str | None
) -> None:
    raw = reply(from_=from_, to=REPLY, subject="Re: Security Chatter", body=ASKS)
    got = judge(raw, mail_from=mail_from, rcpt_to=REPLY, domain=DOMAIN)
    assert got.kind == InboundKind.INQUIRY, got.reason


@pytest.mark.parametrize(
    "from_",
    [
        "MAILER-DAEMON@mx.client.example",
        "Mail Delivery System <Mail.Delivery.System@mx7.client.example>",
        "Postmaster <postmaster@client.example>",
    ],
)
def test_a_mail_systems_own_address_still_keeps_its_notice_from_the_partner(from_: str) -> None:
    """A notice in no format we know, from a mail system's address, at a reply address: kept for
    an admin, never forwarded (its display name is not needed to tell)."""
    raw = reply(
        from_=from_,
        to=REPLY,
        subject="Undeliverable: Security Chatter",
        body="Your message could not be delivered to jane.holt@client.example.",
    )
    got = judge(raw, mail_from="bounce-7@mx.client.example", rcpt_to=REPLY, domain=DOMAIN)
    assert got.kind in (InboundKind.BOUNCE, InboundKind.UNRECOGNIZED), got.reason


def test_a_delivery_report_under_a_mail_systems_display_name_is_a_bounce() -> None:
    """Over a report's structure (multipart/report) the name is the mail system's, as sisimai's
    corpus shows ("Mail Delivery Subsystem <admin@domain.com>")."""
    raw = dsn("jose.rivera1@example.org", "5.1.1").replace(
        b"From: MAILER-DAEMON@mx.client.example (Mail Delivery System)",
        b"From: Mail Delivery Subsystem <admin@client.example>",
    )
    got = judge(raw, mail_from="admin@client.example", rcpt_to=REPLY, domain=DOMAIN)
    assert got.kind == InboundKind.BOUNCE and got.failures[0].hard
