"""Composing one campaign's messages: everything shared is built once, per recipient only bytes.

A `Composer` is made once per campaign (per worker) from the RenderedIssue. It encodes the PDF
part, the Subject, From, List-Id and the MIME skeleton once, and each body's lines that no
recipient's value touches (sending/bodies.py: the personal templates as stencils); `compose()` then
only encodes the few lines that hold a recipient's name, address or links, signs the tokens and
joins precomputed bytes — the same bytes as filling the templates with Jinja per recipient (the
way taken for any template a stencil cannot reproduce). That keeps a message a small fraction of
a millisecond, which matters when a worker sends tens of thousands.

The result is standard MIME that the standard library parses:

    multipart/mixed
      multipart/alternative
        text/plain; charset="utf-8"   (quoted-printable)
        text/html; charset="utf-8"    (quoted-printable)
      application/pdf                 (base64, attachment, named after the issue)

Header values that come from data (subscriber names, the subject, the partner's name) pass through
`mailer.headers.clean_header_text`, which turns every control character into a space, so no value
can end a header line and start another; non-ASCII is RFC 2047-encoded. Addresses are checked,
never repaired (`mailer.headers.check_address`).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy as email_policy
from email.message import MIMEPart
from email.utils import format_datetime
from functools import cached_property

from mailer import tokens
from mailer.content.models import Issue
from mailer.errors import ComposeError, ConfigError
from mailer.filenames import file_name
from mailer.headers import (
    CRLF,
    check_address,
    clean_header_text,
    fold_structured,
    mailbox,
    mailbox_header,
    phrase,
    unstructured,
)
from mailer.rendering.email_edition import Personalizer, RenderedIssue
from mailer.sending.bodies import PersonalBodies
from mailer.sending.dkim import Signer, relaxed_body_end, relaxed_lines
from mailer.sending.quoted_printable import qp_line as qp_line  # re-exported: its old home
from mailer.settings import Settings
from subscribers.text import has_control_characters

TEST_PREFIX = "[TEST] "

_SLUG = re.compile(r"[^a-z0-9-]+")


def new_test_send() -> str:
    """A random name for one test send (8 characters of [a-z2-7]): see Composer.message_id."""
    return base64.b32encode(os.urandom(5)).decode("ascii").lower()


def dot_stuffed(data: bytes) -> bytes:
    """`data` with a dot added before each line that starts with one (RFC 5321 section 4.5.2),
    so no line of a message can end the DATA phase. The same object when there is none."""
    if data.startswith(b"."):
        data = b"." + data
    # (`replace` returns the data itself when no line starts with a dot; a search first, as
    # `b"\n." in data`, would cost more: for bytes, `in` tries its operand as an integer first.)
    return data.replace(b"\n.", b"\n..")


TEST_PURPOSE = tokens.TEST_COPY
_ONE_CLICK = b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"  # RFC 8058


@dataclass(frozen=True)
class CampaignInfo:
    """What the headers need to know about the campaign besides the rendered issue."""

    campaign_id: int
    issue_slug: str
    partner_name: str
    partner_email: str
    list_slug: str
    list_name: str
    subject: str = ""  # defaults to the rendered issue's subject

    @classmethod
    def for_issue(
        cls, issue: Issue, *, list_slug: str, list_name: str, campaign_id: int = 0
    ) -> CampaignInfo:
        """The one way to build it from the stored issue: the partner is the issue's partner row
        (who receives the replies), whatever name the issue printed. `campaign_id` 0 is a message
        of no campaign (a preview or a test copy)."""
        return cls(
            campaign_id=campaign_id,
            issue_slug=issue.slug,
            partner_name=issue.partner.name,
            partner_email=issue.partner.email,
            list_slug=list_slug,
            list_name=list_name,
        )


@dataclass(frozen=True)
class OutgoingMessage:
    """One message ready for a Transport: envelope and bytes.

    The bytes are kept as SMTP sends them (`wire`), the form the sending path needs, built in one
    join from parts stuffed once per campaign; `data`, the message itself, is derived from it on
    first use (the outbox, previews, tests).
    """

    delivery_id: int
    token: str
    envelope_from: str  # bounces+TOKEN@MAIL_DOMAIN (VERP)
    recipients: tuple[str, ...]
    # What an SMTP client writes after DATA's 354: the message with CRLF line ends, dot-stuffed
    # (RFC 5321 section 4.5.2), then the end-of-data line ".\r\n".
    wire: bytes
    message_id: str  # with angle brackets, as in the header
    unsubscribe_url: str

    @cached_property
    def data(self) -> bytes:
        """The message as its recipient gets it (CRLF line ends): `wire` without the end-of-data
        line and with one dot taken from each line that starts with one."""
        body = self.wire[:-3]
        if body.startswith(b".."):
            body = body[1:]
        return body.replace(b"\n..", b"\n.")  # the same object when there is none

    @property
    def message(self) -> bytes:
        return self.data


class Composer:
    """Builds one campaign's messages; construct once, call `compose()` per recipient."""

    def __init__(self, rendered: RenderedIssue, info: CampaignInfo, settings: Settings) -> None:
        self.rendered = rendered
        self.info = info
        self.settings = settings
        self.domain = settings.mail_domain
        self.public_url = settings.public_url.rstrip("/")
        self._web_edition = rendered.web_edition  # false: no List-Archive (a private list)
        self.secret = settings.secret()
        self.personalizer = Personalizer(rendered)
        # Both bodies, written by qp_line: in DKIM's canonical form, with no line to dot-stuff.
        self.bodies = PersonalBodies(self.personalizer)
        # Tracked links: the reader's signed redirect per link of the issue's link table. One
        # HMAC state per campaign; per recipient one short MAC per link (rendering/links.py).
        self._links = len(rendered.links) if settings.track_clicks else 0
        self._clicks = tokens.Minter(tokens.CLICK, self.secret)
        # The delivery token, a test copy's and the Message-ID tag: one HMAC state each, per
        # campaign (tokens.Minter), instead of a keyed HMAC set up per message.
        self._deliveries = tokens.Minter(tokens.DELIVERY, self.secret)
        self._test_copies = tokens.Minter(TEST_PURPOSE, self.secret)
        self._message_ids = tokens.MessageIds(info.campaign_id, self.secret, self.domain)
        self._date: tuple[datetime, str] | None = None  # the Date value of the current second
        self._opens = tokens.Minter(tokens.OPEN, self.secret) if settings.track_opens else None
        self.signer = Signer.from_settings(settings)
        # Header fields are kept as complete "Name: value\r\n" bytes: the message is their
        # concatenation, and the DKIM signer canonicalises the very same fields (no re-parse).
        self._from = self._from_header(settings).encode("ascii")
        self._init_subject(info, rendered)
        self._list_headers = self._list_header_fields(info)
        self._init_mime_parts(info)

    @staticmethod
    def _from_header(settings: Settings) -> str:
        """The From header from MAILER_FROM, checked once per campaign (ConfigError)."""
        if has_control_characters(settings.from_):
            raise ConfigError("MAILER_FROM must be a single line without control characters")
        parsed = email_policy.SMTP.header_factory("From", settings.from_)
        if len(parsed.addresses) != 1 or parsed.defects:
            raise ConfigError(
                "MAILER_FROM must be exactly one address, e.g. 'Firm <news@firm.com>'"
            )
        try:
            # Written and folded by mailer/headers.py, never by the email package: a long name
            # with a comma must stay one mailbox.
            sender = parsed.addresses[0]
            return mailbox_header("From", sender.display_name, sender.addr_spec)
        except ComposeError as exc:
            raise ConfigError(f"MAILER_FROM is not a usable address: {exc}") from exc

    def _init_subject(self, info: CampaignInfo, rendered: RenderedIssue) -> None:
        subject = unstructured(info.subject or rendered.subject, limit=400)
        if not subject:
            raise ComposeError("the issue has no subject")
        self.subject = subject
        self._subject = fold_structured("Subject", subject).encode("ascii")
        self._test_subject = fold_structured("Subject", TEST_PREFIX + subject).encode("ascii")
        self._reply_name = clean_header_text(info.partner_name)

    def _list_header_fields(self, info: CampaignInfo) -> tuple[bytes, ...]:
        """List-Id (RFC 2919), List-Archive (RFC 2369), Precedence and Feedback-ID: the same in
        every message of the campaign."""
        list_slug = _SLUG.sub("-", info.list_slug.lower()).strip("-") or "list"
        list_name = phrase(clean_header_text(info.list_name or info.list_slug), "List-Id")
        list_id = f"<{list_slug}.{self.domain}>"
        fields = (
            f"List-Id: {list_name} {list_id}{CRLF}" if list_name else f"List-Id: {list_id}{CRLF}",
            # A private list's campaign has no public archive to point to (its rendering says).
            f"List-Archive: <{self.public_url}/archive>{CRLF}" if self._web_edition else "",
            f"Precedence: bulk{CRLF}",
            f"Feedback-ID: c{info.campaign_id}:{list_slug}:briefing:{self.domain}{CRLF}",
        )
        return tuple(f.encode("ascii") for f in fields if f)

    def _init_mime_parts(self, info: CampaignInfo) -> None:
        """The MIME skeleton, the PDF part and the DKIM body hash of what precedes the text,
        built once."""
        seed = tokens.digest("boundary", f"{info.campaign_id}:{info.issue_slug}", self.secret, 16)
        # "=_" never occurs in quoted-printable or base64 output, so no body can contain it.
        self._outer = f"=_mixed_{seed}"
        self._inner = f"=_alt_{seed}"
        self._mime_head = (
            f"MIME-Version: 1.0{CRLF}".encode("ascii"),
            f'Content-Type: multipart/mixed; boundary="{self._outer}"{CRLF}'.encode("ascii"),
        )
        self._before_text = (
            f"--{self._outer}{CRLF}"
            f'Content-Type: multipart/alternative; boundary="{self._inner}"{CRLF}{CRLF}'
            f"--{self._inner}{CRLF}"
            f'Content-Type: text/plain; charset="utf-8"{CRLF}'
            f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}"
        ).encode("ascii")
        self._before_html = (
            f"--{self._inner}{CRLF}"
            f'Content-Type: text/html; charset="utf-8"{CRLF}'
            f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}"
        ).encode("ascii")
        self._after_html = f"--{self._inner}--{CRLF}{CRLF}".encode("ascii")
        self._pdf_part = self._build_pdf_part()
        # As SMTP sends them: boundaries and base64 never start a line with "." (stuffing them is
        # a search, once per campaign, that returns the same bytes).
        self._wire_parts = tuple(
            dot_stuffed(p)
            for p in (self._before_text, self._before_html, self._after_html, self._pdf_part)
        )
        # DKIM (RFC 6376 §3.4.4, relaxed): the quoted-printable bodies are written in canonical
        # form (qp_line), so only the fixed parts may need canonicalising — once, here — and
        # the body hash runs over the message's own bytes. Its state after the part that
        # precedes the text is the same for every message: kept, and copied per message.
        self._canon_fixed = (
            relaxed_lines(self._before_html),
            relaxed_lines(self._after_html),
            relaxed_body_end(self._pdf_part),
        )
        self._body_hash_start = hashlib.sha256(relaxed_lines(self._before_text))

    def _build_pdf_part(self) -> bytes:
        """The attachment, base64-encoded once for the whole campaign (by the standard library)."""
        part = MIMEPart(policy=email_policy.SMTP)
        filename = file_name(self.rendered.pdf_filename, "issue.pdf")
        part.set_content(
            self.rendered.pdf, "application", "pdf", disposition="attachment", filename=filename
        )
        part.set_param("name", filename)
        body = part.as_bytes(policy=email_policy.SMTP)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        return f"--{self._outer}{CRLF}".encode("ascii") + body + f"--{self._outer}--{CRLF}".encode()

    def token(self, delivery_id: int, *, test: bool = False) -> str:
        """A delivery's token; a test copy's is signed for another purpose, so that its
        numbering (0, 1, 2…) can never pass for a real delivery in a reply or an unsubscribe."""
        return (self._test_copies if test else self._deliveries).sign(delivery_id)

    def tracked_links(self, delivery_id: int) -> tuple[str, ...]:
        """`PUBLIC_URL/r/TOKEN` for each link of the issue, for one delivery (empty: untracked)."""
        prefix = f"{self.public_url}/r/"
        sign = self._clicks.sign
        base = delivery_id * tokens.LINK_SLOTS
        return tuple(prefix + sign(base + n) for n in range(self._links))

    # Which test send this Composer's test copies belong to: set per send (`new_test_send`, by
    # sending/copies.py); part of their Message-IDs, so that each send is a new message.
    test_send = ""

    def message_id(self, delivery_id: int, *, test: bool = False) -> str:
        """Deterministic per delivery, so a retried delivery is recognisably the same message.

        A test copy has no delivery: its numbering restarts at 0 on every test send, so its id
        also names the send (`c0.t0.SEND.TAG@…`, SEND being `test_send`). Mail clients drop a
        repeated Message-ID and the outbox names files after it: each test send must be a new
        message. Still signed (`TAG` over campaign, number and send): recognisably ours."""
        if test:
            copy = f"t{delivery_id}.{self.test_send}" if self.test_send else f"t{delivery_id}"
            tag = self._message_ids.tag(copy)
            return f"<c{self.info.campaign_id}.{copy}.{tag}@{self.domain}>"
        # Signed (tokens.MessageIds): the one identifier a bounce or a complaint must carry to
        # act on the reader (inbound/bounces.py, complaints.py); tokens reach forgers too.
        return self._message_ids.delivery(delivery_id)

    def compose(
        self,
        delivery_id: int,
        email: str,
        name: str = "",
        *,
        test: bool = False,
        date: datetime | None = None,
        track: bool = True,
    ) -> OutgoingMessage:
        """The message for one recipient of the campaign (a test send when `test`).

        `track=False` (the reader opted out of tracking) and test copies link straight to the
        issue's URLs, with no open pixel."""
        addr = check_address(email)
        token = self.token(delivery_id, test=test)
        unsubscribe_url = f"{self.public_url}/u/{token}"
        reply = tokens.reply_address(token, self.domain)
        tracked = track and not test
        # The fields of `Personal`, in its order (bodies.py fills stencils from them).
        text_qp, html_qp = self.bodies.encode(
            {
                "email": addr,
                "name": clean_header_text(name),
                "unsubscribe_url": unsubscribe_url,
                "preferences_url": f"{unsubscribe_url}#preferences",
                "reply_address": reply,
                "links": self.tracked_links(delivery_id) if tracked else (),
                "open_url": (
                    f"{self.public_url}/o/{self._opens.sign(delivery_id)}"
                    if self._opens is not None and tracked
                    else ""
                ),
            }
        )
        message_id = self.message_id(delivery_id, test=test)
        when = format_datetime(date) if date is not None else self._date_now()
        # Every value is encoded by now: ASCII only.
        fields = (
            f"Date: {when}{CRLF}".encode("ascii"),
            self._from,
            f"To: {mailbox(name, addr, 'To')}{CRLF}".encode("ascii"),
            self._test_subject if test else self._subject,
            f"Message-ID: {message_id}{CRLF}".encode("ascii"),
            mailbox_header("Reply-To", self._reply_name, reply).encode("ascii"),
            *self._list_headers,
            (
                f"List-Unsubscribe: <{unsubscribe_url}>,{CRLF}"
                f" <mailto:{tokens.unsubscribe_address(token, self.domain)}>{CRLF}"
            ).encode("ascii"),
            _ONE_CLICK,
            *self._mime_head,
        )
        signatures = self._signatures(fields, text_qp, html_qp)
        # Header lines start with a field name or, folded, with white space, never with ".";
        # checked all the same (a search of ~2 KB), as a line "." would end the DATA phase.
        head = dot_stuffed(b"".join((signatures, *fields, b"\r\n")))
        before_text, before_html_wire, after_html_wire, pdf_wire = self._wire_parts
        wire = b"".join(
            (head, before_text, text_qp, before_html_wire, html_qp, after_html_wire, pdf_wire)
            + (b".\r\n",)
        )
        return OutgoingMessage(
            delivery_id=delivery_id,
            token=token,
            envelope_from=tokens.bounce_address(token, self.domain),
            recipients=(addr,),
            wire=wire,
            message_id=message_id,
            unsubscribe_url=unsubscribe_url,
        )

    def _date_now(self) -> str:
        """The Date header's value for now (RFC 5322 §3.3), formatted once per second: it has
        no finer unit."""
        now = datetime.now(UTC).replace(microsecond=0)
        if self._date is None or self._date[0] != now:
            self._date = (now, format_datetime(now))
        return self._date[1]

    def _signatures(self, fields: tuple[bytes, ...], text_qp: bytes, html_qp: bytes) -> bytes:
        """The DKIM-Signature fields for a message of these header fields and bodies (b"" when
        DKIM is off). Signed before the message is joined: the hash reads the pieces, and the
        message is copied once, with the signatures in front."""
        if self.signer is None:
            return b""
        before_html, after_html, pdf_part = self._canon_fixed
        body_hash = self._body_hash_start.copy()
        for piece in (text_qp, before_html, html_qp, after_html, pdf_part):
            body_hash.update(piece)
        return self.signer.signature(fields, body_hash.digest())
