"""One row per kind of mail the detectors must know (tests/data/bounces/sisimai): the kind, the
rule that decided, the failed recipient, its reason and hard/soft. Adding a detector adds a row."""

from __future__ import annotations

import base64
import textwrap
from pathlib import Path

import pytest

from mailer.inbound.judgement import judge
from mailer.inbound.models import InboundKind
from tests.inbound_support import DOMAIN, dsn

SISIMAI = Path(__file__).parent.parent / "data" / "bounces" / "sisimai"
FLUFL = Path(__file__).parent.parent / "data" / "bounces"
BOUNCES = f"bounces+2-7i2yu7zqadredljl@{DOMAIN}"

ROWS = [
    # (sample, kind, rule, recipient, reason, hard)
    (
        "bsd/lhost-dragonfly-01.eml",
        "bounce",
        "text",
        "pseudo-local-part@google.example.com",
        "auth_failure",
        False,
    ),
    (
        "bsd/lhost-dragonfly-04.eml",
        "bounce",
        "text",
        "postmaster@cx.libsisimai.org",
        "host_unknown",
        True,
    ),
    (
        "bsd/lhost-amazonworkmail-04.eml",
        "bounce",
        "rfc3464",
        "chatoraneko@example.jp",
        "mailbox_full",
        False,
    ),
    ("bsd/lhost-v5sendmail-01.eml", "bounce", "text", "kijitora@example.com", "network", False),
    (
        "bsd/lhost-amazonses-09.eml",
        "bounce",
        "family:amazonses",
        "bounce@simulator.amazonses.com",
        "user_unknown",
        True,
    ),
    (
        "bsd/lhost-amazonses-11.eml",
        "complaint",
        "family:amazonses",
        "complaint@simulator.amazonses.com",
        "feedback:abuse",
        False,
    ),
    ("bsd/lhost-amazonses-12.eml", "delivered", "family:amazonses", "", "", False),
    ("bsd/lhost-gmail-01.eml", "bounce", "text", "userunknown@example.jp", "user_unknown", True),
    ("bsd/lhost-qmail-01.eml", "bounce", "text", "kijitora@example.ne.jp", "user_unknown", True),
    # "User Unknown" under a policy code, no RCPT named: a filter's answer (sisimai: filtered).
    (
        "bsd/lhost-messagingserver-03.eml",
        "bounce",
        "rfc3464",
        "sabineko@example.org",
        "spam_or_content",
        False,
    ),
    (
        "bsd/arf-02.eml",
        "complaint",
        "rfc5965",
        "this-local-part-does-not-exist-on-yahoo@yahoo.com",
        "feedback:abuse",
        False,
    ),
    (
        "bsd/arf-18.eml",
        "complaint",
        "rfc5965",
        "kijitora@example.com",
        "feedback:auth-failure",
        False,
    ),
    ("bsd/rfc3834-01.eml", "auto_reply", "rfc3834", "", "", False),
    ("mac/lhost-x1-01.eml", "bounce", "text", "kijitora@example.co.jp", "spam_or_content", False),
]


@pytest.mark.parametrize(("sample", "kind", "rule", "recipient", "reason", "hard"), ROWS)
def test_each_kind_of_mail_is_judged_by_its_detector(
    sample: str, kind: str, rule: str, recipient: str, reason: str, hard: bool
) -> None:
    got = judge((SISIMAI / sample).read_bytes(), mail_from=None, rcpt_to="", domain=DOMAIN)
    assert (got.kind.value, got.rule) == (kind, rule), got.reason
    if recipient:
        found = next(f for f in got.failures if f.names(recipient))
        assert (found.reason, found.hard) == (reason, hard), found


