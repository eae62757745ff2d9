"""One bounce judgement for both paths: the relay's reply while sending (`outcome_of`) and the
same status in a DSN that comes back later give the same reason and the same hard/soft decision;
only address-level failures are hard (sisimai's rule)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailer.inbound.judgement import judge
from mailer.inbound.models import InboundKind
from mailer.sending import reasons
from mailer.sending.models import DeliveryStatus
from mailer.sending.outcomes import outcome_of
from mailer.sending.transport import Reply
from tests.inbound_support import DOMAIN, dsn

NOW = datetime(2025, 4, 9, 8, 0, tzinfo=UTC)
BOUNCES = f"bounces+2-7i2yu7zqadredljl@{DOMAIN}"

# (SMTP reply code, the relay's text, expected reason, hard)
CASES = [
    (550, "5.1.1 <r@example.org>: Recipient address rejected: User unknown", "user_unknown", True),
    (550, "5.1.2 Host unknown: example.invalid", "host_unknown", True),
    (550, "5.1.10 Recipient domain has null MX", "host_unknown", True),
    (550, "5.2.1 The email account that you tried to reach is disabled", "mailbox_disabled", False),
    (552, "5.2.2 Mailbox full: r@example.org is over quota", "mailbox_full", False),
    (550, "5.4.4 Unable to route: no MX for example.invalid", "host_unknown", True),
    (550, "5.5.0 Requested action not taken: mailbox unavailable", "user_unknown", True),
    (550, "5.5.0 <r@example.org>: no such user here", "user_unknown", True),
    (550, "5.7.1 This message is likely unsolicited mail; blocked", "spam_or_content", False),
    (550, "5.7.1 Service unavailable; client host blocked using Spamhaus", "policy_blocked", False),
    (
        550,
        "5.7.26 Unauthenticated email from example.com is not accepted (DMARC)",
        "auth_failure",
        False,
    ),
    (452, "4.2.2 The email account that you tried to reach is over quota", "mailbox_full", False),
    (451, "4.4.1 Connection timed out", "network", False),
    (421, "4.7.0 Try again later, closing connection (rate limited)", "rate_limited", False),
    (450, "4.7.0 Client host rejected: cannot find your hostname", "policy_blocked", False),
    (550, "5.0.0 Mailbox disabled for this recipient", "mailbox_disabled", False),
    (550, "5.1.1 Usuario desconocido", "user_unknown", True),
    (552, "5.2.2 El buzon esta lleno", "mailbox_full", False),
    (450, "4.1.1 User unknown in LDAP lookup, try again later", "other", False),
]


@pytest.mark.parametrize(("code", "text", "reason", "hard"), CASES, ids=[c[1][:24] for c in CASES])
def test_the_relay_reply_and_the_dsn_give_the_same_reason_and_decision(
    code: int, text: str, reason: str, hard: bool
) -> None:
    status = reasons.find_status(text)
    sending = outcome_of(
        Reply(code, text, "RCPT"),
        attempts=20,
        started_at=NOW - timedelta(days=9),
        now=NOW,
        base_delay=60,
        deadline=timedelta(hours=48),
    )
    # Postfix's DSN names the command the remote server answered, as the relay's reply did.
    raw = dsn(
        "r@example.org", status, diagnostic=f"smtp; {code} {text} (in reply to RCPT TO command)"
    )
    verdict = judge(raw, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    [failure] = verdict.failures
    assert verdict.kind == InboundKind.BOUNCE and failure.status == status
    assert (failure.reason, failure.hard) == (reason, hard)
    assert sending.status == DeliveryStatus.FAILED  # a permanent refusal, or past the deadline
    if code >= 500:
        assert (sending.reason, sending.suppress) == (reason, hard)


def test_every_status_the_issue_names_is_in_the_table() -> None:
    named = {
        "5.1.1",
        "5.1.2",
        "5.1.10",
        "5.2.1",
        "5.2.2",
        "5.4.4",
        "5.5.0",
        "5.7.1",
        "5.7.26",
        "4.2.2",
        "4.4.1",
        "4.7.0",
    }
    assert named <= {reasons.find_status(text) for _, text, _, _ in CASES}


def test_user_unknown_wording_counts_as_a_dead_mailbox_only_when_it_answered_rcpt() -> None:
    """Content filters also say "user unknown" after the message was sent (sisimai's rule)."""
    assert reasons.judge("", "550 5.5.0 No such user", "RCPT").hard
    assert not reasons.judge("", "550 5.5.0 No such user", "DATA").hard
    assert reasons.judge("", "550 No such user (in reply to RCPT TO command)").hard
    assert reasons.judge("5.1.1", "550 5.1.1 User unknown (in reply to end of DATA command)").hard


def test_a_refusal_of_our_sender_is_never_the_readers_dead_address() -> None:
    for text in (
        "550 5.1.0 Address rejected (after MAIL FROM)",
        "553 5.1.8 <bounces@news.example.com>... Domain of sender address does not exist",
        "501 5.1.7 Bad sender address syntax",
    ):
        judged = reasons.judge("", text)
        assert (judged.reason, judged.hard) == (reasons.Reason.POLICY_BLOCKED, False), text


# Exim's answer when its sender verification (a callout to our return path) failed: the
# receiving server refused our envelope sender, whatever it says of "unrouteable" or "User
# unknown" (that is our address it could not reach), and the reader is not at fault.
EXIM_SENDER_VERIFY = [
    "550-Verification failed for <bounces+2-7i2yu7zqadredljl@news.example.com> "
    '550-unrouteable mail domain "news.example.com"',
    "550-Verification failed for <bounces@news.example.com> 550-Unrouteable address",
    "550-Verification failed for <bounces@news.example.com> 550-Called: 192.0.2.1 "
    "550-Sent: RCPT TO:<bounces@news.example.com> 550-Response: 550 5.1.1 "
    "<bounces@news.example.com>: Recipient address rejected: User unknown in local recipient "
    "table 550-Sender verification failed (Sending test bounce to 550 "
    "bounces@news.example.com failed).",
    "550 5.1.1 Sender verification failed: no such user <bounces@news.example.com>",
    "550 Could not verify sender address: mailbox unknown",
]


@pytest.mark.parametrize("text", EXIM_SENDER_VERIFY, ids=lambda t: t[:40])
@pytest.mark.parametrize("status", ["", "5.0.0", "5.1.1", "5.1.2"])
def test_a_failed_verification_of_our_sender_is_not_the_readers_dead_address(
    text: str, status: str
) -> None:
    judged = reasons.judge(status, f"{text} (in reply to RCPT TO command)")
    assert (judged.reason, judged.hard) == (reasons.Reason.POLICY_BLOCKED, False)


# A mailbox its provider says is no longer in use: gone, whatever generic code comes with it.
@pytest.mark.parametrize(
    ("status", "text"),
    [
        ("5.0.0", "550 This account is no longer active"),
        ("", "550 <r@example.org>: account is no longer active"),
        ("5.0.0", "551 <r@example.org> is a deactivated mailbox"),
        ("", "550 Requested action not taken: mailbox is inactive"),
        ("5.5.0", "550 5.5.0 Recipient mailbox inactive"),
        ("", "554 delivery error: this address is no longer in use"),
        ("5.0.0", "550 The mailbox you tried to reach has been deactivated"),
        ("", "550 Inactive account <r@example.org>"),
        ("", "550 The account you are trying to reach has been closed"),
        ("5.0.0", "550 Account closed due to inactivity"),
        ("", "550 <r@example.org>: mailbox deleted"),
        # Sun/iPlanet Messaging Server's own word for it (RFC 3464's example report)
        ("", "500 (err.nosuchuser)"),
        # the same family in Spanish, French, German and Portuguese
        ("", "550 La cuenta de correo está inactiva"),
        ("", "550 el buzón ya no está activo"),
        ("", "550 Cette adresse n'est plus active"),
        ("", "550 Das Postfach ist deaktiviert"),
        ("", "550 A conta de e-mail está desativada"),
    ],
)
def test_a_mailbox_no_longer_active_is_a_hard_bounce(status: str, text: str) -> None:
    judged = reasons.judge(status, f"{text} (in reply to RCPT TO command)")
    assert (judged.reason, judged.hard) == (reasons.Reason.USER_UNKNOWN, True)


@pytest.mark.parametrize(
    ("status", "text"),
    [
        # RFC 3463's 5.2.1: the mailbox exists but takes no mail for now (Gmail's inactive
        # accounts, which sisimai reads as suspended)
        ("5.2.1", "550 5.2.1 The email account that you tried to reach is inactive"),
        ("4.2.1", "450 4.2.1 Recipient rejected: temporarily inactive"),
        ("", "550 Mailbox temporarily inactive"),
        ("", "550 buzón temporalmente inactivo"),
        ("", "550 Postfach vorübergehend deaktiviert"),
        # our own account, or a connection, closed: not the reader's mailbox
        ("", "550 Your account has been closed"),
        ("", "421 Remote host closed the connection"),
    ],
)
def test_an_inactive_mailbox_that_may_come_back_or_is_not_the_readers_stays_soft(
    status: str, text: str
) -> None:
    judged = reasons.judge(status, f"{text} (in reply to RCPT TO command)")
    assert not judged.hard


def test_hard_is_a_property_of_the_reason_not_of_the_first_digit() -> None:
    hard = {r for r in reasons.Reason if reasons.is_hard(r)}
    assert hard == {
        reasons.Reason.USER_UNKNOWN,
        reasons.Reason.HOST_UNKNOWN,
        reasons.Reason.HAS_MOVED,
    }
    assert not reasons.judge("5.7.1", "550 5.7.1 blocked").hard
    assert not reasons.judge("5.2.2", "552 5.2.2 mailbox full").hard


def test_a_relay_refusal_for_spam_does_not_suppress_but_user_unknown_does() -> None:
    kwargs = {
        "attempts": 1,
        "started_at": NOW,
        "now": NOW,
        "base_delay": 60,
        "deadline": timedelta(hours=48),
    }
    spam = outcome_of(Reply(550, "5.7.1 message blocked as spam", "DATA"), **kwargs)  # type: ignore[arg-type]
    gone = outcome_of(Reply(550, "5.1.1 user unknown", "RCPT"), **kwargs)  # type: ignore[arg-type]
    assert (spam.status, spam.suppress) == (DeliveryStatus.FAILED, False)
    assert (gone.status, gone.suppress) == (DeliveryStatus.FAILED, True)


@pytest.mark.parametrize(
    ("text", "hard"),
    [
        # A bare reply naming the recipient before its text answered RCPT (Postfix, Sendmail).
        ("550 <ana@mail.example.net>: User unknown", True),
        ("550: <ana@mail.example.net>: User unknown", True),
        # A reply that names the recipient after its words is about that recipient: RCPT.
        ("550 unknown user <ana@mail.example.net>", True),
        # No command said and none to infer: a filter's answer, as sisimai reads it (soft).
        ("550 User unknown: ana@mail.example.net", False),
        ("550 5.7.1 550 User Unknown: ana@mail.example.net", False),
        ("550 - Requested action not taken: no such user here", False),
        ("Error: Invalid user address", False),
        # Its own code, not an address one, and no command: not inferred.
        ("550 5.2.1 <ana@mail.example.net>... User Unknown", False),
        # Said after the message: a filter, whatever the shape.
        ("550 <ana@mail.example.net>: User unknown (in reply to end of DATA command)", False),
        (">>> DATA\n<<< 550 <ana@mail.example.net>... User unknown", False),
    ],
)
def test_user_unknown_wording_is_a_dead_mailbox_only_when_it_answered_rcpt(
    text: str, hard: bool
) -> None:
    """sisimai's rule: a user-unknown phrase without a 5.1.1 is a filter's answer unless the
    refusal answered RCPT, said or inferred from the reply's shape; soft when in doubt."""
    judged = reasons.judge("", text)
    assert judged.hard is hard, judged
    expected = reasons.Reason.USER_UNKNOWN if hard else reasons.Reason.SPAM_OR_CONTENT
    assert judged.reason == expected, judged


def test_a_failed_lookup_is_a_network_error_even_under_a_host_unknown_code() -> None:
    """A DNS answer that could not be read is not a domain that does not exist (Postfix gives
    both 5.4.4); a loop or a missing route neither."""
    for status, text in (
        (
            "5.4.4",
            "Name service error for name=mail.example.net type=MX: Malformed or unexpected "
            "name server reply",
        ),
        ("5.1.2", "554 5.1.2 Host name lookup failure for mail.example.net"),
        ("5.4.6", "554 5.4.6 Too many hops"),
    ):
        judged = reasons.judge(status, text)
        assert (judged.reason, judged.hard) == (reasons.Reason.NETWORK, False), text
    gone = reasons.judge(
        "5.4.4",
        "Host or domain name not found. Name service error for "
        "name=nowhere.example type=A: Host not found",
    )
    assert (gone.reason, gone.hard) == (reasons.Reason.HOST_UNKNOWN, True)


def test_a_refusal_by_the_readers_own_preferences_is_soft_even_under_5_1_1() -> None:
    for text in (
        "550 5.1.1 RCP-P2 Refused due to recipient preferences",
        "550 5.1.1 The recipient is only accepting mail from specific email addresses",
        "554 5.1.1 You have been blocked by the recipient",
    ):
        judged = reasons.judge("5.1.1", text)
        assert (judged.reason, judged.hard) == (reasons.Reason.SPAM_OR_CONTENT, False), text


def test_exchange_recipient_not_found_is_the_mailbox_not_the_domain() -> None:
    judged = reasons.judge(
        "5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP lookup"
    )
    assert (judged.reason, judged.hard) == (reasons.Reason.USER_UNKNOWN, True)


def test_a_reason_a_notice_names_keeps_the_temporary_rule() -> None:
    """A family's own word ("Unknown user") under a 4xx is a lookup that failed for now."""
    now = reasons.named(reasons.Reason.USER_UNKNOWN, "", "550 unknown user")
    later = reasons.named(reasons.Reason.USER_UNKNOWN, "4.0.0", "450 try again")
    assert (now.reason, now.hard) == (reasons.Reason.USER_UNKNOWN, True)
    assert (later.reason, later.hard) == (reasons.Reason.OTHER, False)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # RFC 5321 4.2.2: 551 "User not local; please try <forward-path>": the address moved.
        ("551 User not local; please try <ana@new.example.org>", reasons.Reason.HAS_MOVED),
        # Exim's router when every MX of the domain names a host that does not exist.
        ("all relevant MX records point to non-existent hosts", reasons.Reason.HOST_UNKNOWN),
        # A reply that repeats the RCPT TO command it refuses answered RCPT: a dead mailbox.
        ("550 RCPT TO:<ana@mail.example.net> User unknown", reasons.Reason.USER_UNKNOWN),
    ],
)
def test_an_address_level_failure_in_a_mail_systems_own_words_is_hard(
    text: str, reason: reasons.Reason
) -> None:
    judged = reasons.judge("", text)
    assert (judged.reason, judged.hard) == (reason, True), judged


