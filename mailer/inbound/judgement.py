"""What an inbound message is: a bounce, an auto-reply, an unsubscribe request or a client inquiry.

A pure function of the raw bytes and the SMTP envelope (`judge`), so that every rule can be
tested on real messages without a server or a database. Reading a message (headers, the client's
own text) is mailer/inbound/message.py; acting on the answer is mailer/inbound/process.py.

The order of the checks matters and follows what each kind of message looks like in practice:

1. our own loop-guard header: one of our forwards came back; never act on it again;
2. anything sent to `unsubscribe+TOKEN` is an unsubscribe request (the List-Unsubscribe mailto);
3. bounces: RFC 3464 delivery-status reports (their Status codes decide hard 5.x.x or soft
   4.x.x), then flufl.bounce's detectors for the many non-standard formats. Bounces often carry
   `Auto-Submitted: auto-replied` themselves, so this comes before the auto-reply check. At a
   `reply+` address only messages that look like a bounce are scanned (null sender, a
   MAILER-DAEMON/postmaster From, or a report), so a client quoting an error is not a bounce;
4. auto-replies (RFC 3834 and the headers and subjects real responders use);
5. a reply asking to unsubscribe, in English or Spanish, in its subject or first line;
6. everything else at `reply+` is an inquiry; at `bounces+` it is "unrecognized" (kept, not acted
   on: nobody writes to an envelope sender on purpose).
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses

from flufl.bounce import all_failures

from mailer import tokens
from mailer.errors import TokenError
from mailer.inbound.message import LOOP_HEADER, body_text, has_loop_guard, header, parse, reply_text
from mailer.inbound.models import InboundKind

log = logging.getLogger(__name__)


_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|mdaemon)\b", re.I)

# Subjects of out-of-office and other automatic replies (matched without accents, lower case).
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:\[[^]]*\]\s*)?(?:"
    r"out of (?:the )?office|automatic reply|auto(?:matic)?[ -]?repl(?:y|ied)|autoresponse|"
    r"auto[ -]?response|away from (?:the )?office|on vacation|vacation reply|"
    r"respuesta automatica|fuera de (?:la )?oficina|ausencia|ausente|"
    r"reponse automatique|absence|abwesenheit|automatische antwort|resposta automatica|"
    r"risposta automatica|fuori ufficio"
    r")",
    re.I,
)
_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}

# Unsubscribe requests. Normalised text: lower case, no accents, punctuation turned to spaces.
_POLITE = (
    r"(?:(?:hi|hello|hola|ok|okay|gracias|thanks)\s+)?"
    r"(?:(?:please|pls|kindly|por favor|favor de|favor|i want to|i would like to|i d like to|"
    r"i wish to|quiero|quisiera|deseo|me gustaria|solicito|necesito|can you|could you|"
    r"puede|pueden|podrian|podria)\s+)*"
)
_STRONG = (
    r"(?:unsubscribe|unsuscribe|unsubscribe me|remove me|take me off|opt out|opt me out|"
    r"stop sending|stop emailing|dar(?:me)? de baja|denme de baja|dame de baja|de baja|"
    r"darse de baja|cancelar (?:mi |la )?suscripcion|cancelar (?:mi |la )?subscripcion|"
    r"anular (?:mi |la )?suscripcion|desuscribir(?:me)?|desuscribanme|eliminar(?:me)? de la lista|"
    r"borrar(?:me)? de la lista|sacar(?:me)? de la lista|no (?:deseo|quiero) recibir)"
)
_WEAK_ALONE = r"(?:baja|stop|remove|unsubscribe|cancelar|cancel|alta no|no mas)"
_UNSUB_START = re.compile(rf"^{_POLITE}{_STRONG}\b")
_UNSUB_ALONE = re.compile(
    rf"^(?:{_POLITE})?{_WEAK_ALONE}(?:\s+(?:por favor|please|gracias|thanks|thank you))*$"
)
_SALUTATION = re.compile(
    r"^(?:hi|hello|hey|dear|hola|estimad[oa]s?|querid[oa]|buen[oa]s?(?: dias| tardes| noches)?|"
    r"good (?:morning|afternoon|evening)|saludos|senor(?:a)?|sr|sra|lic|ing)\b.{0,40}$"
)
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|rv|res|fw|fwd|tr|wg|sv)\s*(?:\[\d+\])?\s*:\s*)+", re.I)


@dataclass(frozen=True)
class Failure:
    """One recipient a bounce reports as failed (hard) or delayed/temporarily failed (soft)."""

    recipient: str
    hard: bool
    status: str = ""  # RFC 3463 enhanced status code, e.g. "5.1.1"
    action: str = ""  # RFC 3464 Action: failed, delayed…
    diagnostic: str = ""


@dataclass(frozen=True)
class Classification:
    kind: InboundKind
    reason: str  # why, for the record and for an admin reading it later
    address_kind: str = ""  # reply, bounces, unsubscribe ("" when not ours)
    failures: tuple[Failure, ...] = field(default_factory=tuple)


def normalise(text: str) -> str:
    """Lower case, accents removed, punctuation as spaces: what the phrase rules match."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^\w\s]+", " ", text)
    return " ".join(text.split())


