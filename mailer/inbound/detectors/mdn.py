"""Read receipts (RFC 8098 message disposition notifications): the reader's mail client says the
message was displayed, or deleted unread. Not a person's words and not a failure: the message
was delivered, so the verdict is `delivered` and nothing reaches the partner.

Outlook, Thunderbird and Apple Mail send them as `multipart/report;
report-type=disposition-notification` with a `message/disposition-notification` part; some
clients send only the human-readable part ("Read: <subject>" and "Your message … was read on
…"), which is recognised by its subject and its sentence together. A mail system's rejection in
MDN form (Sieve's `reject`) is a bounce, not a receipt: it is left to the bounce readers.
"""

from __future__ import annotations

import re

from mailer.inbound.detectors.base import Mail, Verdict
from mailer.inbound.message import fold, header, normalise
from mailer.inbound.models import InboundKind

_RECEIPT_SUBJECT = re.compile(
    r"^\s*(?:read|not read|leido|no leido|gelesen|ungelesen|lu|non lu|letto|non letto|lido|"
    r"nao lido|gelezen|niet gelezen|read receipt|lesebestatigung)\s*:"
)
_RECEIPT_SENTENCE = re.compile(
    r"\bwas (?:read|deleted without being read) on\b|\bse ha leido\b|\bse elimino sin (?:ser )?"
    r"leer\b|\bwurde (?:am .{0,40})?gelesen\b|\ba ete lu\b|\be stato letto\b|\bfoi lida\b|"
    r"\bis gelezen\b"
)


def _disposition(mail: Mail) -> str:
    """The Disposition field of the notification part ("manual-action/…; displayed")."""
    for part in mail.msg.walk():
        if part.get_content_type() != "message/disposition-notification":
            continue
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else []
        for block in blocks:
            value = block.get("Disposition") if hasattr(block, "get") else None
            if value:
                return str(value).split(";")[-1].strip()
        found = re.search(r"^Disposition:[^;\n]*;\s*(\S+)", str(payload), re.I | re.M)
        return found.group(1) if found else ""
    return ""


# A mail system's rejection sent in MDN form (a Sieve `reject`, Dovecot's "Your message to … was
# automatically rejected: Quota exceeded", RFC 5429): a bounce, left to the bounce readers.
_REJECTION = re.compile(r"\brejected\b|delivery agent|\blda\b|\blmtp\b|\bsieve\b", re.I)


def _rejection(mail: Mail) -> bool:
    if mail.from_daemon or "rejected" in header(mail.msg, "Auto-Submitted").lower():
        return True
    return bool(_REJECTION.search(mail.text[:2000]))


def detect(mail: Mail) -> Verdict | None:
    if _rejection(mail):
        return None
    types = {p.get_content_type() for p in mail.msg.walk()}
    report = mail.msg.get_param("report-type", "", header="Content-Type")
    if "message/delivery-status" in types or "message/feedback-report" in types:
        return None
    if report == "disposition-notification" or "message/disposition-notification" in types:
        disposition = _disposition(mail) or "a disposition"
        return Verdict(InboundKind.DELIVERED, "mdn", f"a read receipt (RFC 8098): {disposition}")
    if _RECEIPT_SUBJECT.match(fold(mail.subject)) and _RECEIPT_SENTENCE.search(
        normalise(mail.text[:2000])
    ):
        return Verdict(InboundKind.DELIVERED, "mdn", "a read receipt, in words only")
    return None