def test_a_local_delivery_programs_exit_status_is_not_a_dead_address() -> None:
    """Postfix maps a pipe command's exit code to a status (sysexits 67 -> 5.1.1): the program
    failed on the recipient's system; it is not the remote server saying the address is gone."""
    judged = reasons.judge(
        "5.1.1",
        'Command died with status 67: "/usr/local/bin/deliver-mail". Command output: '
        "deliver-mail: lookup failed",
    )
    assert (judged.reason, judged.hard) == (reasons.Reason.OTHER, False), judged
    # The same code from a server that looked the address up is still a dead mailbox.
    assert reasons.judge("5.1.1", "550 5.1.1 <ana@example.org>: User unknown").hard


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("550 Usuario no encontrado", reasons.Reason.USER_UNKNOWN),
        ("550 Der Empfänger wurde nicht gefunden", reasons.Reason.USER_UNKNOWN),
        ("550 Postfach existiert nicht", reasons.Reason.USER_UNKNOWN),
        ("550 Boîte aux lettres inexistante", reasons.Reason.USER_UNKNOWN),
        ("550 Utente inesistente", reasons.Reason.USER_UNKNOWN),
        ("550 Conta de e-mail não existe", reasons.Reason.USER_UNKNOWN),
        ("550 Почтовый ящик не существует", reasons.Reason.USER_UNKNOWN),
        ("552 Das Postfach des Empfängers ist voll", reasons.Reason.MAILBOX_FULL),
        ("552 Boîte aux lettres du destinataire pleine", reasons.Reason.MAILBOX_FULL),
        ("552 A caixa de correio está cheia", reasons.Reason.MAILBOX_FULL),
    ],
)
def test_a_missing_or_full_mailbox_is_read_in_the_usual_languages(
    text: str, reason: reasons.Reason
) -> None:
    """Mail systems answer in their own language; a missing mailbox is a dead address (said at
    RCPT), a full one soft, whatever the language."""
    judged = reasons.judge("", f"{text} (in reply to RCPT TO command)")
    assert (judged.reason, judged.hard) == (reason, reason == reasons.Reason.USER_UNKNOWN)