def test_a_qmail_bounce_without_from_is_still_a_bounce() -> None:
    """flufl.bounce raises on a message without From; the other detectors still answer."""
    raw = (FLUFL / "qmail_01.txt").read_bytes()
    head, _, body = raw.partition(b"\n\n")
    head = b"\n".join(line for line in head.split(b"\n") if not line.lower().startswith(b"from:"))
    got = judge(head + b"\n\n" + body, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    assert got.kind == InboundKind.BOUNCE
    assert [f.recipient for f in got.failures] == ["userx@example.de"]


def test_a_detector_that_raises_does_not_hide_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: the RFC 3464 parser crashes; the text reader still finds the bounce."""
    from mailer.inbound import detectors

    def broken(mail: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(detectors, "STANDARD", (("rfc3464", broken),))
    raw = (SISIMAI / "bsd/lhost-postfix-06.eml").read_bytes()
    got = judge(raw, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    assert got.kind == InboundKind.BOUNCE and got.rule in ("text", "flufl.bounce")


def _notice(head: str, body: str, newline: str = "\n") -> bytes:
    """A mail system's plain notice: `head` lines, a blank line, `body` (dedented)."""
    text = textwrap.dedent(head).strip() + "\n\n" + textwrap.dedent(body).lstrip()
    return text.replace("\n", newline).encode()


def _failures(raw: bytes) -> dict[str, tuple[str, bool]]:
    got = judge(raw, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    assert got.kind == InboundKind.BOUNCE, got.reason
    return {f.recipient.lower(): (f.reason, f.hard) for f in got.failures}


def test_imail_reads_its_own_word_for_each_recipient() -> None:
    """IMail's leading words are its verdict ("Unknown user:"); a quoted reply after "Body of
    message generated response" answered DATA."""
    raw = _notice(
        """\
        From: "Postmaster" <postmaster@relay.example.org>
        To: <bounces@news.example.com>
        Subject: Undeliverable Mail
        X-Mailer: <SMTP32 v8.15>
        """,
        """\
        Unknown user: marta.ruiz@corp.example.net

        undeliverable to ines@corp.example.net

        Body of message generated response:
        550 5.7.1 Message rejected as spam by content filter

        Delivery failed 12 attempts: tomas@slow.example.net

        Original message follows.

        From: newsletter@news.example.com
        To: marta.ruiz@corp.example.net
        """,
    )
    assert _failures(raw) == {
        "marta.ruiz@corp.example.net": ("user_unknown", True),
        "ines@corp.example.net": ("spam_or_content", False),
        "tomas@slow.example.net": ("expired", False),
    }


def test_interscan_unable_to_deliver_is_a_dead_address_and_its_transcript_is_judged() -> None:
    raw = _notice(
        """\
        From: postmaster@gw.example.org ("InterScan Notification")
        To: <bounces@news.example.com>
        Subject: Mail could not be delivered
        """,
        """\
        ****** Message from InterScan Messaging Security Suite ******

        Unable to deliver message to <pablo@corp.example.net> (and other recipients in the same
        domain). Please check if address is correct.

        Sent <<< RCPT TO:<lucia@other.example.net>
        Received >>> 550 5.7.1 Client host blocked by policy
        """,
    )
    assert _failures(raw) == {
        "pablo@corp.example.net": ("user_unknown", True),
        "lucia@other.example.net": ("policy_blocked", False),
    }


def test_email_security_cloud_542_rejected_is_a_dead_address() -> None:
    """Email Security.cloud (MessageLabs) refuses a recipient its customer does not have with
    "542 <address> Rejected"; its other refusals are judged as usual."""
    raw = dsn(
        "nora@client.example.net",
        "5.0.0",
        diagnostic="smtp; 542 nora@client.example.net Rejected",
        reporting_mta="server-7.tower-9.messagelabs.com",
    ).replace(b"MAILER-DAEMON@server-7.tower-9.messagelabs.com", b"MAILER-DAEMON@messagelabs.com")
    blocked = dsn(
        "nora@client.example.net",
        "5.0.0",
        diagnostic="smtp; 553 Sorry, your IP address has been blocked by policy",
        reporting_mta="server-7.tower-9.messagelabs.com",
    ).replace(b"MAILER-DAEMON@server-7.tower-9.messagelabs.com", b"MAILER-DAEMON@messagelabs.com")
    assert judge(raw, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN).rule == "family:messagelabs"
    assert _failures(raw) == {"nora@client.example.net": ("user_unknown", True)}
    assert _failures(blocked) == {"nora@client.example.net": ("policy_blocked", False)}


def test_fml_list_notices_are_soft_failures_of_the_list() -> None:
    head = """\
        From: club-admin@lists.example.org
        To: newsletter@news.example.com
        Subject: {subject}
        Message-ID: <202501010000.FMLAAA0001.club@lists.example.org>
        X-MLServer: fml [fml 4.0.3 release (20011202/4.0.3)]
        """
    refused = _notice(
        head.format(subject="You newsletter@news.example.com are not member (club ML)"),
        "You are not a member of this mailing list <club@lists.example.org>.\n",
    )
    looped = _notice(
        head.format(subject="Loop Alert: Duplicated Message-ID (club ML)"),
        "Duplicated Message-ID in <club@lists.example.org>.\n\nOriginal mail as follows:\n",
    )
    for raw, reason in ((refused, "policy_blocked"), (looped, "other")):
        got = judge(raw, mail_from=None, rcpt_to="", domain=DOMAIN)
        assert (got.kind, got.rule) == (InboundKind.BOUNCE, "family:fml")
        [one] = got.failures
        assert (one.recipient, one.reason, one.hard) == ("club@lists.example.org", reason, False)


def test_an_rfc2047_local_part_is_reported_decoded_and_matches_either_form() -> None:
    encoded = "=?utf-8?B?am9zw6k=?=@correo.example.net"  # josé@correo.example.net
    report = dsn(encoded, "5.1.1", diagnostic=f"smtp; 550 5.1.1 <{encoded}>... User unknown")
    notice = _notice(
        """\
        From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.org>
        To: <bounces@news.example.com>
        Subject: Returned mail: see transcript for details
        """,
        f"""\
        ----- The following addresses had permanent fatal errors -----
        <{encoded}>
            (reason: 550 5.1.1 User unknown)
        """,
    )
    for raw in (report, notice):
        [one] = judge(raw, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN).failures
        assert (one.recipient, one.hard) == ("josé@correo.example.net", True)
        assert one.names("JOSÉ@correo.example.net") and one.names(encoded)


def test_report_blocks_without_blank_lines_between_recipients_are_split() -> None:
    """Some MTAs (AOL's) run the RFC 3464 blocks together: each recipient still counts."""
    raw = dsn("ada@one.example.net", "5.2.2", diagnostic="smtp; 552 5.2.2 Mailbox full")
    second = (
        b"Final-Recipient: rfc822; bo@two.example.net\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <bo@two.example.net>... User Unknown\r\n"
    )
    raw = raw.replace(b"(CST)\r\n\r\nFinal-Recipient", b"(CST)\r\nFinal-Recipient", 1)
    full = b"Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n"
    raw = raw.replace(full, full + second, 1)
    assert _failures(raw) == {
        "ada@one.example.net": ("mailbox_full", False),
        "bo@two.example.net": ("user_unknown", True),
    }


def test_a_message_with_bare_cr_line_ends_keeps_its_quoted_printable_text() -> None:
    raw = _notice(
        """\
        From: postmaster@relay.example.org
        To: <bounces@news.example.com>
        Subject: Undeliverable: Weekly letter
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: text/plain; charset="us-ascii"
        Content-Transfer-Encoding: quoted-printable
        """,
        """\
        Delivery has failed to these recipients or groups:

        carla@corp.example.net
        The email address wasn't found at the destination domain. It might be mis=
        spelled or it might not exist any longer.

        carla@corp.example.net
        Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'
        """,
        newline="\r",
    )
    assert _failures(raw) == {"carla@corp.example.net": ("user_unknown", True)}


def test_a_sendmail_per_host_line_ends_the_previous_recipients_diagnostic() -> None:
    raw = _notice(
        """\
        From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.org>
        To: <bounces@news.example.com>
        Subject: Returned mail: Host unknown
        """,
        """\
           ----- Transcript of session follows -----
        554 <dora@slow.example.net>... Remote protocol error: Connection reset by peer
        550 gone.example.org (smtp)... 550 Host unknown
        554 <eli@gone.example.org>... 550 Host unknown (Authoritative answer from name server)

           ----- Unsent message follows -----
        """,
    )
    assert _failures(raw) == {
        "dora@slow.example.net": ("network", False),
        "eli@gone.example.org": ("host_unknown", True),
    }


def test_a_post_an_fml_list_distributed_is_not_a_list_notice() -> None:
    """The list stamps X-MLServer on every post: only its -admin notices are fml's own."""
    raw = _notice(
        """\
        From: Rosa Vidal <rosa@home.example.net>
        To: club@lists.example.org
        Subject: Re: this week's letter
        Message-ID: <abc123@home.example.net>
        X-MLServer: fml [fml 4.0.3 release (20011202/4.0.3)]
        """,
        "Thanks! For the meetup, write to the organiser <tito@home.example.net>.\n",
    )
    got = judge(raw, mail_from="rosa@home.example.net", rcpt_to="", domain=DOMAIN)
    assert got.kind != InboundKind.BOUNCE and not got.failures


def test_each_qmail_recipient_is_judged_by_its_own_sorry_line() -> None:
    """qmail-send writes one "<address>:" block per recipient with qmail-remote's own sentence,
    often without a (#5.x.x) code: each address gets its own error, never a neighbour's."""
    raw = _notice(
        """\
        From: MAILER-DAEMON@mx.example.org
        To: bounces@news.example.com
        Subject: failure notice
        """,
        """\
        Hi. This is the qmail-send program at mx.example.org.
        I'm afraid I wasn't able to deliver your message to the following addresses.
        This is a permanent error; I've given up. Sorry it didn't work out.

        <ana@gone.example.net>:
        Sorry, I couldn't find any host by that name.

        <luis@corp.example.com>:
        Sorry, no mailbox here by that name.

        <eva@mx.example.edu>:
        Sorry, I couldn't find a mail exchanger or IP address.

        <joan@full.example.org>:
        The recipient's mailbox is full; try again later.

        --- Below this line is a copy of the message.

        From: newsletter@news.example.com
        To: ana@gone.example.net
        Subject: Weekly
        """,
    )
    assert _failures(raw) == {
        "ana@gone.example.net": ("host_unknown", True),
        "luis@corp.example.com": ("user_unknown", True),
        "eva@mx.example.edu": ("host_unknown", True),
        "joan@full.example.org": ("mailbox_full", False),
    }


def _report_without_diagnostic(recipients: list[str], notice: str) -> bytes:
    """A multipart/report whose delivery-status blocks carry only Status 5.0.0 (no
    Diagnostic-Code): the reason is in the notice's words alone."""
    blocks = "\n".join(
        f"Final-Recipient: rfc822; {r}\nAction: failed\nStatus: 5.0.0\n" for r in recipients
    )
    return _notice(
        """\
        From: Mail Administrator <postmaster@carrier.example.jp>
        To: bounces@news.example.com
        Subject: Mail System Error - Returned Mail
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="b1"
        """,
        f"--b1\nContent-Type: text/plain; charset=us-ascii\n\n{textwrap.dedent(notice)}\n"
        f"--b1\nContent-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; mx.carrier.example.jp\n\n{blocks}\n--b1--\n",
    )


def test_a_one_recipient_report_is_judged_with_the_sentence_above_its_address() -> None:
    """No Diagnostic-Code: the notice's own sentence ("account is disabled") states the reason,
    over the bare "550 user unknown" beside the address (a disabled account may come back)."""
    alone = _report_without_diagnostic(
        ["nao@carrier.example.jp"],
        """\
        Your message could not be sent to the following address.

        The user(s) account is disabled.

        <nao@carrier.example.jp>: 550 user unknown (in reply to RCPT TO command)
        """,
    )
    assert _failures(alone) == {"nao@carrier.example.jp": ("mailbox_disabled", False)}
    # With several recipients the lines above one address may be another's: not borrowed.
    several = _report_without_diagnostic(
        ["ana@corp.example.net", "luis@corp.example.net"],
        """\
        <ana@corp.example.net>: 552 mailbox full
        <luis@corp.example.net>: 550 user unknown (in reply to RCPT TO command)
        """,
    )
    assert _failures(several) == {
        "ana@corp.example.net": ("mailbox_full", False),
        "luis@corp.example.net": ("user_unknown", True),
    }


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (  # a reply quoting the bounce the person got
            "Re: Undelivered Mail Returned to Sender",
            """\
            Hi, I got this when I forwarded your briefing to a colleague. Is the address wrong?

            > <kim@other.example.org>: host mx.other.example.org said: 550 5.1.1 User unknown
            """,
        ),
        (  # a mail client's forward of a bounce
            "Fwd: Delivery failure",
            """\
            FYI, see below.

            ---------- Forwarded message ---------
            From: Mail Delivery Subsystem <mailer-daemon@mail.example.org>
            Subject: Delivery Status Notification (Failure)

            Delivery to the following recipient failed permanently:

                 kim@other.example.org

            The email account that you tried to reach does not exist.
            """,
        ),
        (  # "On <date>, <who> wrote:" then the bounce, unquoted
            "Re: Mail delivery failed: returning message to sender",
            """\
            Why did I get this?

            On Mon, 1 Dec 2025 at 08:00, Mail Delivery System <mailer-daemon@mx.example.org> wrote:

              kim@other.example.org
                550 5.1.1 User unknown
            """,
        ),
        (  # Outlook: a rule, then the quoted message's From/Sent/Subject lines
            "RE: Undeliverable: Weekly briefing",
            """\
            My colleague's address changed, please use kim.new@other.example.org.

            ________________________________
            From: Microsoft Outlook <postmaster@other.example.org>
            Subject: Undeliverable: Weekly briefing

            Delivery has failed to these recipients or groups:

            kim@other.example.org
            The email address you entered could not be found.
            """,
        ),
    ],
)
def test_a_persons_reply_or_forward_of_a_bounce_is_not_a_bounce(subject: str, body: str) -> None:
    """Sent by a person to an address that is not our bounces+ one: the quoted failure is theirs
    to tell us about, never a failed delivery of ours (the reader named must not be suppressed)."""
    raw = _notice(
        f"""\
        From: Pat Lee <pat@corp.example.net>
        To: briefing@{DOMAIN}
        Subject: {subject}
        """,
        body,
    )
    got = judge(raw, mail_from="pat@corp.example.net", rcpt_to=f"briefing@{DOMAIN}", domain=DOMAIN)
    assert got.kind != InboundKind.BOUNCE and not got.failures, got.reason


