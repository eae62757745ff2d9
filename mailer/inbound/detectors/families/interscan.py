"""Trend Micro InterScan Messaging Security Suite notices ("Mail could not be delivered", from
"InterScan MSS" or "InterScan Notification"), before the attached original.

Two shapes: a transcript of the refused session ("Sent <<< RCPT TO:<r@example.org>", then
"Received >>> 550 5.1.1 … user unknown"), judged as any reply with the command it answered; or
InterScan's own sentence "Unable to deliver message to <r@example.org> (and other recipients in
the same domain). Please check if address is correct.", which InterScan writes when the next hop
refused the address itself: a dead mailbox (sisimai's InterScanMSS rule).
"""

from __future__ import annotations

import re

from mailer.inbound.detectors.base import ADDRESS, Failure, Mail, Verdict, failure, family_bounce
from mailer.sending import reasons
from mailer.sending.reasons import Reason

NAME = "interscan"
_SUBJECTS = (
    "Mail could not be delivered",
    "メッセージを配信できません。",
    "メール配信に失敗しました",
)
_UNABLE = re.compile(
    rf"unable to deliver (?:the )?message to <(?P<address>{ADDRESS.pattern})>", re.I
)
_SENT = re.compile(rf"<<<\s*(?P<command>[A-Za-z]{{4}})\b.*?<(?P<address>{ADDRESS.pattern})>")
_RECEIVED = re.compile(r">>>\s*(?P<reply>[245]\d\d\b.*)$")


def claims(mail: Mail) -> bool:
    return "interscan" in mail.from_text.lower() or mail.subject.strip() in _SUBJECTS


def _transcript(lines: list[str]) -> list[Failure]:
    found: list[Failure] = []
    address = command = ""
    for line in lines:
        sent = _SENT.search(line)
        if sent:
            address, command = sent.group("address"), sent.group("command").upper()
            continue
        received = _RECEIVED.search(line)
        if received and address:
            reply = received.group("reply").strip()
            status = reasons.find_status(reply)
            found.append(failure(address, status, reply, "failed", command=command or None))
            address = command = ""
    return found


def detect(mail: Mail) -> Verdict | None:
    lines = mail.text.splitlines()
    found = _transcript(lines)
    seen = {f.recipient.lower() for f in found}
    for line in lines:
        unable = _UNABLE.search(line)
        if unable and unable.group("address").lower() not in seen:
            seen.add(unable.group("address").lower())
            found.append(
                failure(
                    unable.group("address"), "", line.strip(), "failed", reason=Reason.USER_UNKNOWN
                )
            )
    return family_bounce(NAME, "InterScan notice", found)