@pytest.mark.parametrize(
    "text",
    [
        "550 Sorry, no user by that name.",
        "550 Unknown local user",
        "550 Recipient not in directory",
        "550 User has no mailbox",
        "550 No mailbox by that name is currently available",  # RFC 5321's own 550 wording
        "554 no valid recipient",
    ],
)
def test_mail_systems_other_words_for_a_missing_mailbox_are_a_dead_address(text: str) -> None:
    judged = reasons.judge("", text)
    assert (judged.reason, judged.hard) == (reasons.Reason.USER_UNKNOWN, True), judged


@pytest.mark.parametrize(
    "text",
    [
        "550 The user's mailbox is over the allowed quota",
        "552 inbox is full",
        "552 Requested mail action aborted: mailbox is at capacity",
        "452 Insufficient space in mailbox",
        "550 recipient mailbox exceeds allowed size",
        # Postfix's maildir delivery (bounce_email's tt_bounce_16), under a 5.2.3 that says less
        "maildir delivery failed: Sorry, the user's maildir has overdrawn his diskspace quota",
    ],
)
def test_a_full_mailbox_in_other_words_is_soft(text: str) -> None:
    judged = reasons.judge("", text)
    assert (judged.reason, judged.hard) == (reasons.Reason.MAILBOX_FULL, False), judged


