"""What an inbound message is: a bounce, an auto-reply, an unsubscribe request or a client inquiry.

A pure function of the raw bytes and the SMTP envelope (`classify`), so that every rule can be
tested on real messages without a server or a database. Acting on the answer is someone else's
job (mailer/bounces.py, mailer/inquiries.py, the task in mailer/tasks.py).

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

import contextlib
import email
import email.policy
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses

from email_reply_parser import EmailReplyParser
from flufl.bounce import all_failures

from mailer import tokens
from mailer.errors import TokenError
from mailer.models import InboundKind

log = logging.getLogger(__name__)

LOOP_HEADER = "X-Mailer-Loop"

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

# Quote headers email-reply-parser (English only) does not know, and Outlook's separators.
_QUOTE_START = re.compile(
    r"^(?:\s*>?\s*)(?:"
    r"-{2,}\s*(?:original message|mensaje original|message d'origine|urspr\u00fcngliche nachricht)"
    r"\s*-{2,}"
    r"|_{10,}"
    r"|(?:from|de|von)\s*:\s.+"  # Outlook header block: "De: Fulano <...>"
    r"|.*\b(?:escribi\u00f3|a \u00e9crit|schrieb|wrote)\s*:\s*$"
    r")",
    re.I,
)


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


def decode_text(value: object) -> str:
    """A header value as text, whatever encoding mistakes the sender made."""
    if value is None:
        return ""
    text = str(value)
    with contextlib.suppress(Exception):  # a broken encoded-word: keep the raw text
        text = str(make_header(decode_header(text)))
    return " ".join(text.split())


def header(msg: Message, name: str) -> str:
    try:
        return decode_text(msg.get(name))
    except Exception:  # noqa: BLE001 - malformed headers must not stop classification
        return ""


def parse(raw: bytes) -> EmailMessage:
    """The message with the modern API (get_body, decoded headers)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def normalise(text: str) -> str:
    """Lower case, accents removed, punctuation as spaces: what the phrase rules match."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^\w\s]+", " ", text)
    return " ".join(text.split())


def has_loop_guard(msg: Message, domain: str) -> bool:
    """Whether the message is one of our own forwards (it carries our loop-guard header)."""
    wanted = domain.lower().rstrip(".")
    return any(
        str(v).strip().lower().rstrip(".") == wanted for v in (msg.get_all(LOOP_HEADER) or [])
    )


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


# --- the client's own text ----------------------------------------------------------------------


def html_to_text(html: str) -> str:
    """Readable text from an HTML reply, without the quoted newsletter below it."""
    import lxml.html

    try:
        doc = lxml.html.fromstring(html)
    except Exception:  # noqa: BLE001 - unparsable HTML: fall back to stripping tags
        return re.sub(r"<[^>]+>", " ", html)
    quoted = doc.xpath(
        "//blockquote | //*[contains(@class,'gmail_quote')] | //*[@id='divRplyFwdMsg'] | "
        "//*[contains(@class,'moz-cite-prefix')] | //*[@id='appendonsend'] | "
        "//*[contains(@class,'yahoo_quoted')] | //style | //script | //head"
    )
    for el in quoted:
        parent = el.getparent()
        if parent is not None:
            if el.get("id") in ("divRplyFwdMsg", "appendonsend"):
                # Outlook: everything after the reply header is the quoted message.
                for sib in list(el.itersiblings()):
                    parent.remove(sib)
            el.drop_tree()
    for br in doc.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in doc.iter("p", "div", "li", "tr", "h1", "h2", "h3", "h4", "table"):
        block.tail = "\n" + (block.tail or "")
    text = doc.text_content()
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", text).strip()


def body_text(msg: EmailMessage) -> str:
    """The message's text (plain preferred, else HTML converted), as the client wrote it."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except Exception:  # noqa: BLE001 - unknown charset: decode leniently
        payload = part.get_payload(decode=True)
        content = payload.decode("latin-1") if isinstance(payload, bytes) else str(payload)
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        return html_to_text(content)
    return content


def reply_text(text: str) -> str:
    """The client's own words: quoted newsletter text and quote headers trimmed."""
    text = text.replace("\r\n", "\n")
    kept: list[str] = []
    for line in text.split("\n"):
        if _QUOTE_START.match(line) and any(k.strip() for k in kept):
            break
        kept.append(line)
    trimmed = EmailReplyParser.parse_reply("\n".join(kept))
    return trimmed.strip() or "\n".join(kept).strip()


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


def classify(raw: bytes, *, mail_from: str, rcpt_to: str, domain: str) -> Classification:
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