def test_a_mail_systems_notice_answering_a_re_subject_is_still_a_bounce() -> None:
    """Some gateways answer with "RE: <subject> : non remis": no quoting, so still a notice."""
    raw = _notice(
        f"""\
        From: gateway-notices@relay.example.fr
        To: briefing@{DOMAIN}
        Subject: RE: Weekly briefing : non remis (delivery failed)
        """,
        """\
        Votre message n'a pas pu etre delivre a
        kim@other.example.fr

        Your message could not be delivered to
        kim@other.example.fr
        """,
    )
    got = judge(raw, mail_from=None, rcpt_to=f"briefing@{DOMAIN}", domain=DOMAIN)
    assert got.kind == InboundKind.BOUNCE
    assert [f.recipient for f in got.failures] == ["kim@other.example.fr"]


def test_apple_mails_unsubscribe_button_is_an_opt_out_not_an_auto_reply() -> None:
    """Apple Mail sends it with Auto-Submitted from the reader's address; the reader asked to
    leave the list (an opt-out feedback), which must not be dropped as an automatic reply."""
    raw = _notice(
        f"""\
        From: ana@icloud.example.com
        To: list-unsubscribe@{DOMAIN}
        Subject: unsubscribe
        Auto-Submitted: auto-replied
        X-Apple-Unsubscribe: true
        """,
        """\
        Apple Mail sent this email to unsubscribe from the message "Weekly briefing".
        """,
    )
    got = judge(raw, mail_from="ana@icloud.example.com", rcpt_to=f"x@{DOMAIN}", domain=DOMAIN)
    assert got.kind == InboundKind.COMPLAINT
    assert [(f.recipient, f.reason) for f in got.failures] == [
        ("ana@icloud.example.com", "feedback:opt-out")
    ]