# --- bounces ------------------------------------------------------------------------------------


def _field(block: Message, name: str) -> str:
    value = header(block, name)
    return value.split(";", 1)[1].strip() if ";" in value else value


def _recipient(block: Message) -> str:
    """The address the report is about: the original recipient (what we sent to) if given as
    an Internet address, else the final one (after forwarding), as flufl.bounce does."""
    for name in ("Original-Recipient", "Final-Recipient"):
        value = header(block, name)
        kind, sep, addr = value.partition(";")
        if sep and kind.strip().lower() == "rfc822" and addr.strip():
            return addr.strip().strip("<>")
    return _field(block, "Final-Recipient").strip("<> ")


def dsn_failures(msg: Message) -> list[Failure]:
    """Failed and delayed recipients of an RFC 3464 delivery-status report, with their codes."""
    out: list[Failure] = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            blocks = _status_blocks(part)
        for block in blocks[1:] if len(blocks) > 1 else blocks:
            if not isinstance(block, Message):
                continue
            action = header(block, "Action").lower().split(" ")[0]
            status_m = _STATUS.search(header(block, "Status"))
            status = ".".join(status_m.groups()) if status_m else ""
            if action in ("delivered", "relayed", "expanded"):
                continue
            if not action and not status:
                continue
            if status.startswith("2"):
                continue
            hard = status.startswith("5") if status else action.startswith(("fail", "error"))
            out.append(
                Failure(
                    recipient=_recipient(block),
                    hard=hard,
                    status=status,
                    action=action,
                    diagnostic=_field(block, "Diagnostic-Code")[:1000],
                )
            )
    return out


def _status_blocks(part: Message) -> list[Message]:
    """Header blocks of a delivery-status body the parser left as text (wrong encoding…)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return []
    text = payload.decode("utf-8", "replace").replace("\r\n", "\n")
    return [email.message_from_string(b.strip() + "\n") for b in re.split(r"\n\s*\n", text) if b]


def _text_of(msg: Message) -> str:
    """Every text part, for finding status codes in bounces that are not RFC 3464 reports."""
    chunks: list[str] = []
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            try:
                chunks.append(payload.decode(part.get_content_charset() or "latin-1", "replace"))
            except LookupError:  # a charset Python does not know
                chunks.append(payload.decode("latin-1"))
    return "\n".join(chunks)


def _code_near(text: str, address: str, hard: bool) -> tuple[str, str]:
    """An enhanced status code of the right class and the line it is on, near the address."""
    lines = text.splitlines()
    wanted = "5" if hard else "4"
    best: tuple[str, str] = ("", "")
    for i, line in enumerate(lines):
        for m in _STATUS.finditer(line):
            if m.group(1) != wanted:
                continue
            code = ".".join(m.groups())
            window = " ".join(lines[max(0, i - 3) : i + 4]).lower()
            if address and address.lower() in window:
                return code, line.strip()[:1000]
            if not best[0]:
                best = (code, line.strip()[:1000])
    if not best[1] and address:
        for line in lines:
            if address.lower() in line.lower():
                return "", line.strip()[:1000]
    return best


def heuristic_failures(raw: bytes) -> list[Failure]:
    """What flufl.bounce's detectors find, with a status code from the text when there is one."""
    legacy = email.message_from_bytes(raw, policy=email.policy.compat32)
    try:
        temporary, permanent = all_failures(legacy)
    except Exception:  # noqa: BLE001 - a detector choking on odd input is "not recognised"
        log.warning("flufl.bounce could not scan a message", exc_info=True)
        return []
    text = _text_of(legacy)
    out: list[Failure] = []
    for hard, found in ((True, permanent), (False, temporary)):
        for addr in sorted(found):
            recipient = addr.decode("utf-8", "replace") if isinstance(addr, bytes) else str(addr)
            code, line = _code_near(text, recipient, hard)
            out.append(Failure(recipient=recipient, hard=hard, status=code, diagnostic=line))
    return out


