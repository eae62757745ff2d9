"""What an inbound message is: a bounce, a complaint, a delivery notice, an auto-reply, an
unsubscribe request or a client inquiry.

A pure function of the raw bytes and the SMTP envelope (`judge`), so every rule can be tested on
real messages without a server or a database (`mailer inbound classify` shows it on files). The
rules are the detectors in mailer/inbound/detectors/, one small module each, run in a declared
order; the reason of a failure and whether it is hard come from mailer/sending/reasons.py, the
same judgement the sending path applies to the relay's reply. Acting on the verdict is
mailer/inbound/process.py.

What no detector claims:
- at `unsubscribe+`: an unsubscribe request (the List-Unsubscribe mailto), whatever it says;
- at `bounces+` from the null sender: a bounce for that token's delivery, judged on the notice's
  words (`text.readers_own_failure`; soft, reason `other`, when they say nothing known): only
  mail systems write to an envelope sender;
- at `reply+`: an inquiry for the partner, unless a mail system sent it (null sender, a
  MAILER-DAEMON From): that is kept unrecognized, never forwarded;
- at `postmaster@` / `abuse@` (roles.py): nothing more; a bounce's or delivery notice's
  `tokens` are the identifiers of the original it returns (it has no VERP token of its own);
- anything else: unrecognized, kept for an admin to read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import getaddresses

from mailer import tokens
from mailer.errors import TokenError
from mailer.inbound import detectors
from mailer.inbound.departures import Departure, find_own_departure
from mailer.inbound.detectors.base import Failure, Mail, about_reader
from mailer.inbound.message import UnreadableMessage, body_text, parse_safely, reply_text
from mailer.inbound.models import InboundKind
from mailer.inbound.roles import is_role, role_of

__all__ = ["Classification", "Failure", "UnreadableMessage", "judge", "parse_safely"]


@dataclass(frozen=True)
class Classification:
    kind: InboundKind
    reason: str  # why, for the record and for an admin reading it later
    address_kind: str = ""  # reply, bounces, unsubscribe ("" when not ours)
    failures: tuple[Failure, ...] = field(default_factory=tuple)
    rule: str = ""  # the detector that decided: rfc3464, family:qmail, optout…
    tokens: tuple[str, ...] = field(default_factory=tuple)  # ours in the original a report carries
    departure: Departure | None = None  # a notice that the reader left (departures.py)
    report_tokens: tuple[str, ...] = field(default_factory=tuple)  # the report's own


def _own_departure(mail: Mail) -> Departure | None:
    """A reader's own message saying they have left: still an inquiry (the partner reads it and
    the contact it names), and the reader is tagged as an auto-reply's departure notice would."""
    name = next((n for n, _ in getaddresses([mail.from_text]) if n), "")
    own = f"{mail.subject}\n{reply_text(body_text(mail.msg))}"
    return find_own_departure(
        own,
        sender_name=name,
        not_contacts=frozenset({mail.from_address}),
        not_domain=mail.domain,
    )


def _for_the_reader(mail: Mail, verdict: detectors.Verdict) -> tuple[tuple[Failure, ...], str]:
    """A bounce's failures and reason as they concern the reader our returned message was for
    (`about_reader`): soft when it names only other addresses."""
    if verdict.kind != InboundKind.BOUNCE:
        return verdict.failures, verdict.reason
    reader = detectors.text.returned_reader(mail)
    failures = about_reader(verdict.failures, reader)
    if failures == verdict.failures:
        return failures, verdict.reason
    return failures, (
        f"{verdict.reason}; not the address of the returned message's reader ({reader}): a copy "
        "sent on elsewhere, soft"
    )


def _about(mail: Mail, verdict: detectors.Verdict) -> tuple[str, ...]:
    """Our identifiers in the original a report is about. A delivery report at a role address
    (postmaster@, abuse@) has no VERP token to name its delivery: the original it returns does,
    by our Message-ID or a token in its headers, read as a complaint's original is."""
    if verdict.tokens or not is_role(mail.address_kind):
        return verdict.tokens
    if verdict.kind not in (InboundKind.BOUNCE, InboundKind.DELIVERED):
        return verdict.tokens
    return detectors.rfc5965.tokens_of_original(mail)


def address_kind(rcpt_to: str, domain: str) -> str:
    """reply, bounces, unsubscribe, postmaster or abuse; "" when the address is not ours."""
    role = role_of(rcpt_to, domain)
    if role is not None:
        return role
    try:
        return tokens.parse_address(rcpt_to, domain)[0]
    except TokenError:
        return ""


def judge(raw: bytes, *, mail_from: str | None, rcpt_to: str, domain: str) -> Classification:
    """Decide what one received message is. Pure: bytes and envelope in, a verdict out.

    `mail_from` is the SMTP envelope sender ("" for the null sender, None when unknown: then the
    message's Return-Path, if any, is taken for it).
    Raises UnreadableMessage for a message that cannot be read safely.
    """
    kind_of_address = address_kind(rcpt_to, domain)
    msg = parse_safely(raw)
    if mail_from is None and msg.get("Return-Path") is not None:
        # A saved message: the delivering MTA recorded the envelope sender here.
        mail_from = str(msg.get("Return-Path", "")).strip().strip("<>").strip()
    mail = Mail(raw, msg, mail_from, kind_of_address, domain)
    if kind_of_address == "unsubscribe" and not detectors.guarded(
        "loop", detectors.loop.detect, mail
    ):
        return Classification(
            InboundKind.UNSUBSCRIBE,
            "sent to the unsubscribe address",
            "unsubscribe",
            rule="address",
        )
    try:
        verdict = detectors.run(mail)
    except RecursionError as exc:
        raise UnreadableMessage("the message's MIME structure is too deep to read") from exc
    if verdict is not None:
        failures, reason = _for_the_reader(mail, verdict)
        return Classification(
            verdict.kind,
            reason,
            kind_of_address,
            failures,
            verdict.rule,
            _about(mail, verdict),
            verdict.departure,
            verdict.report_tokens,
        )
    if kind_of_address == "bounces" and mail.null_sender:
        return Classification(
            InboundKind.BOUNCE,
            "a message from a mail system to our return path, in no format we know",
            kind_of_address,
            (detectors.text.readers_own_failure(mail),),
            "null-sender",
        )
    if kind_of_address == "reply" and (mail.null_sender or mail.from_daemon):
        return Classification(
            InboundKind.UNRECOGNIZED,
            "an automatic message (null sender or a mail system's From) at a reply address, in "
            "no format we know; kept for an admin to read, never forwarded to a partner",
            kind_of_address,
            rule="automatic",
        )
    if kind_of_address == "reply":
        left = _own_departure(mail)
        if left is not None:
            return Classification(
                InboundKind.INQUIRY,
                f"a reply from a reader; it says they have left ({left.phrase!r})",
                kind_of_address,
                rule="reply:departure",
                departure=left,
            )
        return Classification(
            InboundKind.INQUIRY, "a reply from a reader", kind_of_address, rule="reply"
        )
    return Classification(
        InboundKind.UNRECOGNIZED,
        "neither a bounce, a complaint nor an automatic reply; kept for an admin to read",
        kind_of_address,
        rule="none",
    )
