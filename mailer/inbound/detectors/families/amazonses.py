"""Amazon SES notifications relayed by email through SNS: a JSON document (notificationType
Bounce, Complaint or Delivery) in a text part, often with its lines folded by the mail system.

Read leniently (the JSON is rarely intact after transport): escaped quotes undone, folded lines
joined, then each recipient's emailAddress with the status and diagnosticCode that follow it.
"""

from __future__ import annotations

import re

from mailer.inbound.detectors.base import Failure, Mail, Verdict, failure
from mailer.inbound.models import InboundKind
from mailer.sending.reasons import Reason

NAME = "amazonses"
_TYPE = re.compile(r'"notificationType"\s*:\s*"(Bounce|Complaint|Delivery)"')
_RECIPIENT = re.compile(r'"emailAddress"\s*:\s*"([^"]+)"(?P<rest>[^{}]*)')
_FIELD = r'"{name}"\s*:\s*"([^"]*)"'
# SES's bounceSubType names the reason when a recipient carries no status nor diagnosticCode
# (the SES developer guide's bounce types); the others say nothing about the address.
_SUBTYPE = re.compile(r'"bounceSubType"\s*:\s*"([A-Za-z]+)"')
_BY_SUBTYPE = {
    "NoEmail": Reason.USER_UNKNOWN,
    "MailboxFull": Reason.MAILBOX_FULL,
    "MessageTooLarge": Reason.SPAM_OR_CONTENT,
    "ContentRejected": Reason.SPAM_OR_CONTENT,
    "AttachmentRejected": Reason.SPAM_OR_CONTENT,
}


def claims(mail: Mail) -> bool:
    return "amazonses.com" in mail.from_address or "amazonaws.com" in mail.from_address


def _document(mail: Mail) -> str:
    text = mail.text.replace('\\"', '"')
    return re.sub(r"\n[ \t]", "", text)


def detect(mail: Mail) -> Verdict | None:
    doc = _document(mail)
    kind = _TYPE.search(doc)
    if kind is None:
        return None
    if kind.group(1) == "Delivery":
        return Verdict(InboundKind.DELIVERED, f"family:{NAME}", "Amazon SES delivery notification")
    found: list[Failure] = []
    subtype = _SUBTYPE.search(doc)
    named = _BY_SUBTYPE.get(subtype.group(1)) if subtype else None
    for match in _RECIPIENT.finditer(doc):
        rest = match.group("rest")
        status = re.search(_FIELD.format(name="status"), rest)
        diagnostic = re.search(_FIELD.format(name="diagnosticCode"), rest)
        action = re.search(_FIELD.format(name="action"), rest)
        if kind.group(1) == "Complaint":
            found.append(Failure(recipient=match.group(1), hard=False, reason="feedback:abuse"))
        else:
            found.append(
                failure(
                    match.group(1),
                    status.group(1) if status else "",
                    diagnostic.group(1) if diagnostic else "",
                    action.group(1) if action else "failed",
                    reason=named if not (status or diagnostic) else None,
                )
            )
    if kind.group(1) == "Complaint":
        return Verdict(
            InboundKind.COMPLAINT,
            f"family:{NAME}",
            "Amazon SES complaint notification",
            tuple(found),
        )
    if not found:
        return None
    return Verdict(
        InboundKind.BOUNCE, f"family:{NAME}", "Amazon SES bounce notification", tuple(found)
    )