def looks_like_bounce(msg: Message, mail_from: str) -> bool:
    """A report, a null envelope sender or a mailer-daemon From: worth scanning as a bounce."""
    if not mail_from or mail_from == "<>":
        return True
    if msg.get_content_type() == "multipart/report":
        return True
    for _name, addr in getaddresses([header(msg, "From")]):
        if _DAEMON.match(addr) or _DAEMON.match(_name or ""):
            return True
    return bool(_DAEMON.match(mail_from))


def bounce_failures(raw: bytes, msg: Message) -> list[Failure]:
    """RFC 3464 first (it carries the codes); flufl.bounce for everything else."""
    return dsn_failures(msg) or heuristic_failures(raw)


# --- auto-replies -------------------------------------------------------------------------------


def auto_reply_reason(msg: Message, mail_from: str) -> str | None:
    """Why the message is an automatic reply (RFC 3834 and common practice), or None."""
    auto = header(msg, "Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autorespond-From", "X-AutoReply-From"):
        if msg.get(name) is not None:
            return f"{name} header"
    if header(msg, "X-Auto-Response-Suppress") and msg.get("X-MS-Exchange-Inbox-Rules-Loop"):
        return "Exchange inbox rule"
    precedence = header(msg, "Precedence").lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    if header(msg, "X-Autogenerated").lower() in ("reply", "forward"):
        return "X-Autogenerated header"
    if "autoresponder" in header(msg, "X-POST-MessageClass").lower():
        return "X-POST-MessageClass: autoresponder"
    subject = normalise(_REPLY_PREFIX.sub("", header(msg, "Subject")))
    if _AUTO_SUBJECT.match(subject):
        return f"subject {header(msg, 'Subject')!r}"
    if not mail_from or mail_from == "<>":
        return "null envelope sender (an automatic message)"
    return None


def opening_lines(text: str) -> list[str]:
    """The first line, and the next one too when the first is only a salutation."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return []
    first = normalise(lines[0])
    if _SALUTATION.match(first) and len(lines) > 1:
        return lines[:2]
    return lines[:1]


def unsubscribe_reason(subject: str, text: str) -> str | None:
    """Why the reply is an unsubscribe request (its subject or first line asks), or None."""
    candidates = [("subject", _REPLY_PREFIX.sub("", subject))] + [
        ("first line", line) for line in opening_lines(reply_text(text))
    ]
    for where, value in candidates:
        norm = normalise(value)
        if not norm:
            continue
        if _UNSUB_START.match(norm) or _UNSUB_ALONE.match(norm):
            return f"{where} asks to unsubscribe: {value.strip()[:200]!r}"
    return None


# --- the whole decision -------------------------------------------------------------------------


def address_kind(rcpt_to: str, domain: str) -> str:
    try:
        return tokens.parse_address(rcpt_to, domain)[0]
    except TokenError:
        return ""


def judge(raw: bytes, *, mail_from: str, rcpt_to: str, domain: str) -> Classification:
    """Decide what one received message is. Pure: bytes and envelope in, a verdict out."""
    kind_of_address = address_kind(rcpt_to, domain)
    msg = parse(raw)

    if has_loop_guard(msg, domain):
        return Classification(InboundKind.LOOP, f"carries {LOOP_HEADER}: {domain}", kind_of_address)
    if kind_of_address == "unsubscribe":
        return Classification(
            InboundKind.UNSUBSCRIBE, "sent to the unsubscribe address", "unsubscribe"
        )

    if kind_of_address == "bounces" or looks_like_bounce(msg, mail_from):
        failures = bounce_failures(raw, msg)
        if failures:
            first = failures[0]
            how = f"status {first.status}" if first.status else "flufl.bounce"
            return Classification(
                InboundKind.BOUNCE,
                f"{'hard' if first.hard else 'soft'} bounce ({how}) for {first.recipient}",
                kind_of_address,
                tuple(failures),
            )

    why = auto_reply_reason(msg, mail_from)
    if why is not None:
        return Classification(InboundKind.AUTO_REPLY, why, kind_of_address)

    if kind_of_address == "reply":
        why = unsubscribe_reason(header(msg, "Subject"), body_text(msg))
        if why is not None:
            return Classification(InboundKind.UNSUBSCRIBE, why, kind_of_address)
        return Classification(InboundKind.INQUIRY, "a reply from a reader", kind_of_address)

    return Classification(
        InboundKind.UNRECOGNIZED,
        "neither a bounce nor an automatic reply; kept for an admin to read",
        kind_of_address,
    )
