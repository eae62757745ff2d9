"""Email addresses: the one canonical form every table stores, and the keyed hash suppression uses.

Canonical form, and why:
- Surrounding whitespace is trimmed (spreadsheets pad cells), but a space, CR, LF or any other
  control character *inside* an address is refused rather than cleaned: such input is either a
  typo we must not guess at or a header-injection attempt (`evil@x\\r\\nBcc: victim@y`).
- Syntax is checked by email-validator (no DNS: imports must work offline and fast).
- The whole address is lower-cased. RFC 5321 lets a server treat local parts case-sensitively,
  but no real mailbox provider does, and users expect `Mixed.Case@Example.COM` and
  `mixed.case@example.com` to be one subscriber, not two who each get every issue.
- Internationalised domains are stored in Unicode (`bücher.de`, never `xn--bcher-kva.de`), the
  form email-validator normalises to: it is what people type and read, what a `domain:` segment
  compares against, and either spelling of the same domain maps to it. The transport converts to
  ASCII (IDNA) for the SMTP envelope where needed.
- An internationalised *mailbox name* (a non-ASCII local part, `jürgen.müller@example.de`, RFC 6531)
  is refused at every door that subscribes someone (CSV import, the subscribe form, the API, the
  CLI, the admin). Delivering to it needs SMTPUTF8 end to end: our relay, every hop after it and
  the recipient's server; the relays firms use for bulk mail (Amazon SES, SendGrid, Mailgun,
  most Exchange set-ups) refuse it, and a DKIM-signed message with UTF-8 headers is a different
  message from the one the rest of the list gets. Accepting such an address would create an
  active subscriber that fails every campaign; refusing it says so at once, to the person who can
  give another address. Lookups (`show`, `forget`, suppression) still accept it, so a row created
  before this rule can be found and erased.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from subscribers.errors import InvalidAddress

MAX_LENGTH = 320  # the Subscriber.email column

_LINE_BREAK = re.compile(r"[\r\n]")


@dataclass(frozen=True)
class Address:
    """A validated address in canonical form, and its domain (for `domain:` segments)."""

    email: str
    domain: str


def parse_address(raw: str, *, allow_smtputf8: bool = False) -> Address:
    """Validate and canonicalise one address, or raise InvalidAddress saying why.

    `allow_smtputf8=True` accepts a non-ASCII local part: only for finding what is on record
    (see the module docstring for why nothing new is subscribed with one).
    """
    text = raw.strip()
    if not text:
        raise InvalidAddress("missing email address")
    if _LINE_BREAK.search(text):
        raise InvalidAddress(
            "the email address contains a line break (CR/LF), which could inject mail headers"
        )
    for ch in text:
        if ch.isspace():
            raise InvalidAddress("the email address contains a space")
        if unicodedata.category(ch) in ("Cc", "Cf"):
            raise InvalidAddress(
                f"the email address contains a control character (U+{ord(ch):04X})"
            )
    local = text.rpartition("@")[0]
    if not allow_smtputf8 and not local.isascii():
        raise InvalidAddress(
            f"the part before the @ ({local}) has non-ASCII characters: internationalised "
            "mailboxes (RFC 6531, SMTPUTF8) cannot be delivered through our mail relay; "
            "please give an address written in ASCII letters"
        )
    try:
        valid = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
    email = valid.normalized.lower()
    if len(email) > MAX_LENGTH:
        raise InvalidAddress(f"the email address is longer than {MAX_LENGTH} characters")
    return Address(email=email, domain=valid.domain.lower())


def normalize(raw: str) -> str:
    """The canonical form of an address on record (lookups: SMTPUTF8 mailboxes are accepted);
    InvalidAddress if it is not an address at all."""
    return parse_address(raw, allow_smtputf8=True).email


# Providers whose inboxes ignore dots in the local part, by domain, and the one domain each stands
# for: `v.ictim@gmail.com` and `victim@googlemail.com` are victim@gmail.com's inbox.
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def mailbox_key(email: str) -> str:
    """The mailbox an address reaches, for abuse limits: lower-cased, `+tag` dropped, and at the
    providers in DOTLESS_DOMAINS the dots dropped and the domain made the one it stands for.

    `Victim+1@Example.com` and `victim+2@example.com` land in one inbox at every provider that
    supports sub-addressing (RFC 5233), and `v.ictim@gmail.com` in victim@gmail.com's (Gmail
    ignores dots: a ten-letter name has 512 dotted spellings), so a per-address cap keyed on
    this cannot be walked around by varying the tag or the dots. Dots are kept everywhere else
    (first.last@ and firstlast@ are two people at most providers). Only for counting:
    subscribers keep the address they gave.
    """
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), DOTLESS_DOMAINS[domain]
    return f"{local}@{domain}"


def address_hash(email: str, secret: str) -> str:
    """HMAC-SHA256 (hex) of the canonical address under `secret`.

    Keyed, not a plain hash, so that an erased person's entry on the suppression list cannot be
    reversed by hashing a list of known addresses without the key. The caller passes the key
    (the mailer passes `settings.secret()`): this package never reads settings itself.
    """
    return hash_canonical(normalize(email), secret)


def hash_canonical(email: str, secret: str) -> str:
    """`address_hash` for an address already in canonical form (bulk paths skip re-validating)."""
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()