@pytest.mark.parametrize(
    "text",
    [
        # AOL's own notice (Mail::DeliveryStatus::BounceParser t/corpus/aol-senderblock.msg)
        "Your mail to the following recipients could not be delivered because they are not "
        "accepting mail with attachments or embedded images",
        # Gmail behind a Sendmail relay (CwsMailBounceHandler emls/bounce_570_001.eml)
        "552-5.7.0 Our system detected an illegal attachment on your message. Please",
        "554 5.7.1 Message rejected: prohibited attachment type .exe",
    ],
)
def test_a_refusal_of_attachments_is_the_messages_content_not_a_dead_domain(text: str) -> None:
    """ "Not accepting mail with attachments" refuses this message, not all mail: the domain
    exists and the reader can be written to without the attachment."""
    judged = reasons.judge(reasons.find_status(text), text)
    assert (judged.reason, judged.hard) == (reasons.Reason.SPAM_OR_CONTENT, False), judged


@pytest.mark.parametrize(
    "text",
    [
        "550 5.1.10 example.org does not accept mail (nullMX)",
        "554 5.7.27 This domain is not accepting mail",
        "550 Domain example.org does not accept any mail",
    ],
)
def test_a_domain_that_takes_no_mail_at_all_is_still_a_dead_domain(text: str) -> None:
    judged = reasons.judge(reasons.find_status(text), text)
    assert (judged.reason, judged.hard) == (reasons.Reason.HOST_UNKNOWN, True), judged


