"""RFC 3464 delivery status notifications, parsed here (no library).

A DSN's machine-readable part (`message/delivery-status`) has one block about the reporting MTA and
one block per recipient: Final-Recipient (and Original-Recipient), Action, Status (RFC 3463) and
Diagnostic-Code. Action `failed` or `delayed` is a failure; `delivered`, `relayed` and `expanded`
are success notices, never failures: a report that only carries those is a delivery notice.

Some mail systems put the same fields in a text part, or send the delivery-status part with a
broken encoding; both are read the same way.
"""

from __future__ import annotations

import re
from email.message import Message

from mailer.inbound.bounded import MAX_TEXT_CHARS
from mailer.inbound.detectors.base import Failure, Mail, Verdict, failure, own_parts, part_text
from mailer.inbound.models import InboundKind
from mailer.sending import reasons

_SUCCESS = ("delivered", "relayed", "expanded")
_FIELD = re.compile(r"^([A-Za-z-]+):[ \t]*(.*(?:\n[ \t]+.*)*)", re.M)
_INLINE = re.compile(r"^(?:Final|Original)-Recipient:", re.I | re.M)


_STARTS_RECIPIENT = ("final-recipient", "original-recipient")
# A Diagnostic-Code that is the reporting Postfix's own words (its local or virtual delivery
# agent: "X-Postfix; unknown user: \"r\""), not a remote server's reply it quotes ("host … said:").
_REMOTE_REPLY = re.compile(r"\bsaid:|(?<![\d.])[245]\d\d(?![\d.])")


def _split(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Fields into blocks; a recipient field that repeats starts the next recipient's block.

    Some reporting MTAs (AOL's, for one) leave out the blank lines between the RFC 3464 blocks,
    so one block would carry every recipient's fields; the first value of a field counts.
    """
    out: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    for name, value in items:
        name = name.lower()
        if name in fields and name in _STARTS_RECIPIENT:
            out.append(fields)
            fields = {}
        fields.setdefault(name, " ".join(value.split()))
    if fields:
        out.append(fields)
    return out


# Per-recipient blocks read of one report: we send one message per reader, so a genuine report
# names one or a few (a forwarding alias's, a list's); 10,000 blocks took more than 20 s.
MAX_REPORTED_RECIPIENTS = 100


def _blocks_of_text(text: str) -> list[dict[str, str]]:
    """Header-like blocks ("Name: value", folded lines joined) separated by blank lines."""
    out = []
    for chunk in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        out += _split([(m.group(1), m.group(2)) for m in _FIELD.finditer(chunk.strip("\n"))])
    return out


def _blocks_of_part(part: Message) -> list[dict[str, str]]:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        blocks = []
        for block in payload[: MAX_REPORTED_RECIPIENTS + 1]:  # and the per-message block
            if isinstance(block, Message):
                blocks += _split([(k, str(v)) for k, v in block.items() if v is not None])
        if any("final-recipient" in b or "original-recipient" in b for b in blocks):
            return blocks
    return _blocks_of_text(part_text(part))


def _address(value: str) -> str:
    """The Internet address of "rfc822; <addr>", or "" (X.400 and other address types)."""
    kind, sep, addr = value.partition(";")
    if sep and kind.strip().lower() not in ("rfc822", "rfc-822", "smtp"):
        return ""
    addr = (addr if sep else kind).strip().strip("<>").strip()
    addr = addr.split()[0].strip("<>") if addr else ""
    return addr if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", addr) else ""


def _strip_type(value: str) -> str:
    return value.split(";", 1)[1].strip() if ";" in value[:12] else value


def _inline_blocks(mail: Mail) -> list[dict[str, str]]:
    """Report fields written in the message's own text parts, read to MAX_TEXT_CHARS in all
    like every rule (a thousand parts of text were each decoded and searched)."""
    blocks: list[dict[str, str]] = []
    read = 0
    for own in own_parts(mail.msg):
        if read >= MAX_TEXT_CHARS:
            break
        text = part_text(own)
        read += len(text)
        if _INLINE.search(text) and re.search(r"^(?:Action|Status):", text, re.I | re.M):
            blocks += _blocks_of_text(text)
    return blocks


def per_recipient(mail: Mail) -> list[dict[str, str]]:
    """Every per-recipient block of the message's delivery-status parts (or inline fields)."""
    blocks: list[dict[str, str]] = []
    for part in mail.msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            blocks += _blocks_of_part(part)
    if not blocks:
        blocks = _inline_blocks(mail)
    found = [b for b in blocks if "final-recipient" in b or "original-recipient" in b]
    return found[:MAX_REPORTED_RECIPIENTS]


def _own_delivery(diagnostic_code: str) -> bool:
    """Whether the report's Diagnostic-Code is its own delivery agent's verdict: of type
    X-Postfix and quoting no remote reply. The mailbox's own host refused the address; no
    filter after the message was sent (sisimai's rule for a terse "user unknown") spoke."""
    kind, _, text = diagnostic_code.partition(";")
    return kind.strip().lower() == "x-postfix" and not _REMOTE_REPLY.search(text)


def _context(mail: Mail, address: str, alone: bool) -> str:
    """The human-readable lines near the recipient, when the report has no Diagnostic-Code.

    A report about one recipient often states its reason in a sentence above the address ("The
    user(s) account is disabled." then "<r@example.org>: 550 user unknown"): that sentence is
    about this recipient too. With several recipients, the lines above may be another's.
    """
    lines = mail.text.splitlines()
    for i, line in enumerate(lines):
        if address and address.lower() in line.lower():
            above = [j for j in range(i - 1, -1, -1) if lines[j].strip()][:3] if alone else []
            return " ".join(x.strip() for x in lines[min(above, default=i) : i + 6] if x.strip())
    return " ".join(x.strip() for x in lines if x.strip())[:600]


def detect(mail: Mail) -> Verdict | None:
    failures: list[Failure] = []
    delivered = 0
    blocks = per_recipient(mail)
    # The report's human-readable part (RFC 3464's first), in the reporting system's own words.
    notice = next(
        (part_text(p) for p in own_parts(mail.msg) if p.get_content_type() == "text/plain"), ""
    )
    for block in blocks:
        final = _address(block.get("final-recipient", ""))
        original = _address(block.get("original-recipient", ""))
        recipient = final or original
        action = block.get("action", "").lower().split(" ")[0].strip(";")
        status = block.get("status", "").split(" ")[0]
        if action in _SUCCESS or status.startswith("2"):
            delivered += 1
            continue
        if not recipient or (not action and not status):
            continue
        diagnostic = _strip_type(block.get("diagnostic-code", ""))
        if not diagnostic or len(diagnostic) < 12:
            diagnostic = f"{diagnostic} {_context(mail, recipient, len(blocks) == 1)}".strip()
        if not re.match(r"[245]\.\d", status):
            status = ""
        command = reasons.smtp_command(diagnostic) or reasons.smtp_command(mail.text)
        if not command and _own_delivery(block.get("diagnostic-code", "")):
            command = reasons.LOCAL_DELIVERY
        failures.append(
            failure(recipient, status, diagnostic, action, original, command, notice=notice)
        )
    if failures:
        first = failures[0]
        return Verdict(
            InboundKind.BOUNCE,
            "rfc3464",
            f"delivery status report: {first.action or 'failed'} {first.status} "
            f"{first.reason} for {first.recipient}",
            tuple(failures),
        )
    if delivered:
        return Verdict(
            InboundKind.DELIVERED, "rfc3464", "delivery status report of a successful delivery"
        )
    return None