@pytest.mark.parametrize(
    ("subject", "words"),
    [
        (
            "Warning: could not send message for past 4 hours",
            "    **      THIS IS A WARNING MESSAGE ONLY      **\n"
            "    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **",
        ),
        (
            "Returned mail: see transcript",
            "Warning: message still undelivered after 4 hours\n"
            "Will keep trying until message is 5 days old",
        ),
        ("Undeliverable", "Delivery is delayed to these recipients or groups:"),
        # "will retry": the relay says it keeps the message (Gmail's "Delivery incomplete",
        # appliances' "has not been delivered yet", "will be retried")
        (
            "Message delivery notification",
            "There was a temporary problem delivering your message. The server will retry for "
            "47 more hours.",
        ),
        ("Mail could not be delivered", "Your message has not been delivered yet."),
        ("Undeliverable message", "Delivery will be retried until 2026-11-06."),
        ("Notification", "The system will try to deliver it again later."),
    ],
)
def test_a_plain_text_delay_warning_is_delayed_not_failed(subject: str, words: str) -> None:
    """Without a delivery-status part, the notice's own words say it is only a warning."""
    raw = _notice(
        f"""\
        From: Mail Delivery Subsystem <MAILER-DAEMON@mail.legacy.example>
        To: {BOUNCES}
        Subject: {subject}
        """,
        f"""\
        {words}

           ----- Transcript of session follows -----
        <carla.m@legacy.example>... Deferred: Connection timed out with mx2.legacy.example.
        """,
    )
    got = judge(raw, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    assert got.kind == InboundKind.BOUNCE
    [only] = got.failures
    assert (only.recipient, only.action, only.hard) == ("carla.m@legacy.example", "delayed", False)


REPLY = f"reply+2-7i2yu7zqadredljl@{DOMAIN}"


@pytest.mark.parametrize(
    ("subject", "content_type", "body"),
    [
        (
            "Read: Security Chatter",
            'multipart/report; report-type=disposition-notification; boundary="m"',
            "--m\nContent-Type: text/plain\n\nYour message was read on Wednesday.\n"
            "--m\nContent-Type: message/disposition-notification\n\n"
            "Reporting-UA: example.com; Microsoft Outlook 16.0\n"
            "Final-Recipient: rfc822;h.ford@example.com\n"
            "Disposition: manual-action/MDN-sent-manually; displayed\n--m--\n",
        ),
        (
            "Not read: Security Chatter",
            'multipart/report; report-type=disposition-notification; boundary="m"',
            "--m\nContent-Type: text/plain\n\nYour message was deleted without being read on "
            "Thursday.\n--m\nContent-Type: message/disposition-notification\n\n"
            "Final-Recipient: rfc822;h.ford@example.com\n"
            "Disposition: automatic-action/MDN-sent-automatically; deleted\n--m--\n",
        ),
        (
            "Leído: Security Chatter",
            "text/plain; charset=utf-8",
            "Su mensaje\n  Para: j.rey@example.mx\nse ha leído el miércoles, 9 de abril.\n",
        ),
    ],
)
def test_a_read_receipt_is_a_delivery_never_an_inquiry(
    subject: str, content_type: str, body: str
) -> None:
    raw = (
        f"From: Helen Ford <h.ford@example.com>\nTo: {REPLY}\nSubject: {subject}\n"
        f"MIME-Version: 1.0\nContent-Type: {content_type}\n\n{body}"
    ).encode()
    got = judge(raw, mail_from="h.ford@example.com", rcpt_to=REPLY, domain=DOMAIN)
    assert (got.kind, got.rule, got.failures) == (InboundKind.DELIVERED, "mdn", ())


def test_a_reader_writing_read_in_the_subject_is_an_inquiry() -> None:
    raw = (
        f"From: Helen Ford <h.ford@example.com>\nTo: {REPLY}\nSubject: Read: our comments\n"
        "\nHi Fausto, I read the note; was the ruling on Monday? Call me.\n"
    ).encode()
    got = judge(raw, mail_from="h.ford@example.com", rcpt_to=REPLY, domain=DOMAIN)
    assert got.kind == InboundKind.INQUIRY


def test_a_spamcop_report_is_a_complaint_about_the_delivery_it_attaches() -> None:
    """SpamCop's report is not ARF, and it carries Precedence: list; the message it attaches is
    ours, with its token: a person reported it as spam (never an auto-reply, never a bounce)."""
    delivery = "41-k3j5h2g7q4w6e2rx"
    raw = _notice(
        f"""\
        From: 1234567890@reports.spamcop.net
        To: abuse@lexfirm.example.com
        Subject: [SpamCop (https://{DOMAIN}/u/{delivery}) id:7412345678]Security Chatter
        Precedence: list
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="scop"
        """,
        f"""\
        --scop
        Content-Type: text/plain; charset=us-ascii

        - SpamCop V5.4.0 -
        Email from 203.0.113.10 / Wed, 9 Apr 2025 08:00:00 +0000
        [ Offending message ]
        --scop
        Content-Type: message/rfc822

        Return-Path: <bounces+{delivery}@{DOMAIN}>
        From: Fausto <fausto@lexfirm.example.com>
        To: x
        Subject: Security Chatter
        List-Unsubscribe: <mailto:unsubscribe+{delivery}@{DOMAIN}>

        Security Chatter
        --scop--
        """,
    )
    got = judge(raw, mail_from="spamcop@devnull.spamcop.net", rcpt_to="", domain=DOMAIN)
    assert (got.kind, got.rule) == (InboundKind.COMPLAINT, "rfc5965")
    assert delivery in got.tokens and "abuse" in got.reason


@pytest.mark.parametrize(
    ("subtype", "reason", "hard"),
    [
        ("NoEmail", "user_unknown", True),
        ("MailboxFull", "mailbox_full", False),
        ("ContentRejected", "spam_or_content", False),
        ("General", "other", False),
    ],
)
def test_an_ses_bounce_without_a_status_is_judged_by_its_bounce_subtype(
    subtype: str, reason: str, hard: bool
) -> None:
    """SES's JSON names the reason in bounceSubType when the recipient carries no status nor
    diagnosticCode (SES developer guide: NoEmail, MailboxFull, ContentRejected…)."""
    doc = (
        '{"notificationType":"Bounce","bounce":{"bounceType":"Permanent",'
        f'"bounceSubType":"{subtype}","bouncedRecipients":[{{"emailAddress":"ana@corp.example.net"}}]}},'
        '"mail":{"source":"briefing@news.example.com"}}'
    )
    raw = _notice(
        f"""\
        From: no-reply@sns.amazonaws.com
        To: bounces@{DOMAIN}
        Subject: AWS Notification Message
        """,
        doc + "\n",
    )
    assert _failures(raw) == {"ana@corp.example.net": (reason, hard)}


def test_a_localised_exchange_style_notice_names_each_recipients_own_error() -> None:
    """Notices written in the reader's language (here Spanish and German, as Exchange writes
    them without a report part): the failed addresses and their reasons are read all the same."""
    spanish = _notice(
        f"""\
        From: Administrador del sistema <postmaster@correo.example.mx>
        To: bounces@{DOMAIN}
        Subject: No se puede entregar: Boletin semanal
        """,
        """\
        Su mensaje no llegó a algunos o a todos los destinatarios.

        No se pudo entregar a los siguientes destinatarios:

              jorge.perez@correo.example.mx el 01/12/2025 08:00
                    El buzón de correo del destinatario está lleno.
              maria.lopez@correo.example.mx el 01/12/2025 08:00
                    La dirección de correo electrónico no existe.
        """,
    )
    assert _failures(spanish) == {
        "jorge.perez@correo.example.mx": ("mailbox_full", False),
        "maria.lopez@correo.example.mx": ("user_unknown", True),
    }
    german = _notice(
        f"""\
        From: Systemadministrator <postmaster@mail.example.de>
        To: bounces@{DOMAIN}
        Subject: Unzustellbar: Weekly briefing
        """,
        """\
        Ihre Nachricht hat einige oder alle Empfänger nicht erreicht.

              klaus.meier@mail.example.de am 01.12.2025 08:00
                    Die E-Mail-Adresse wurde im E-Mail-System des Empfängers nicht gefunden.
        """,
    )
    assert _failures(german) == {"klaus.meier@mail.example.de": ("user_unknown", True)}


def test_a_recipient_named_only_in_a_header_is_judged_by_the_notice_about_it() -> None:
    """X-Failed-Recipients names the address; the notice's text, about it alone, says why."""
    raw = _notice(
        f"""\
        From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
        To: bounces@{DOMAIN}
        Subject: Mail delivery failed
        X-Failed-Recipients: ana@corp.example.net
        """,
        """\
        A message that you sent could not be delivered: the recipient's mailbox is full.
        """,
    )
    assert _failures(raw) == {"ana@corp.example.net": ("mailbox_full", False)}


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (
            "Delivered: Weekly briefing",
            "Your message has been delivered to the following recipients:\n\n"
            "ana@corp.example.net (ana@corp.example.net)\n",
        ),
        (
            "Relayed: Weekly briefing",
            "Delivery to these recipients or groups is complete, but no delivery notification "
            "was sent by the destination server:\n\nana@corp.example.net (ana@corp.example.net)\n",
        ),
    ],
)
def test_a_mail_systems_delivery_receipt_is_a_delivery_not_a_failure(
    subject: str, body: str
) -> None:
    """Exchange's text receipts list the recipients the message reached: none of them failed."""
    raw = _notice(
        f"""\
        From: Microsoft Outlook <postmaster@corp.example.net>
        To: bounces@{DOMAIN}
        Subject: {subject}
        """,
        body,
    )
    got = judge(raw, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    assert (got.kind, got.failures) == (InboundKind.DELIVERED, ())


# Exchange / Office 365 NDRs without a report part, as each language's server writes them: the
# recipient first under a sentence for people, then again under the diagnostic for
# administrators with the remote server's reply. (Subject, people's part, administrators' part.)
EXCHANGE_NDRS = {
    "en": (
        "Undeliverable: Security Chatter",
        "Delivery has failed to these recipients or groups:\n\n{r}\nThe email address you "
        "entered couldn't be found. Please check the recipient's email address and try to "
        "resend the message. If the problem continues, please contact your helpdesk.",
        "Diagnostic information for administrators:\n\nGenerating server: EX01.{d}\n\n{r}\n"
        "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipientNotFound; not found'",
    ),
    "fr": (
        "Non remis : Security Chatter",
        "La remise aux destinataires ou groupes suivants a échoué :\n\n{r}\nL'adresse de "
        "messagerie que vous avez entrée est introuvable. Vérifiez l'adresse de messagerie du "
        "destinataire, puis renvoyez le message.",
        "Informations de diagnostic pour les administrateurs :\n\nServeur de génération : "
        "EXFR01.{d}\n\n{r}\nLe serveur distant a retourné '550 5.1.1 "
        "RESOLVER.ADR.RecipientNotFound; introuvable'",
    ),
    "de": (
        "Unzustellbar: Security Chatter",
        "Ihre Nachricht konnte nicht an folgende Empfänger oder Gruppen übermittelt werden:\n\n"
        "{r}\nDie eingegebene E-Mail-Adresse wurde nicht gefunden. Überprüfen Sie die "
        "E-Mail-Adresse des Empfängers, und versuchen Sie, die Nachricht erneut zu senden.",
        "Diagnoseinformationen für Administratoren:\n\nGenerierender Server: EXDE02.{d}\n\n{r}\n"
        "Remoteserver hat '550 5.1.1 RESOLVER.ADR.RecipientNotFound; nicht gefunden' "
        "zurückgegeben",
    ),
    "es": (
        "No se puede entregar: Security Chatter",
        "Error al entregar a estos destinatarios o grupos:\n\n{r}\nNo se encontró la dirección "
        "de correo electrónico que especificó. Compruebe la dirección de correo electrónico del "
        "destinatario e intente volver a enviar el mensaje.",
        "Información de diagnóstico para administradores:\n\nServidor de generación: "
        "EXES01.{d}\n\n{r}\nEl servidor remoto devolvió '550 5.1.1 "
        "RESOLVER.ADR.RecipientNotFound; no encontrado'",
    ),
    "it": (
        "Non recapitabile: Security Chatter",
        "Recapito non riuscito a questi destinatari o gruppi:\n\n{r}\nImpossibile trovare "
        "l'indirizzo di posta elettronica immesso. Controllare l'indirizzo di posta elettronica "
        "del destinatario e provare a inviare di nuovo il messaggio.",
        "Informazioni di diagnostica per gli amministratori:\n\nServer di generazione: "
        "EXIT01.{d}\n\n{r}\nIl server remoto ha restituito '550 5.1.1 "
        "RESOLVER.ADR.RecipientNotFound; non trovato'",
    ),
    "pt": (
        "Não é possível entregar: Security Chatter",
        "Falha na entrega para estes destinatários ou grupos:\n\n{r}\nO endereço de email que "
        "você inseriu não pôde ser encontrado. Verifique o endereço de email do destinatário e "
        "tente reenviar a mensagem.",
        "Informações de diagnóstico para administradores:\n\nServidor de geração: "
        "EXPT01.{d}\n\n{r}\nO servidor remoto retornou '550 5.1.1 "
        "RESOLVER.ADR.RecipientNotFound; não encontrado'",
    ),
    "nl": (
        "Onbestelbaar: Security Chatter",
        "De bezorging is mislukt voor deze ontvangers of groepen:\n\n{r}\nHet e-mailadres dat u "
        "hebt ingevoerd, is niet gevonden. Controleer het e-mailadres van de ontvanger en "
        "probeer het bericht opnieuw te verzenden.",
        "Diagnostische gegevens voor beheerders:\n\nGenererende server: EXNL01.{d}\n\n{r}\n"
        "Externe server heeft '550 5.1.1 RESOLVER.ADR.RecipientNotFound; niet gevonden' "
        "geretourneerd",
    ),
}


def _exchange_notice(
    from_: str,
    subject: str,
    text: str,
    recipient: str,
    *,
    extra: str = "",
    auto_submitted: bool = True,
) -> bytes:
    """An Exchange NDR as Exchange sends it: Auto-Submitted, a base64 UTF-8 text part for
    people, the original's headers attached (addressed to `recipient`)."""
    body = base64.encodebytes(text.encode()).decode()
    headers = [f"From: {from_}", f"To: {BOUNCES}", f"Subject: {subject}"]
    headers += ["Auto-Submitted: auto-replied"] if auto_submitted else []
    headers += [extra] if extra else []
    headers += ["MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="ndr"']
    return _notice(
        "\n".join(headers) + "\n",
        f"--ndr\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        f"{body}\n--ndr\nContent-Type: text/rfc822-headers\n\n"
        f"Return-Path: <{BOUNCES}>\nFrom: Briefing <briefing@{DOMAIN}>\nTo: {recipient}\n"
        f"Subject: Security Chatter\nMessage-ID: <c1.d2.abcdefgh@{DOMAIN}>\n\n--ndr--\n",
        newline="\r\n",
    )


@pytest.mark.parametrize("language", sorted(EXCHANGE_NDRS))
def test_an_exchange_ndr_is_judged_by_the_mention_with_the_servers_reply(language: str) -> None:
    """The first mention of the recipient has no code ("L'adresse … est introuvable"), the
    second, for administrators, has the remote server's 550 5.1.1: that one decides, in every
    language Exchange writes (a base64 UTF-8 body, the original's headers attached)."""
    subject, people, admins = EXCHANGE_NDRS[language]
    recipient, domain = "ana.morales@example.net", "example.net"
    text = f"{people}\n\n{admins}\n".format(r=recipient, d=domain)
    raw = _exchange_notice(f"Microsoft Outlook <postmaster@{domain}>", subject, text, recipient)
    got = judge(raw, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    assert (got.kind, got.rule) == (InboundKind.BOUNCE, "text"), got.reason
    [found] = got.failures
    assert (found.recipient, found.status, found.reason, found.hard) == (
        recipient,
        "5.1.1",
        "user_unknown",
        True,
    ), found


@pytest.mark.parametrize("language", sorted(EXCHANGE_NDRS))
def test_an_exchange_ndrs_subject_marks_it_a_bounce_whoever_signs_it(language: str) -> None:
    """Exchange's NDRs carry Auto-Submitted: auto-replied; signed by a sender that is not a mail
    system's name (a tenant's own NDR address), only the localised "Undeliverable:" subject
    tells it from an out-of-office reply."""
    subject, people, admins = EXCHANGE_NDRS[language]
    raw = _notice(
        f"""\
        From: Microsoft Outlook <ndr-notices@corp.example.net>
        To: {BOUNCES}
        Subject: {subject}
        Auto-Submitted: auto-replied
        Content-Type: text/plain; charset=utf-8
        """,
        f"{people}\n\n{admins}\n".format(r="ana.morales@example.net", d="corp.example.net"),
    )
    got = judge(raw, mail_from=None, rcpt_to="", domain=DOMAIN)
    assert got.kind == InboundKind.BOUNCE, got.reason
    assert [(f.recipient, f.status) for f in got.failures] == [("ana.morales@example.net", "5.1.1")]


# Exchange Online's current layout: the address in a sentence for people, the server's code a
# dozen lines below under "More Info for Email Admins", no message/delivery-status part.
EXCHANGE_ONLINE_NDRS = {
    "en": (
        "Undeliverable: Security Chatter",
        "Your message to {r} couldn't be delivered.\n\n{l} wasn't found at {d}.\n\n"
        "Action Required\nUnknown To address\n\nMore Info for Email Admins\n"
        "Status code: 550 5.1.10\n\nError Details\nReported error: 550 5.1.10 "
        "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\n"
        "DSN generated by: AM0PR02MB5617.eurprd02.prod.outlook.com\n",
    ),
    "nl": (
        "Onbestelbaar: Security Chatter",
        "Uw bericht aan {r} kan niet worden bezorgd.\n\n{l} wordt niet gevonden op {d}.\n\n"
        "Vereiste actie\nOnbekend Aan-adres\n\nMeer informatie voor e-mailbeheerders\n"
        "Statuscode: 550 5.1.10\n\nFoutgegevens\nGerapporteerde fout: 550 5.1.10 "
        "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\n"
        "DSN gegenereerd door: AM0PR02MB5617.eurprd02.prod.outlook.com\n",
    ),
}


@pytest.mark.parametrize("auto_submitted", [True, False], ids=["auto-submitted", "no-header"])
@pytest.mark.parametrize("language", sorted(EXCHANGE_ONLINE_NDRS))
def test_exchange_onlines_notice_is_a_hard_bounce_with_the_code_far_below_the_address(
    language: str, auto_submitted: bool
) -> None:
    """One failed address, its code a dozen lines below it: the code is about that address. The
    Dutch notice (its Auto-Submitted: auto-replied) was an out-of-office, the English one soft."""
    subject, text = EXCHANGE_ONLINE_NDRS[language]
    recipient, local, domain = "w.vandenberg@example.nl", "w.vandenberg", "example.nl"
    raw = _exchange_notice(
        f"postmaster@{domain}",
        subject,
        text.format(r=recipient, l=local, d=domain),
        recipient,
        extra="X-MS-Exchange-Message-Is-Ndr:",
        auto_submitted=auto_submitted,
    )
    got = judge(raw, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    assert got.kind == InboundKind.BOUNCE, got.reason  # family:exchange reads it first
    [found] = got.failures
    assert (found.recipient, found.status, found.reason, found.hard) == (
        recipient,
        "5.1.10",
        "user_unknown",
        True,
    ), found


# Exchange Online's current NDR layout, with no delivery-status part: the sentence for people
# names the recipient, the "Status code" and "Reported error" lines come a dozen lines below.
# (Subject, lead sentence, "wasn't found" line, status label, reported-error label.)
MODERN_EXCHANGE_NDRS = {
    "en": (
        "Undeliverable",
        "Your message to {r} couldn't be delivered.",
        "{u} wasn't found at {d}.\n\nAction Required\nUnknown To address",
        "More Info for Email Admins\nStatus code",
        "Error Details\nReported error",
        "DSN generated by",
    ),
    "nl": (
        "Onbestelbaar",
        "Uw bericht aan {r} kan niet worden bezorgd.",
        "{u} wordt niet gevonden op {d}.\n\nVereiste actie\nOnbekend Aan-adres",
        "Meer informatie voor e-mailbeheerders\nStatuscode",
        "Foutgegevens\nGerapporteerde fout",
        "DSN gegenereerd door",
    ),
    "fr": (
        "Non remis",
        "Votre message à {r} n'a pas pu être remis.",
        "{u} est introuvable sur {d}.\n\nAction requise\nAdresse À inconnue",
        "Informations supplémentaires pour les administrateurs de messagerie\nCode d'état ",
        "Détails de l'erreur\nErreur signalée ",
        "DSN généré par ",
    ),
    "de": (
        "Unzustellbar",
        "Ihre Nachricht an {r} konnte nicht zugestellt werden.",
        "{u} wurde unter {d} nicht gefunden.\n\nAktion erforderlich\nUnbekannte An-Adresse",
        "Weitere Informationen für E-Mail-Administratoren\nStatuscode",
        "Fehlerdetails\nGemeldeter Fehler",
        "DSN generiert von",
    ),
    "es": (
        "No se puede entregar",
        "Su mensaje para {r} no se pudo entregar.",
        "No se encontró {u} en {d}.\n\nAcción necesaria\nDirección Para desconocida",
        "Más información para administradores de correo electrónico\nCódigo de estado",
        "Detalles del error\nError notificado",
        "DSN generado por",
    ),
    "it": (
        "Non recapitabile",
        "Impossibile recapitare il messaggio a {r}.",
        "{u} non è stato trovato in {d}.\n\nAzione richiesta\nIndirizzo A sconosciuto",
        "Altre informazioni per gli amministratori di posta elettronica\nCodice di stato",
        "Dettagli errore\nErrore segnalato",
        "DSN generato da",
    ),
    "pt": (
        "Não é possível entregar",
        "Sua mensagem para {r} não pôde ser entregue.",
        "{u} não foi encontrado em {d}.\n\nAção necessária\nEndereço Para desconhecido",
        "Mais informações para administradores de email\nCódigo de status",
        "Detalhes do erro\nErro relatado",
        "DSN gerado por",
    ),
}


def _modern_exchange_ndr(language: str, *, auto_submitted: bool, ndr_header: bool = True) -> bytes:
    subject, lead, missing, status, reported, generated = MODERN_EXCHANGE_NDRS[language]
    recipient, domain = "w.vandenberg@dijkstra-advocaten.nl", "dijkstra-advocaten.nl"
    host = "AM0PR02MB5617.eurprd02.prod.outlook.com"
    text = (
        f"{lead}\n\n{missing}\n\n{status}: 550 5.1.10\n\n"
        f"{reported}: 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP "
        f"address lookup\n{generated}: {host}\n"
    ).format(r=recipient, u=recipient.split("@")[0], d=domain)
    body = base64.encodebytes(text.encode()).decode()
    heads = [
        f"From: postmaster@{domain}",
        f"To: {BOUNCES}",
        f"Subject: {subject}: The Briefing #214",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="ndr"',
    ]
    heads += ["X-MS-Exchange-Message-Is-Ndr:"] if ndr_header else []
    heads += ["Auto-Submitted: auto-replied"] if auto_submitted else []
    return _notice(
        "\n".join(heads),
        f"--ndr\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        f"{body}\n--ndr\nContent-Type: message/rfc822\n\n"
        f"Return-Path: <{BOUNCES}>\nFrom: Briefing <briefing@{DOMAIN}>\nTo: {recipient}\n"
        f"Subject: The Briefing #214\nMessage-ID: <c1.d2.abcdefgh@{DOMAIN}>\n\nHello\n--ndr--\n",
        newline="\r\n",
    )


@pytest.mark.parametrize("auto_submitted", [True, False])
@pytest.mark.parametrize("language", sorted(MODERN_EXCHANGE_NDRS))
def test_a_current_exchange_ndr_takes_its_status_code_from_the_admins_section(
    language: str, auto_submitted: bool
) -> None:
    """Exchange Online's NDR without a report part: "Status code: 550 5.1.10" a dozen lines
    below the recipient's sentence is the recipient's; RESOLVER.ADR.RecipientNotFound is a dead
    mailbox. Its Auto-Submitted does not make it an auto-reply."""
    got = judge(
        _modern_exchange_ndr(language, auto_submitted=auto_submitted),
        mail_from="",
        rcpt_to=BOUNCES,
        domain=DOMAIN,
    )
    assert (got.kind, got.rule) == (InboundKind.BOUNCE, "family:exchange"), got.reason
    [one] = got.failures
    assert (one.recipient, one.status, one.reason, one.hard) == (
        "w.vandenberg@dijkstra-advocaten.nl",
        "5.1.10",
        "user_unknown",
        True,
    )


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_exchange_layout_is_known_without_the_ndr_header(language: str) -> None:
    """A relay that drops X-MS-Exchange-* headers: postmaster's notice with both lines."""
    raw = _modern_exchange_ndr(language, auto_submitted=True, ndr_header=False)
    got = judge(raw, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    assert (got.kind, got.rule) == (InboundKind.BOUNCE, "family:exchange"), got.reason
    assert [(f.reason, f.hard) for f in got.failures] == [("user_unknown", True)]


@pytest.mark.parametrize("ndr_header", [True, False])
def test_a_mail_systems_ndr_in_an_unknown_layout_is_never_an_auto_reply(ndr_header: bool) -> None:
    """Postmaster's "Onbestelbaar:" with Auto-Submitted, in words no reader knows: a bounce of
    unknown reason at our bounces+ address (soft), not a reader's auto-reply."""
    raw = _notice(
        "\n".join(
            ["From: postmaster@dijkstra-advocaten.nl", f"To: {BOUNCES}"]
            + ["X-MS-Exchange-Message-Is-Ndr:"] * ndr_header
            + ["Subject: Onbestelbaar: The Briefing #214", "Auto-Submitted: auto-replied"]
        ),
        "Het bericht is teruggestuurd door het systeem.\n",
    )
    got = judge(raw, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    assert got.kind == InboundKind.BOUNCE, got.reason
    assert [(f.recipient, f.hard) for f in got.failures] == [("", False)]


NOTICES = Path(__file__).parent.parent / "data" / "inbound"


@pytest.mark.parametrize(
    ("sample", "recipient"),
    [
        # Exim's own router refused the local part: a permanent error, no remote reply quoted.
        ("bounce-exim-directadmin-unknown-user.eml", "m.okafor@lakeside-vets.example"),
        # A Chinese 系统退信 (gb18030, base64): "收件人邮箱…不存在" over "550 User unknown".
        ("bounce-163-mailbox-not-exist-zh.eml", "liwei.chen@163.example"),
        # A Russian provider's DSN: a generic 5.7.1 whose words, and the notice's, say no mailbox.
        ("dsn-rambler-5.7.1-no-such-user-ru.eml", "petrov.ilya@rambler.example"),
    ],
)
def test_a_mail_systems_own_notice_of_a_missing_mailbox_is_hard(
    sample: str, recipient: str
) -> None:
    raw = (NOTICES / sample).read_bytes().replace(b"@localhost", f"@{DOMAIN}".encode())
    got = judge(raw, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    assert got.kind == InboundKind.BOUNCE
    [found] = got.failures
    assert found.names(recipient) and (found.reason, found.hard) == ("user_unknown", True), found


def test_a_filters_no_such_user_that_mentions_spam_stays_soft() -> None:
    """The same terse words from a filter that says why (spam) remain the filter's answer."""
    raw = (NOTICES / "dsn-rambler-5.7.1-no-such-user-ru.eml").read_bytes()
    raw = raw.replace(
        "Почтовый ящик получателя не существует, проверьте адрес.".encode(),
        b"The message was identified as spam by our content filter.",
    ).replace(b"@localhost", f"@{DOMAIN}".encode())
    [found] = judge(raw, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN).failures
    assert not found.hard, found


def _at_bounces(subject: str, body: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\n"
        f"To: {BOUNCES}\nSubject: {subject}\nDate: Tue, 3 Nov 2026 10:00:00 +0000\n"
        "Message-ID: <20261103100000.AA01@mx.example.org>\n\n" + body
    ).encode()


@pytest.mark.parametrize(
    "notice",
    [
        # MXLogic's and others' bare reply naming the recipient after its words (flufl.bounce's
        # simple_36: "Remote host said: 550 unknown user <userx@example.com>").
        "Failed Recipient: ana@example.org\n"
        "Reason: Remote host said: 550 unknown user <ana@example.org>\n",
        "The following destination addresses were unknown:\n\nSMTP <ana@example.org>\n\n"
        "550 unknown user <ana@example.org>\n",
        # qmail-style and RFC 5321's own wordings of a mailbox that is not there
        "<ana@example.org>:\n550 Sorry, no user by that name here.\n",
        "<ana@example.org>:\n550 No mailbox by that name is currently available\n",
        "<ana@example.org>:\n550 Unknown local user\n",
    ],
)
def test_a_notice_of_a_missing_mailbox_in_other_words_is_a_hard_bounce(notice: str) -> None:
    got = judge(
        _at_bounces("Mail delivery failed", notice), mail_from="", rcpt_to=BOUNCES, domain=DOMAIN
    )
    assert got.kind == InboundKind.BOUNCE, got.reason
    assert [(f.recipient, f.reason, f.hard) for f in got.failures] == [
        ("ana@example.org", "user_unknown", True)
    ]


def test_the_same_reply_after_data_in_m_filters_layout_stays_a_filters_answer() -> None:
    """m-FILTER names the command in a block of its own ("-------SMTP command / DATA"): the
    refusal came after the message, a filter's (sisimai's lhost-mfilter-01: filtered)."""
    notice = (
        "kijitora@example.com\n\n-------server message\n550 unknown user <kijitora@example.com>\n"
        "\n-------SMTP command\nDATA\n"
    )
    got = judge(_at_bounces("failure notice", notice), mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    [found] = got.failures
    assert (found.reason, found.hard) == ("spam_or_content", False), found


@pytest.mark.parametrize(
    ("body", "reason", "hard", "action"),
    [
        (
            "Your message could not be delivered.\nReason: 550 5.1.1 User unknown.\n",
            "user_unknown",
            True,
            "failed",
        ),
        (
            "Your message could not be delivered: the mailbox is full (552 5.2.2).\n",
            "mailbox_full",
            False,
            "failed",
        ),
        (
            "This is a warning only. Delivery of your message has been delayed; we will keep "
            "trying.\n",
            "other",
            False,
            "delayed",
        ),
    ],
)
def test_a_notice_at_our_return_path_that_names_no_address_is_the_readers_own(
    body: str, reason: str, hard: bool, action: str
) -> None:
    """No address and no copy of the original, but the VERP token names the delivery: the
    failure is the reader's, judged on the notice's words, not an unknown soft failure."""
    got = judge(_at_bounces("Delivery failure", body), mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    assert got.kind == InboundKind.BOUNCE, got.reason
    [found] = got.failures
    assert (found.recipient, found.reason, found.hard, found.action) == ("", reason, hard, action)


def test_exims_message_sent_by_names_the_sender_not_a_failed_recipient() -> None:
    """Exim's notice to an errors address other than the sender (an SRS forwarder's, here from
    BounceParser's t/corpus/misidentified-recipient.msg) names the original sender first, "A
    message sent by <…>": that is who wrote, not an address that failed."""
    raw = textwrap.dedent(
        """\
        From: Mail Delivery System <Mailer-Daemon@foo.example>
        To: SRS0+4a3e+2403+lists.example.org+news-bounces@srs.foo.example
        Subject: Mail delivery failed
        X-Failed-Recipients: john.b@b.example
        Auto-Submitted: auto-replied

        This message was created automatically by mail delivery software.

        A message sent by

          <news-bounces@lists.example.org>

        could not be delivered to one or more of its recipients. The following
        address(es) failed:

          john.b@b.example
            (ultimately generated from john@b.example.co.uk)
            all hosts have been failing for a long time and were last tried after this arrived

        ------ This is a copy of the message, including all the headers. ------

        To: john@b.example.co.uk
        Subject: foo

        Hello
        """
    ).encode()
    got = judge(raw, mail_from="", rcpt_to=f"bounces+2-7i2yu7zqadredljl@{DOMAIN}", domain=DOMAIN)
    assert got.kind == InboundKind.BOUNCE
    assert [f.recipient for f in got.failures] == ["john.b@b.example"], got.failures
    assert not got.failures[0].hard