@pytest.mark.parametrize(
    ("status", "text"),
    [
        # Commtouch's report: Status 5.1.1 over a reply about the size (BounceParser quota-4.msg)
        ("5.1.1", "550 RCPT TO:<fred-bloggs@a.example> max message size exceeded"),
        ("5.1.1", "552 Message size exceeds fixed maximum message size"),
        ("5.1.1", "message size 18876259 exceeds size limit 10485760 of server mx.example.net"),
        ("", "Mail size limit exceeded. For explanation visit http://postmaster.1and1.com/"),
        ("5.2.3", "552 5.2.3 Message too large"),
    ],
)
def test_a_message_too_large_is_soft_whatever_address_code_the_report_guessed(
    status: str, text: str
) -> None:
    """The size of our message is refused, not the reader's address: soft, even when the
    reporting MTA put an address-level Status on it."""
    judged = reasons.judge(status, text)
    assert (judged.reason, judged.hard) == (reasons.Reason.OTHER, False), judged


def test_postfix_delivery_temporarily_suspended_is_the_network_not_a_disabled_mailbox() -> None:
    """Postfix repeats "delivery temporarily suspended: <why>" for a host it could not reach:
    the connection failed, the reader's mailbox is not suspended."""
    for text in (
        "delivery temporarily suspended: connect to mx.example.net[192.0.2.1]:25: "
        "Connection refused",
        "delivery temporarily suspended: lost connection with mx.example.net[192.0.2.1] "
        "while receiving the initial server greeting",
    ):
        judged = reasons.judge("4.0.0", text)
        assert (judged.reason, judged.hard) == (reasons.Reason.NETWORK, False), judged


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("550 Mailbox quota usage exceeded", reasons.Reason.MAILBOX_FULL),
        ("552 Почтовый ящик переполнен", reasons.Reason.MAILBOX_FULL),
        ("552 Превышен лимит размера почтового ящика", reasons.Reason.MAILBOX_FULL),
        ("552 收件人邮箱空间已满", reasons.Reason.MAILBOX_FULL),
        ("552 邮箱容量不足", reasons.Reason.MAILBOX_FULL),
        ("552 メールボックスの容量を超えています", reasons.Reason.MAILBOX_FULL),
        ("550 收件人地址不存在", reasons.Reason.USER_UNKNOWN),
        ("550 该邮箱不存在", reasons.Reason.USER_UNKNOWN),
        ("550 Der Empfänger ist unbekannt", reasons.Reason.USER_UNKNOWN),
        ("550 Adresse introuvable", reasons.Reason.USER_UNKNOWN),
        ("550 Adresse d au moins un destinataire invalide", reasons.Reason.USER_UNKNOWN),
        ("550 Нет такого пользователя", reasons.Reason.USER_UNKNOWN),
    ],
)
def test_a_missing_or_full_mailbox_in_more_languages(text: str, reason: reasons.Reason) -> None:
    judged = reasons.judge("", f"{text} (in reply to RCPT TO command)")
    assert (judged.reason, judged.hard) == (reason, reason == reasons.Reason.USER_UNKNOWN)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # Gmail's per-recipient limit, under a 4.2.1 that alone would read "disabled mailbox"
        (
            "452-4.2.1 The recipient you are trying to contact is receiving mail at a rate that "
            "prevents additional messages from being delivered.",
            reasons.Reason.RATE_LIMITED,
        ),
        (
            "450-4.2.1 The user you are trying to contact is receiving mail too quickly. Please "
            "resend your message at a later time.",
            reasons.Reason.RATE_LIMITED,
        ),
        # Yahoo's refusal of our sending IP
        (
            "553 5.7.2 [TSS09] All messages from 192.0.2.1 will be permanently deferred; "
            "Retrying will NOT succeed.",
            reasons.Reason.POLICY_BLOCKED,
        ),
    ],
)
def test_a_receivers_rate_limit_or_ip_refusal_is_named_so(
    text: str, reason: reasons.Reason
) -> None:
    judged = reasons.judge(reasons.find_status(text), text)
    assert (judged.reason, judged.hard) == (reason, False), judged
