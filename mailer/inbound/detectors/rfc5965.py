"""RFC 5965 Abuse Reporting Format (ARF) feedback reports, and provider notices like them.

A mailbox provider's feedback loop sends one when a reader presses "this is spam": a
`multipart/report; report-type=feedback-report` with a `message/feedback-report` part
(Feedback-Type, Original-Rcpt-To, Original-Mail-From…) and the original message or its headers.
Providers that do not follow the RFC still carry a `Feedback-Type:` field in a text part, or (older
Hotmail/Outlook.com JMRP) forward the original with a "complaint about message from" subject;
SpamCop attaches it to a "[SpamCop (…) id:…]" report.

Who complained is found by our identifiers in the original the report carries — our Message-ID,
a token in its Return-Path, List-Unsubscribe or Reply-To, the report's Original-Mail-From:
`Verdict.tokens` — and only when it carries none by the report's own (its text, then its
headers: `Verdict.report_tokens`) or the VERP address it reached; never by the addresses in the
report alone. A feedback loop registered with one reader's bounces+ address sends every report
there, addressed To: it: that reader is not the one who complained.

Feedback-Type `abuse`, `fraud`, `virus` and `other` are complaints that stop mail; `opt-out` (and
Apple Mail's Unsubscribe button) unsubscribes the reader from the list; `auth-failure` (DMARC
forensic reports) and `not-spam` are recorded only: they say nothing about the reader's wish.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from email.message import Message

from mailer.inbound.detectors.base import (
    Failure,
    Mail,
    Verdict,
    addresses_in,
    embedded_headers,
    own_parts,
    part_text,
)
from mailer.inbound.feedback_types import COMPLAINT_TYPES as COMPLAINT_TYPES
from mailer.inbound.feedback_types import OPT_OUT_TYPES as OPT_OUT_TYPES
from mailer.inbound.message import header
from mailer.inbound.models import InboundKind

_FIELD = re.compile(r"^(Feedback-Type|Original-Rcpt-To|Removal-Recipient):[ \t]*(.+)$", re.I | re.M)
_JMRP = re.compile(r"complaint about message from|abuse report", re.I)
# SpamCop's reports are not ARF: "[SpamCop (URL) id:…]<subject>" from …@reports.spamcop.net, the
# reported message attached. A person reported our mail as spam: a complaint.
_SPAMCOP = re.compile(r"^\s*\[SpamCop \(", re.I)
TOKEN_IN_TEXT = re.compile(
    r"(?:(?:reply|bounces|unsubscribe)\+|/u/)([0-9a-z]{1,13}-[a-z2-7]{16})(?![a-z0-9])", re.I
)


def feedback_fields(mail: Mail) -> dict[str, list[str]]:
    """Feedback-Type, Original-Rcpt-To and Removal-Recipient from the report (or any text)."""
    texts = [mail.text]  # the report's own parts, bounded (a thousand parts are not all read)
    for part in mail.msg.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            blocks = [b for b in payload if isinstance(b, Message)]
            texts.append("\n".join(f"{k}: {v}" for b in blocks for k, v in b.items()))
        else:
            texts.append(part_text(part))
    found: dict[str, list[str]] = {}
    for text in texts:
        for match in _FIELD.finditer(text):
            found.setdefault(match.group(1).lower(), []).append(match.group(2).strip())
    top = header(mail.msg, "Feedback-Type")
    if top:
        found.setdefault("feedback-type", []).append(top)
    return found


def _tokens_in(texts: Iterable[str]) -> tuple[str, ...]:
    """Delivery tokens in the texts, in order (lower case, once each)."""
    seen: dict[str, None] = {}
    for text in texts:
        for match in TOKEN_IN_TEXT.finditer(text):
            seen.setdefault(match.group(1).lower(), None)
    return tuple(seen)


def _original_texts(msg: Message) -> Iterator[str]:
    """What the report says of the original message: the headers and text of each original it
    carries (message/rfc822, text/rfc822-headers) and its feedback-report fields
    (Original-Mail-From is the original's return path)."""
    for head in embedded_headers(msg):
        yield "\n".join(f"{k}: {v}" for k, v in head.items())
    for part in msg.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list):
                blocks = [b for b in payload if isinstance(b, Message)]
                yield "\n".join(f"{k}: {v}" for b in blocks for k, v in b.items())
            else:
                yield part_text(part)
        elif part.get_content_type() == "message/rfc822":
            for inner in part.walk():
                if inner.get_content_maintype() == "text":
                    yield part_text(inner)


