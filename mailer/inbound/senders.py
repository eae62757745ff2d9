"""Who wrote a reply, and where answers to it go: what the forward to the partner and the admin's
inquiry page say of the sender, and when they must warn.

Anyone can write any display name, and any Reply-To: `"José Rivera" <someone@elsewhere>`, or José's
own From with a Reply-To elsewhere, used to reach the partner as José, and the partner's answer
(perhaps confidential) went to the stranger. So a reply whose answers go to an address that is not
the one on file for the reader its reply+ token names (compared as mailboxes: `mailbox_key` of the
canonical address, so `Jose+work@` and `jose@` are one), or whose name is a known subscriber's
while its address is not theirs, carries a caution (`caution`), and its name is then not trusted:
the forward names the sender by address only. A colleague answering from their own address gets
the caution too: the partner should know the answer leaves the reader's mailbox.

Headers are read with `message.read_head` (bounded, whatever the sender wrote) and parsed before
encoded words are decoded, so a display name that decodes to "x\\r\\nBcc: y" stays a (cleaned)
name and never becomes an address.
"""

from __future__ import annotations

import email.policy
import re
from email.message import Message
from email.utils import getaddresses

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mailer.headers import clean_header_text
from mailer.inbound.charsets import as_text, encoding_of
from mailer.inbound.message import decode_text, read_head
from subscribers.errors import InvalidAddress
from subscribers.models import Subscriber


def head_of(raw: bytes) -> Message:
    """The message's own header, bounded (`message.read_head`), as these readers take it."""
    return read_head(raw, email.policy.compat32)


def mailboxes(head: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) of each mailbox the header's `name` fields (From, Reply-To)
    give, in order; names decoded and cleaned, only entries with an address."""
    charset = _header_charset(head)
    values = [
        _encoded_words_quoted(_eight_bit(value.replace("\r", "").replace("\n", ""), charset))
        for key, value in head.raw_items()
        if key.lower() == name.lower()
    ]
    return [
        (_unquoted(clean_header_text(decode_text(display))), addr.strip())
        for display, addr in getaddresses(values)
        if addr and "@" in addr
    ]


def answers_go_to(head: Message) -> tuple[str, str]:
    """(name, address) the client wants answers at: Reply-To if they set one, else From."""
    for name in ("Reply-To", "From"):
        found = mailboxes(head, name)
        if found:
            return found[0]
    return "", ""


def sent_from(head: Message) -> tuple[str, str]:
    """(name, address) of the message's first From mailbox; ("", "") when it has none."""
    found = mailboxes(head, "From")
    return found[0] if found else ("", "")


def same_mailbox(one: str, other: str) -> bool:
    """Whether two addresses reach one mailbox: their canonical forms' `mailbox_key` (case,
    `+tag`, Gmail's dots and domain alias aside)."""
    return _key(one) == _key(other)


def _key(address: str) -> str:
    # The address validator is imported here: `mailer report` counts inquiries through this
    # package and must start without it (tests/cli/test_startup.py).
    from subscribers.addresses import mailbox_key, normalize

    try:
        canonical = normalize(address)
    except InvalidAddress:
        canonical = address.strip().lower()
    return mailbox_key(canonical)


def namesake(session: Session, name: str, answers_to: str) -> tuple[str, str] | None:
    """(name, address) of a subscriber whose name on file is `name` (case aside) and whose
    address is not the mailbox `answers_to`: the sender wrote a known reader's name over
    another address. None when nobody is so named (or the name is too short to tell)."""
    folded = " ".join(name.split())
    if len(folded) < 3:
        return None
    rows = session.execute(
        select(Subscriber.name, Subscriber.email)
        .where(
            or_(Subscriber.name == folded, func.lower(Subscriber.name) == folded.lower()),
            Subscriber.email.is_not(None),
        )
        .order_by(Subscriber.id)
        .limit(20)
    ).all()
    for known, address in rows:
        if address and not same_mailbox(address, answers_to):
            return known, address
    return None


