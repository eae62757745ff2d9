"""Double opt-in: the confirmation token and the confirmation email.

A confirmation link carries `/confirm/TOKEN`, where TOKEN is `tokens.sign("confirm", payload)` over
an 12-byte payload: the subscription id (8 bytes) and the time the link was issued (4 bytes,
seconds since the epoch). The MAC binds both, so neither the id nor the age can be changed, and the
purpose keeps a delivery token from ever passing as a confirmation. A link is refused when it is
older than `CONFIRM_MAX_AGE` (7 days) or was issued before the subscription's last unsubscribe (an
old link must not undo a later "stop").

The email is rendered from templates/confirm/ (MJML → HTML, and a plain-text twin), like the
newsletter, in the reader's language (rendering/wording: their own, else their browser's when
they filled in the form, else English), and goes out through the configured transport. It is
transactional: no List-Unsubscribe, an `Auto-Submitted: auto-generated` header (RFC 3834) so
that auto-responders do not answer it.
"""

from __future__ import annotations

import struct
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

from mailer import tokens
from mailer.brand import brand_of
from mailer.errors import TokenError
from mailer.headers import check_address, clean_header_text, mailbox_header, unstructured
from mailer.rendering.environment import TEMPLATE_ROOT, compile_mjml, fill_template, template_envs
from mailer.rendering.wording import reader_language, words_for
from mailer.sending.transport import Reply, make_transport
from mailer.settings import Settings

PURPOSE = "confirm"
CONFIRM_MAX_AGE = timedelta(days=7)
CLOCK_SKEW = timedelta(minutes=5)  # tokens "from the future" within this are clock drift
HTML_TEMPLATE = "confirm/email.mjml.j2"
TEXT_TEMPLATE = "confirm/email.txt.j2"
_PAYLOAD = struct.Struct(">QI")


@dataclass(frozen=True)
class ConfirmClaim:
    """What a valid confirmation token says: which subscription, issued when."""

    subscription_id: int
    issued_at: datetime


def confirm_token(subscription_id: int, secret: str, issued_at: datetime | None = None) -> str:
    """The token for `/confirm/TOKEN`; `issued_at` defaults to now (tests pass an old time)."""
    when = issued_at or datetime.now(UTC)
    payload = _PAYLOAD.pack(subscription_id, int(when.timestamp()))
    return tokens.sign(PURPOSE, payload, secret)


def parse_confirm_token(
    token: str,
    secrets: list[str],
    *,
    now: datetime | None = None,
    max_age: timedelta = CONFIRM_MAX_AGE,
) -> ConfirmClaim:
    """The claim in a confirmation token; TokenError if altered, forged, expired or malformed."""
    payload = tokens.verify(PURPOSE, token, secrets, "bytes")
    if len(payload) != _PAYLOAD.size:
        raise TokenError("invalid confirmation link")
    subscription_id, stamp = _PAYLOAD.unpack(payload)
    issued = datetime.fromtimestamp(stamp, UTC)
    current = now or datetime.now(UTC)
    if issued > current + CLOCK_SKEW:
        raise TokenError("invalid confirmation link")
    if current - issued > max_age:
        raise TokenError(
            f"this confirmation link has expired (links are valid for {max_age.days} days); "
            "subscribe again to get a new one"
        )
    return ConfirmClaim(subscription_id, issued)


def confirm_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/confirm/{token}"


# ------------------------------------------------------------------------------------------------
# The email
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfirmationMessage:
    """An Envelope for the transport (see mailer.sending.transport.Envelope)."""

    envelope_from: str
    recipients: tuple[str, ...]
    data: bytes
    subject: str


def render_confirmation(context: dict[str, Any]) -> tuple[str, str]:
    """(HTML, text) of the confirmation email; RenderError naming the template on failure."""
    html_env, text_env = template_envs(str(TEMPLATE_ROOT))
    mjml_source = fill_template(html_env, HTML_TEMPLATE, context)
    text = fill_template(text_env, TEXT_TEMPLATE, context)
    return compile_mjml(mjml_source, HTML_TEMPLATE), text


GREETING_MAX = 60  # characters: a longer "name" is not a name, and the email says "Hello,"
GREETING_WORDS = 5  # J. R. R. Tolkien, José María Núñez-O'Brien; not a sentence
# Inside one word of a name, between letters: Núñez-O'Brien, Gal·la, ジョン・スミス, and the
# zero-width (non-)joiners some scripts need (Persian).
_NAME_JOINERS = frozenset("-\u2010'\u2019\u00b7\u30fb\u200c\u200d")
_TITLE_LETTERS = 2  # a word may end in a dot when it is this short: Jr., Dr., St.


