"""What every detector shares: the message being judged (`Mail`), what a detector finds
(`Verdict`, `Failure`) and recursion-safe helpers to read text and addresses out of a message.

A detector is a pure function `detect(mail) -> Verdict | None`: None means "not mine, ask the
next one". The pipeline (detectors/__init__.py) runs them in a declared order and guards each one,
so a detector that raises on odd input is logged and skipped, never hiding the others.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses
from functools import cached_property
from itertools import islice

from mailer.inbound.bounded import MAX_TEXT_CHARS, bounded_text
from mailer.inbound.charsets import as_text
from mailer.inbound.departures import Departure
from mailer.inbound.message import header
from mailer.inbound.models import InboundKind
from mailer.sending import reasons

ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
# A mail system's sender, as an address or a display name: the name must end where a person's
# address or name would go on ("mailer.team@", "Mailer Team", "bouncer@" are people's).
DAEMON = re.compile(
    r"^(?:(?:mailer-daemon|post_?master|mail-daemon|mailerdaemon|mdaemon|mail delivery|"
    r"mail administrator|maildelivery|mail-?server|mailadmin|mail system|"
    r"microsoftexchange|bounces?|double-bounce)(?![a-z.])|no-?reply@.*bounce|mailer(?:$|@))",
    re.I,
)
# A person's reply or forward: the subject's "Re:" / "Fwd:" (and their usual translations) and
# the body's quoting (">" lines) or a mail client's forward/original-message divider.
PERSONS_SUBJECT = re.compile(
    r"^\s*(?:re|fwd?|aw|wg|tr|rv|sv|vs|antw|enc|res|odp|ynt|vl)\s*(?:\[\d+\])?\s*:", re.I
)
PERSONS_QUOTING = re.compile(
    r"^>|^-{2,} ?(?:forwarded|original) message ?-{2,}|^begin forwarded message:|"
    r"^on .{4,120} wrote:\s*$|"  # Gmail, Apple Mail, Thunderbird: "On <date>, <who> wrote:"
    r"^_{10,}\s*\n\s*(?:from|de|von|da):",  # Outlook: a rule, then the quoted message's From
    re.I | re.M,
)


@dataclass(frozen=True)
class Failure:
    """One recipient a bounce reports as failed or delayed, with the reason judged for it."""

    recipient: str
    hard: bool
    status: str = ""  # RFC 3463 enhanced status code, e.g. "5.1.1"
    action: str = ""  # RFC 3464 Action: failed, delayed…
    diagnostic: str = ""
    reason: str = reasons.Reason.OTHER.value
    original_recipient: str = ""  # RFC 3464 Original-Recipient when it differs (what we sent to)
    # The reader's address, when this failure names only another mailbox (a copy their mail
    # system forwarded, without SRS, to a dead address): soft, whatever the code says.
    other_than: str = ""

    def names(self, address: str) -> bool:
        """Whether this failure is about `address` (its final or original recipient, "expanded
        from" it), as one mailbox: see `same_mailbox`. An original recipient written as a bare
        local part (Sendmail's "expanded from: ana", a local alias) names `address` when it is
        that address's local part."""
        original = self.original_recipient
        if original and "@" not in original:
            local = mailbox(address).rpartition("@")[0]
            return same_mailbox(address, self.recipient) or mailbox(original) == local
        return any(same_mailbox(address, named) for named in (self.recipient, original) if named)


def about_reader(failures: tuple[Failure, ...], reader: str) -> tuple[Failure, ...]:
    """The failures as they concern `reader`, the address the bounced message was for.

    When they name failed addresses and none is the reader's, nor was expanded from it (an
    alias or forward of the reader's whose target is dead: that is theirs, and stays hard), the
    bounce is about someone else's mailbox: a copy the reader's system forwarded keeping our
    return path (no SRS). It says nothing certain about the reader's own address, so each such
    failure is soft (`other_than` says whose it is not); repeated, the soft threshold still
    stops the mail."""
    named = [f for f in failures if f.recipient]
    if not reader or not named or any(f.names(reader) for f in failures):
        return failures
    return tuple(replace(f, hard=False, other_than=reader) if f.recipient else f for f in failures)


def mailbox(address: str) -> str:
    """The mailbox an address names, for comparing two spellings of it: RFC 2047 encoded words
    decoded, lower case, a `+tag` dropped (servers report the address they delivered to,
    sometimes without it), the domain in Unicode (a report may write it as punycode)."""
    local, at, domain = decoded_address(address.strip().strip("<>").strip()).lower().rpartition("@")
    if not at:
        return domain
    if "xn--" in domain:
        with contextlib.suppress(UnicodeError):  # not valid punycode: compared as written
            domain = domain.encode("ascii").decode("idna")
    return f"{local.split('+', 1)[0] or local}@{domain}"


def same_mailbox(one: str, other: str) -> bool:
    """Whether two addresses name one mailbox (`mailbox`)."""
    return bool(one.strip()) and mailbox(one) == mailbox(other)


_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def decoded_address(address: str) -> str:
    """The address with RFC 2047 encoded words decoded (``=?utf-8?B?8J+QiA==?=@example.org`` is
    ``🐈@example.org``): some MTAs write an internationalised local part that way in reports
    (RFC 6531 addresses sent to a server without SMTPUTF8). Unchanged when there are none or they
    do not decode."""
    if "=?" not in address or not _ENCODED_WORD.search(address):
        return address
    local, at, domain = address.rpartition("@")
    if not at:
        local, domain = address, ""
    try:
        decoded = str(make_header(decode_header(local)))
    except (ValueError, LookupError, UnicodeError):
        return address
    return f"{decoded}{at}{domain}"


def failure(
    recipient: str,
    status: str,
    diagnostic: str,
    action: str = "",
    original: str = "",
    command: str | None = None,
    reason: reasons.Reason | None = None,
    notice: str = "",
) -> Failure:
    """A Failure with its reason and hard/soft judged from the code and text (sending/reasons).

    `reason`: the reason the mail system's notice itself names (a family's wording table); it
    replaces the judged one, under the same temporary-failure rule. `notice`: the notice's own
    human-readable text, which may say the mailbox is gone where the reply is terse.
    """
    diagnostic = " ".join(diagnostic.split())[:1000]
    if action == "delayed" and not status:
        status = "4.0.0"
    judged = reasons.judge(status, diagnostic, command, notice[:3000])
    if reason is not None:
        judged = reasons.named(reason, judged.status, diagnostic)
    hard = judged.hard and action != "delayed"
    recipient = decoded_address(recipient.strip().strip("<>").strip())
    original = decoded_address(original)
    return Failure(
        recipient=recipient,
        hard=hard,
        status=judged.status,
        action=action,
        diagnostic=diagnostic,
        reason=judged.reason.value,
        original_recipient=original if original.lower() != recipient.lower() else "",
    )


@dataclass(frozen=True)
class Verdict:
    """A detector's answer: the kind, the rule that decided (for the record) and its findings."""

    kind: InboundKind
    rule: str  # "rfc3464", "family:qmail", "rfc3834"…
    reason: str  # a sentence for an admin
    failures: tuple[Failure, ...] = field(default_factory=tuple)
    # Our identifiers (Message-IDs, delivery tokens) in the original a report carries: what the
    # report is about. `report_tokens`: the tokens of the report itself (its text, its headers).
    tokens: tuple[str, ...] = field(default_factory=tuple)
    departure: Departure | None = None  # an auto-reply announcing the reader has left their firm
    report_tokens: tuple[str, ...] = field(default_factory=tuple)


def family_bounce(family: str, label: str, found: list[Failure]) -> Verdict | None:
    """A mail system's bounce, summed up by its first failure ("IMail notice: user_unknown for
    x@example.org"); None when the family's reader found no failed recipient."""
    if not found:
        return None
    first = found[0]
    summary = f"{label}: {first.reason} for {first.recipient}"
    return Verdict(InboundKind.BOUNCE, f"family:{family}", summary, tuple(found))


@dataclass(frozen=True)
class Mail:
    """One received message and its envelope, as every detector sees it."""

    raw: bytes
    msg: EmailMessage
    mail_from: str | None  # "" for the null sender, None when unknown (classify without it)
    address_kind: str  # reply, bounces, unsubscribe, or "" when not one of ours
    domain: str

    @cached_property
    def subject(self) -> str:
        return header(self.msg, "Subject")

    @cached_property
    def from_address(self) -> str:
        pairs = getaddresses([header(self.msg, "From")])
        return pairs[0][1].lower() if pairs else ""

    @cached_property
    def from_text(self) -> str:
        return header(self.msg, "From")

    @property
    def null_sender(self) -> bool:
        return self.mail_from is not None and self.mail_from in ("", "<>")

    @cached_property
    def from_daemon(self) -> bool:
        """From or envelope sender is a mail system (MAILER-DAEMON, postmaster…), by its address.

        A display name is whatever the sender wrote: a reader's phone shows
        `"postmaster@example.com" <jane@client.example>`, anyone can encode "MAILER-DAEMON" in
        RFC 2047. It counts only where no address says otherwise (`Mail Delivery System <>`) or
        over a delivery report's structure (`reports_structure`), where the name is the mail
        system's own ("Mail Delivery Subsystem <admin@…>")."""
        if self.mail_from and daemon_address(self.mail_from):
            return True
        pairs = getaddresses([self.from_text])
        if any(daemon_address(addr) for _, addr in pairs):
            return True
        return any(
            DAEMON.match(name)
            for name, addr in pairs
            if name and ("@" not in addr or reports_structure(self.msg))
        )

    @cached_property
    def text(self) -> str:
        """The notice's own text: text parts outside attached messages, decoded, CRLF→LF."""
        return _joined(part_text(p) for p in own_parts(self.msg))

    @cached_property
    def all_text(self) -> str:
        """Every text part, attached originals included."""
        return _joined(part_text(p) for p in self.msg.walk() if p.get_content_maintype() == "text")


def daemon_address(address: str) -> bool:
    """Whether an address is a mail system's: MAILER-DAEMON@, postmaster@…, also with its words
    joined by dots ("Mail.Delivery.System@mx7.example.com")."""
    address = address.strip().strip("<>").strip()
    local, at, domain = address.rpartition("@")
    spaced = f"{re.sub(r'[._]+', ' ', local)}{at}{domain}" if at else address
    return bool(DAEMON.match(address) or DAEMON.match(spaced))


# The parts only a mail system's delivery report carries (RFC 3464, RFC 6522); a person's
# forward attaches message/rfc822, which is not among them.
_REPORT_PARTS = frozenset(
    {
        "multipart/report",
        "message/delivery-status",
        "message/global-delivery-status",
        "text/rfc822-headers",
        "message/global-headers",
    }
)


def reports_structure(msg: Message) -> bool:
    """Whether the message is built as a delivery report (a report's parts, or Exim's
    X-Failed-Recipients): what a mail system sends and a person's mail client does not."""
    if msg.get("X-Failed-Recipients") is not None:
        return True
    return any(part.get_content_type() in _REPORT_PARTS for part in islice(msg.walk(), 50))


def _joined(texts: Iterator[str]) -> str:
    """Parts' texts, one after the other, up to MAX_TEXT_CHARS in all (a thousand parts of
    100,000 characters each are not all read)."""
    kept: list[str] = []
    room = MAX_TEXT_CHARS
    for text in texts:
        if room <= 0:
            break
        kept.append(text[:room])
        room -= len(kept[-1]) + 1
    return "\n".join(kept)


def own_parts(msg: Message) -> Iterator[Message]:
    """Text parts of the message itself, not of messages attached to it (message/rfc822)."""
    stack: list[Message] = [msg]
    while stack:
        part = stack.pop(0)
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            continue
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack[0:0] = [p for p in payload if isinstance(p, Message)]
            continue
        if part.get_content_maintype() == "text" or part.get_content_maintype() == "multipart":
            yield part


def part_text(part: Message) -> str:
    """A leaf part's text, leniently decoded (unknown charset: latin-1; none: detected); HTML
    tags removed."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        text = raw if isinstance(raw, str) else ""
    elif part.get_content_charset() is None:
        text = as_text(payload)  # unlabelled: UTF-8, else as detected (charsets.py)
    else:
        try:
            text = payload.decode(part.get_content_charset() or "utf-8", "replace")
        except LookupError:
            text = payload.decode("latin-1")
    text = text[: MAX_TEXT_CHARS * 10].replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_subtype() == "html":
        text = re.sub(r"(?i)<br\s*/?>|</(?:p|div|tr|li)>", "\n", text)
        text = re.sub(r"<[^<>]+>", " ", text)  # linear: a run of unclosed "<" stops each
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", " ")
        text = text.replace("&amp;", "&")
    return bounded_text(text)


def embedded_headers(msg: Message) -> list[Message]:
    """Headers of the original messages a report carries (message/rfc822, text/rfc822-headers)."""
    out: list[Message] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                out.append(payload[0])
        elif ctype == "text/rfc822-headers":
            body = part_text(part)
            out.append(email.message_from_string(body.lstrip(), policy=email.policy.compat32))
    return out


def addresses_in(text: str) -> list[str]:
    """Email addresses in text, in order, once each (lower case)."""
    seen: dict[str, None] = {}
    for match in ADDRESS.finditer(text):
        addr = re.sub(r"^(?:smtp|rfc822)[=:;]", "", match.group(0), flags=re.I)
        seen.setdefault(addr.strip(".'`").lower(), None)
    return list(seen)


def persons_reply(mail: Mail) -> bool:
    """A person replied to or forwarded a message: "Re:" / "Fwd:" and a mail client's quoting.

    A mail system's notice or an autoresponder may carry "RE:" from the subject it answers, but
    it does not quote like a mail client; a person's reply carries the words of the subject it
    answers (a bounce's, or a newsletter's own title), which are not theirs."""
    return bool(PERSONS_SUBJECT.match(mail.subject) and PERSONS_QUOTING.search(mail.text))