def caution(
    answers_to: str,
    *,
    on_file: str,
    on_file_name: str,
    from_address: str,
    named: tuple[str, str] | None = None,
) -> str:
    """The caution the partner and the admin read above a reply whose answers go to
    `answers_to` (its Reply-To, else From): when that is not the mailbox on file (`on_file`,
    the address of the reader the reply+ token names), when the sender wrote the name of a
    known subscriber (`named`, from `namesake`) over another address, or, with no reader on
    file (erased), when the Reply-To leads away from the From. "" when none applies."""
    if not answers_to:
        return ""
    advice = (
        "Anyone can write any name in a message: the sender's name is not shown as theirs. "
        "Check with {who} at {address} before you send anything confidential."
    )
    if on_file and not same_mailbox(answers_to, on_file):
        who = on_file_name or "the reader this issue was sent to"
        return (
            f"Caution: replies to this message go to {answers_to}, not to the address we have "
            f"on file for {who} ({on_file}). " + advice.format(who=who, address=on_file)
        )
    if named is not None:
        who, address = named
        return (
            f"Caution: replies to this message go to {answers_to}, not to the address we have "
            f"on file for {who} ({address}), whose name the sender wrote. "
            + advice.format(who=who, address=address)
        )
    if not on_file and from_address and not same_mailbox(answers_to, from_address):
        return (
            f"Caution: replies to this message go to {answers_to}, not to the address it was "
            f"sent from ({from_address}). " + advice.format(who="the sender", address=from_address)
        )
    return ""


def _raw_bytes(value: str) -> bytes | None:
    """A raw header value's bytes when it holds raw 8-bit ones (kept by the parser as
    surrogates), else None."""
    if value.isascii() or not any("\udc80" <= c <= "\udcff" for c in value):
        return None
    return value.encode("utf-8", "surrogateescape")


def _header_charset(head: Message) -> str | None:
    """The charset the header's raw 8-bit values are written in, detected from all of them
    together (a two-character name alone is too short to tell GB2312 from EUC-JP; with the
    subject beside it, it is not)."""
    found = [b for b in (_raw_bytes(str(v)) for _, v in head.raw_items()) if b]
    return encoding_of(b"\n".join(found)) if found else None


def _eight_bit(value: str, charset: str | None = None) -> str:
    """A header value whose raw 8-bit bytes (a name written in UTF-8, Windows-1252 or a CJK
    charset without RFC 2047 encoding, as some mail clients do) are read as text, not as U+FFFD:
    "Ramón", not "Ram��n"; "山田 花子", not "ŽR“c ‰ÔŽq" (`charsets.as_text`, in the `charset`
    the whole header is written in when known). Plain values are returned unchanged."""
    data = _raw_bytes(value)
    return value if data is None else as_text(data, charset)


# An RFC 2047 encoded word, or a quoted string (left as it is). Sloppy encoders leave spaces and
# specials (":", "@", ",") unencoded in the word's text; the text never holds a "?".
_WORD_OR_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|=\?[^?\s]+\?[bBqQ]\?[^?]*\?=')


def _encoded_words_quoted(value: str) -> str:
    """The header value with each encoded word outside a quoted string made a quoted string:
    a mail client reads `=?utf-8?Q?M=FCller, Hans?= <hans@…>` or `=?utf-8?Q?Eve:_x@evil?= <eve@…>`
    as one name over one address, while `getaddresses` would split the word at its comma or
    read its colon as a group and its "@" as an address. The word is decoded afterwards."""

    def quoted(found: re.Match[str]) -> str:
        word = found.group(0)
        if word.startswith('"'):
            return word
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return _WORD_OR_QUOTED.sub(quoted, value)


def _unquoted(name: str) -> str:
    """A name without the quotes some clients encode inside it (=?utf-8?Q?=22Mu=C3=B1oz…=22?=
    decodes to '"Muñoz, María"'): the forward's headers quote it again where needed."""
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1].strip()
    return name