def _letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L")


def _name_part(part: str) -> bool:
    """Letters of any script, each perhaps with its combining marks (Zoë written decomposed,
    the vowel signs of Devanagari or Thai); no digit, symbol or punctuation."""
    return (
        bool(part)
        and _letter(part[0])
        and all(_letter(c) or unicodedata.category(c).startswith("M") for c in part[1:])
    )


def _name_word(word: str) -> bool:
    """One word of a person's name: letters joined by hyphens, apostrophes or middle dots
    (O'Brien, Núñez-O'Brien), initials (J., J.R.R.) or a short title (Jr., Dr.). A dot between
    longer runs of letters (EVIL.COM, bit.ly) is a domain, not a name."""
    if "." in word:
        *before, after = word.split(".")
        initials = len(before) > 1 and all(len(letter) == 1 for letter in before)
        title = len(before) == 1 and len(before[0]) <= _TITLE_LETTERS
        if after or not (initials or title):
            return False
        word = "".join(before)
    parts = [word]
    for joiner in _NAME_JOINERS:
        parts = [piece for part in parts for piece in part.split(joiner)]
    return all(_name_part(part) for part in parts)


def greeting_name(name: str) -> str:
    """The name the person gave, fit to greet them with, or "" when it is anything but a name.

    The form is anyone's, and so is the address typed into it: the confirmation goes to an inbox
    nobody has verified yet, so whatever we repeat from the form is our text sent to a stranger
    ("Hello Visit EVIL.COM now," or "Hello Call +1 555 0100 — your account is LOCKED,"). Only
    what is clearly a name is repeated: at most GREETING_WORDS words of letters in any script
    and case, joined by hyphens or apostrophes, with dots only after initials or a short title,
    at most GREETING_MAX characters; no digit, URL, domain, @, slash or other sign. Anything
    else greets without a name. What is kept is one line, and the templates escape it.
    """
    clean = " ".join(unicodedata.normalize("NFC", clean_header_text(name)).split())
    words = clean.split(" ")
    if (
        not clean
        or len(clean) > GREETING_MAX
        or len(words) > GREETING_WORDS
        or not all(_name_word(word) for word in words)
    ):
        return ""
    return clean


def build_confirmation(
    settings: Settings,
    *,
    email: str,
    list_name: str,
    url: str,
    name: str = "",
    now: datetime | None = None,
    lang: str | None = None,
) -> ConfirmationMessage:
    """The confirmation email as bytes, greeting the person by the name they gave (see
    `greeting_name`; the To header carries the address only), in `lang` (English for a
    language without wording).

    The address is checked, never repaired, and the list name is stripped of control characters,
    so no header can be injected.
    """
    when = now or datetime.now(UTC)
    rcpt = check_address(email)
    clean_list = clean_header_text(list_name)
    brand = brand_of(settings)
    code = reader_language(lang)
    words = words_for(code)
    context = {
        "lang": code,
        "words": words,
        "name": greeting_name(name),
        "brand": brand,
        "palette": brand.palette,
        "logo": brand.logo,
        "logo_url": brand.logo.url(settings.public_url) if brand.logo else "",
        "address_names_firm": settings.postal_address.startswith(settings.firm_name),
        "email": email,
        "list_name": clean_list,
        "confirm_url": url,
        "firm": settings.firm_name,
        "newsletter": settings.newsletter_name,
        "postal_address": settings.postal_address,
        "days": CONFIRM_MAX_AGE.days,
        "archive_url": f"{settings.public_url}/archive",
    }
    html, text = render_confirmation(context)
    from_name, from_addr = parseaddr(settings.from_)
    subject = words["mail_subject"].format(list=clean_list)

    msg = EmailMessage(policy=SMTP)
    # From and To are written by mailer/headers.py (one mailbox each, folded there).
    addresses = mailbox_header("From", from_name, from_addr) + mailbox_header("To", "", rcpt)
    msg["Subject"] = unstructured(subject, limit=400)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid("confirm", domain=settings.mail_domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return ConfirmationMessage(
        envelope_from=from_addr,
        recipients=(rcpt,),
        data=addresses.encode("ascii") + msg.as_bytes(),
        subject=subject,
    )


def send_confirmation(settings: Settings, message: ConfirmationMessage) -> Reply:
    """Hand the message to MAILER_SMTP_URL's transport; the server's reply for the recipient."""
    transport = make_transport(settings.smtp_url)
    try:
        return transport.send(message)[message.recipients[0]]
    finally:
        transport.close()