def tokens_of_original(mail: Mail) -> tuple[str, ...]:
    """Our identifiers in the original the report is about: its Message-IDs (ours name the
    delivery), then delivery tokens in it (Return-Path, List-Unsubscribe, Reply-To, links)."""
    return message_ids_inside(mail) + _tokens_in(_original_texts(mail.msg))


def tokens_of_report(mail: Mail) -> tuple[str, ...]:
    """Delivery tokens the report itself carries outside the original: its own text first (an
    original pasted into the body, SpamCop's subject line link), then its headers, the address
    it was sent to (To:, Delivered-To:) last."""
    own = "\n".join(part_text(p) for p in own_parts(mail.msg))
    return _tokens_in([own, mail.raw.decode("latin-1", "replace")])


def message_ids_inside(mail: Mail) -> tuple[str, ...]:
    """Message-IDs of the originals a report carries (ours name the delivery)."""
    out = []
    for head in embedded_headers(mail.msg):
        value = str(head.get("Message-ID", "") or "").strip()
        if value:
            out.append(value)
    return tuple(out)


def _verdict(mail: Mail, reason: str, failures: tuple[Failure, ...]) -> Verdict:
    """A complaint verdict with the original's identifiers and, apart, the report's own."""
    about = tokens_of_original(mail)
    own = tuple(t for t in tokens_of_report(mail) if t not in about)
    return Verdict(InboundKind.COMPLAINT, "rfc5965", reason, failures, about, report_tokens=own)


def _apple_unsubscribe(mail: Mail) -> Verdict | None:
    """Apple Mail's "Unsubscribe" button mails the List-Unsubscribe address with
    `X-Apple-Unsubscribe: true` from the reader's own address: an opt-out, whatever address of
    ours it reached (at the unsubscribe+ address, the address itself decides first)."""
    if header(mail.msg, "X-Apple-Unsubscribe").strip().lower() != "true":
        return None
    reader = (Failure(recipient=mail.from_address, hard=False, reason="feedback:opt-out"),)
    return _verdict(
        mail,
        f"feedback report (opt-out) about {mail.from_address}: Apple Mail's unsubscribe",
        reader if mail.from_address else (),
    )


def detect(mail: Mail) -> Verdict | None:
    apple = _apple_unsubscribe(mail)
    if apple is not None:
        return apple
    is_arf = mail.msg.get_param("report-type", "", header="Content-Type") == "feedback-report"
    is_arf = is_arf or any(
        p.get_content_type() == "message/feedback-report" for p in mail.msg.walk()
    )
    fields = feedback_fields(mail)
    spamcop = bool(_SPAMCOP.match(mail.subject)) or mail.from_address.endswith(
        "@reports.spamcop.net"
    )
    jmrp = bool(_JMRP.search(mail.subject) or spamcop) and bool(embedded_headers(mail.msg))
    if not (is_arf or "feedback-type" in fields or jmrp):
        return None
    feedback_type = (fields.get("feedback-type") or ["abuse" if jmrp else "other"])[0].lower()
    feedback_type = feedback_type.split()[0].strip(";")
    recipients = [a.strip("<> ") for a in fields.get("original-rcpt-to", [])]
    recipients += [a.strip("<> ") for a in fields.get("removal-recipient", [])]
    if not recipients:
        for head in embedded_headers(mail.msg):
            recipients += addresses_in(str(head.get("To", "") or ""))
    failures = tuple(
        Failure(recipient=r, hard=False, reason=f"feedback:{feedback_type}")
        for r in dict.fromkeys(r.lower() for r in recipients if r)
    )
    return _verdict(
        mail,
        f"feedback report ({feedback_type})"
        + (f" about {failures[0].recipient}" if failures else ""),
        failures,
    )
