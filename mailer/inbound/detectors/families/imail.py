"""Ipswitch IMail Server ("SMTP32") notices: one line per failed recipient, led by IMail's own
word for the failure ("Unknown user: r@example.org", "Delivery failed 20 attempts: r@…",
"undeliverable to r@…"), then what the next server answered ("RCPT TO generated following
response: 550 …", "Body of message generated response: 550 …"), before "Original message
follows.".

IMail's leading words are its own verdict on the address, read with its vocabulary (as sisimai's
IMailServer table does); without one ("undeliverable to"), the quoted reply is judged as any
other, with the command IMail names (RCPT TO, or DATA for "Body of message").
"""

from __future__ import annotations

import re

from mailer.inbound.detectors.base import ADDRESS, Failure, Mail, Verdict, failure, family_bounce
from mailer.sending.reasons import Reason

NAME = "imail"
_ORIGINAL = re.compile(r"^\s*original message follows\.?\s*$", re.I | re.M)
# "Unknown user: r@example.org", "undeliverable to r@example.org"
_RECIPIENT = re.compile(
    rf"^\s*(?:(?P<label>[A-Za-z][A-Za-z0-9 ,.'-]{{2,60}}?):\s*|undeliverable\s+to\s+)"
    rf"<?(?P<address>{ADDRESS.pattern})>?\s*$",
    re.I,
)
# Possessive runs: a line of spaces was split every way between them (cubic time).
_RESPONSE = re.compile(
    r"^\s*+(?P<command>\S.*?)\s++generated\s+(?:the\s+)?(?:following\s+)?response:", re.I
)
_LABELS: tuple[tuple[Reason, re.Pattern[str]], ...] = (
    (Reason.USER_UNKNOWN, re.compile(r"unknown user|invalid final delivery userid", re.I)),
    (Reason.HOST_UNKNOWN, re.compile(r"unknown host", re.I)),
    (Reason.MAILBOX_FULL, re.compile(r"mailbox exceeds allowed size", re.I)),
    (Reason.SPAM_OR_CONTENT, re.compile(r"virus detected", re.I)),
    (Reason.EXPIRED, re.compile(r"delivery failed", re.I)),
)


def claims(mail: Mail) -> bool:
    mailer = str(mail.msg.get("X-Mailer", "") or "").strip()
    return mailer.startswith("<SMTP32 v") or mail.subject.startswith("Undeliverable Mail")


def _command(words: str) -> str:
    """IMail names the command whose reply it quotes: "RCPT TO", or "Body of message" (DATA)."""
    words = words.lower()
    if words.startswith("rcpt"):
        return "RCPT"
    if words.startswith("mail"):
        return "MAIL"
    return "DATA" if "body" in words or words.startswith("data") else ""


def _failure(label: str, address: str, response: list[str], command: str) -> Failure:
    named = next((reason for reason, words in _LABELS if label and words.search(label)), None)
    text = " ".join(response) or (f"{label}: {address}" if label else f"undeliverable to {address}")
    action = "delayed" if named is None and re.search(r"\bdelay", label, re.I) else "failed"
    return failure(address, "", text, action, command=command or None, reason=named)


def detect(mail: Mail) -> Verdict | None:
    notice = mail.text
    end = _ORIGINAL.search(notice)
    if end:
        notice = notice[: end.start()]
    found: list[Failure] = []
    current: tuple[str, str] | None = None
    response: list[str] = []
    command = ""
    for line in notice.splitlines():
        match = _RECIPIENT.match(line)
        label = match.group("label") or "" if match else ""
        if match and (not label or any(words.search(label) for _, words in _LABELS)):
            if current is not None:
                found.append(_failure(*current, response, command))
            current, response, command = (
                (match.group("label") or "", match.group("address")),
                [],
                "",
            )
            continue
        said = _RESPONSE.match(line)
        if said:
            command = _command(said.group("command"))
        elif current is not None and command and line.strip():
            response.append(line.strip())
    if current is not None:
        found.append(_failure(*current, response, command))
    return family_bounce(NAME, "IMail notice", found)
