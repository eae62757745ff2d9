"""Symantec (Broadcom) Email Security.cloud, formerly MessageLabs: RFC 3464 reports from
MAILER-DAEMON@messagelabs.com whose Diagnostic-Code uses the service's own terse wording.

The report is read as any RFC 3464 report; the service's wording for a recipient it does not
know ("542 r@example.org Rejected", "No such user", "Invalid recipient", "Recipient mailbox is
not allowed") names a dead mailbox, as sisimai's MessageLabs tables read it. Any other
diagnostic is judged as usual. Tried before the generic RFC 3464 reader, which would take a bare
"542 … Rejected" for an unexplained refusal.
"""

from __future__ import annotations

import re

from mailer.inbound.detectors import rfc3464
from mailer.inbound.detectors.base import Failure, Mail, Verdict, failure, family_bounce
from mailer.inbound.models import InboundKind
from mailer.sending.reasons import Reason

NAME = "messagelabs"
_UNKNOWN_RECIPIENT = re.compile(
    r"^\s*542\b.*\brejected\b|no such user|invalid recipient|recipient mailbox is not allowed",
    re.I,
)


def claims(mail: Mail) -> bool:
    return mail.from_address.endswith("@messagelabs.com") or "X-Msg-Ref" in mail.msg


def detect(mail: Mail) -> Verdict | None:
    verdict = rfc3464.detect(mail)
    if verdict is None or verdict.kind != InboundKind.BOUNCE:
        return verdict
    found: list[Failure] = []
    for one in verdict.failures:
        if one.hard or not _UNKNOWN_RECIPIENT.search(one.diagnostic):
            found.append(one)
            continue
        found.append(
            failure(
                one.recipient,
                one.status,
                one.diagnostic,
                one.action,
                one.original_recipient,
                reason=Reason.USER_UNKNOWN,
            )
        )
    return family_bounce(NAME, "Email Security.cloud report", found)
