"""Reading an inbound message: decoded headers whatever the sender's encoding mistakes, our
loop-guard header, and the client's own words (plain text preferred, HTML converted, quoted
newsletter and quote headers trimmed), from a message parsed safely (`parse_safely`). Pure
functions, shared by the judgement, the inquiries and the admin's inquiry page.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from email.feedparser import BytesFeedParser
from email.header import decode_header, make_header
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.policy import Policy
from email.utils import getaddresses

from email_reply_parser import EmailReplyParser

from mailer import tokens
from mailer.errors import TokenError
from mailer.filenames import download_name
from mailer.inbound import charsets
from mailer.inbound.bounded import (
    MAX_HTML_CHARS,
    bounded_text,
)
from mailer.inbound.shape import (
    MAX_FIELD_BYTES,
    MAX_HEADER_BYTES,
    MAX_HEADER_FIELDS,
    MAX_MIME_PARTS,
    MAX_MULTIPARTS,
    MAX_SAME_FIELD,
    MULTIPART,
    UnreadableMessage,
    header_block,
    header_fields,
    header_problem,
    shape,
)

LOOP_HEADER = "X-Mailer-Loop"

# Where a saved message says whom it was delivered to, most reliable first: the delivering MTA's
# own record (Delivered-To, X-Original-To, Envelope-To), then what the sender addressed.
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")
# A message starts with a header field (or an mbox "From " line): a CSV or a PDF does not.
_FIRST_FIELD = re.compile(rb"(?:\xef\xbb\xbf)?(?:From |[\x21-\x39\x3b-\x7e]+[ \t]*:)")


def looks_like_message(raw: bytes) -> bool:
    """Whether `raw` can be a message as received: it starts with a header field."""
    return bool(_FIRST_FIELD.match(raw))


def our_recipient(msg: Message, domain: str | None) -> tuple[str, str] | None:
    """`(address, header)`: the first of our reply+, bounces+ or unsubscribe+ addresses at
    `domain` (any domain when None) that the message's headers name, looking in
    RECIPIENT_HEADERS order; None when none does. For a saved message judged without its
    envelope: the address it came to is in its own headers."""
    for name in RECIPIENT_HEADERS:
        try:
            values = [str(v) for v in msg.get_all(name) or []]
        except Exception:  # noqa: BLE001, S112 - a malformed header is no recipient
            continue
        for _, addr in getaddresses(values):
            try:
                tokens.parse_address(addr, domain)
            except TokenError:
                continue
            return addr, name
    return None


# Quote headers email-reply-parser (English only) does not know, and Outlook's separators, in
# the readers' languages: English, Spanish, French, German, Portuguese, Italian, Dutch, Polish,
# Swedish, Russian, Japanese and Chinese.
_WROTE_WORDS = (
    r"escribi\u00f3|a \u00e9crit|schrieb|wrote|ha scritto|escreveu|schreef"
    r"|het volgende geschreven"  # Apple Mail in Dutch: "Op <date> heeft <name> het volgende …:"
    r"|napisa\u0142(?:\(a\)|a)?|pisze|skrev"  # Polish Gmail and Thunderbird, Swedish
    r"|пишет|написала?"  # Russian Thunderbird and Gmail
)
# Chinese "写道：" / "寫道：" follows the date with no space, so no word boundary before it.
_WROTE_CJK = r"写道|寫道"
# Outlook's header block's first field: "From:", "De :", "Von:", "Van:", "Da:", Polish "Od:",
# Swedish "Från:", Danish and Norwegian "Fra:", Finnish "Lähettäjä:", Turkish "Kimden:",
# Hungarian "Feladó:", Greek "Από:", Russian "От:", Japanese "差出人:", Chinese "发件人:" /
# "寄件者:", Korean "보낸 사람:", Arabic "من:", Hebrew "מאת:" ("：" too).
_FROM_FIELD = (
    r"from|de|von|van|da|od|fr\u00e5n|fra|l\u00e4hett\u00e4j\u00e4|kimden|felad\u00f3|"
    r"\u03b1\u03c0\u03cc|от|差出人|发件人|發件人|寄件者|보낸 사람|من|מאת"
)
_ORIGINAL_MESSAGE = (
    r"original message|mensaje original|message d'origine|urspr\u00fcngliche nachricht"
    r"|mensagem original|messaggio originale|oorspronkelijk bericht|origineel bericht"
    r"|исходное сообщение|元のメッセージ|原始邮件|原始郵件"
)
QUOTE_START = re.compile(
    # Possessive: a line of white space was split every way between the two runs (cubic time:
    # 1,000 spaces took 40 s); no alternative below starts with white space it would need back.
    r"^(?:\s*+>?\s*+)(?:"
    rf"-{{2,}}\s*(?:{_ORIGINAL_MESSAGE})\s*-{{2,}}"
    r"|_{10,}"
    # Outlook header block: "De : Fulano <...>", "Van: …", "От: …", "差出人: …"
    rf"|(?:{_FROM_FIELD})\s*(?::\s|\uff1a\s*).+"
    rf"|.*\b(?:{_WROTE_WORDS})\s*:\s*$"
    rf"|.*(?:{_WROTE_CJK})\s*[:\uff1a]\s*$"
    # Gmail in Russian, Japanese and Chinese and Yandex name no verb: a dated line that ends with
    # the sender's address and a colon ("вт, 2 дек. 2025 г. в 09:00, Name <a@b>:",
    # "2025年4月9日(水) 8:00 Name <a@b>:")
    r"|.{0,80}\d{4}.{0,200}<[^<>\s]+@[^<>\s]+>\s*[:\uff1a]\s*$"
    # Gmail in German, Dutch…: "Am <date> schrieb <name> <<address>>:", or cut at the address
    r"|(?:am|op|on|el|le|il|em|den|w dniu)\s.{4,200}\b(?:schrieb|schreef|wrote|escribi\u00f3"
    r"|ha scritto|escreveu|a \u00e9crit|skrev|napisa\u0142|pisze)\b.{0,200}(?:>:|<)\s*$"
    # Thunderbird in German and Dutch: "Am 09.04.25 um 06:40 schrieb Fausto Carbajal Glass:"
    r"|(?:am|op)\s.{0,60}\d.{0,200}\b(?:schrieb|schreef)\s.{1,200}:\s*$"
    r")",
    re.I,
)


def normalise(text: str) -> str:
    """Lower case, accents removed, punctuation as spaces: what the phrase rules match."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^\w\s]+", " ", text)
    return " ".join(text.split())


def fold(text: str) -> str:
    """Lower case, accents removed, spaces collapsed; punctuation kept (it tells "Absence:" from
    "Absence of", "Read:" from "Read the note")."""
    text = unicodedata.normalize("NFKD", text.lower())
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


def decode_text(value: object) -> str:
    """A header value as text, whatever encoding mistakes the sender made."""
    if value is None:
        return ""
    text = str(value)
    with contextlib.suppress(Exception):  # a broken encoded-word: keep the raw text
        text = str(make_header(decode_header(text)))
    return " ".join(text.split())


def storable(text: str) -> str:
    """`text` without what no database column takes: NUL characters (PostgreSQL refuses them in
    text) and the lone surrogates that stand for undecodable bytes (no UTF-8 encoder takes
    them; they become U+FFFD). A sender's broken header or EHLO must not make storing fail,
    which answered 451 for ever and made the sender retry until its queue gave up."""
    if text.isascii():
        return text.replace("\x00", "")
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.replace("\x00", "")


def header(msg: Message, name: str) -> str:
    """The field's value as storable text (`storable`), RFC 2047 and raw 8-bit decoded."""
    try:
        text = decode_text(msg.get(name))
    except Exception:  # noqa: BLE001 - malformed headers must not stop classification
        return ""
    if "\ufffd" in text or "\x1b" in text:
        text = _eight_bit_header(msg, name) or text
    return storable(text)


def _text_charset(msg: Message) -> str | None:
    """The charset the message's first text part declares (a client writing a header in raw
    8-bit uses the body's charset), or None."""
    for count, part in enumerate(msg.walk()):
        if count > 20:
            break
        if part.get_content_maintype() == "text" and part.get_content_charset():
            return part.get_content_charset()
    return None


def _unlabelled_text(msg: Message) -> bytes:
    """The first text part's bytes when it declares no charset: written, as the header beside
    it, in the sender's own charset, and a longer sample to detect it from."""
    for count, part in enumerate(msg.walk()):
        if count > 20 or part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True) if count <= 20 else None
            if part.get_content_charset() is None and isinstance(payload, bytes):
                return payload[:4000]
            return b""
    return b""


def _eight_bit_header(msg: Message, name: str) -> str | None:
    """A header written in raw 8-bit, not RFC 2047 encoded ("Subject: D\xe9sabonnement" in
    windows-1252, "退订" in GB2312, "自動応答" in Shift_JIS or 7-bit ISO-2022-JP), read as UTF-8,
    else in the body's charset, else in the charset detected from it and an unlabelled body
    (`charsets`), else as windows-1252; None when it has no such bytes."""
    raw = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), None)
    if not isinstance(raw, str):
        return None
    if not any("\udc80" <= c <= "\udcff" for c in raw) and "\x1b" not in raw:
        return None
    data = raw.encode("utf-8", "surrogateescape")
    detected = charsets.encoding_of(data + b"\n" + _unlabelled_text(msg))
    tried = ("utf-8", _text_charset(msg), detected, charsets.encoding_of(data), "windows-1252")
    for charset in tried:
        if charset is None or (charset == "utf-8" and b"\x1b" in data):
            continue
        try:
            text = data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
        if charset == "windows-1252" or charsets.plausible(text):
            return " ".join(text.split())
    return None


def parse(raw: bytes) -> EmailMessage:
    """The message with the modern API (get_body, decoded headers)."""
    msg = parse_in_pieces(raw, email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


class _ParsedOnce(HeaderRegistry):
    """The header factory of one parsed message, parsing each field once: the modern API parses
    a field anew at every lookup, and the judgement looks a part's Content-Type up dozens of
    times (a 7,900-byte one made that 20 s)."""

    def __init__(self) -> None:
        super().__init__()
        self._parsed: dict[tuple[str, str], BaseHeader] = {}

    def __call__(self, name: str, value: str) -> BaseHeader:
        key = (name.lower(), value)
        found = self._parsed.get(key)
        if found is None:
            found = self._parsed[key] = super().__call__(name, value)
        return found


def parse_safely(raw: bytes) -> EmailMessage:
    """The parsed message; UnreadableMessage when its MIME structure is too deep to walk, has
    more than MAX_MIME_PARTS parts, or more header fields than MAX_HEADER_FIELDS in all or
    MAX_SAME_FIELD of one name in one header, a field longer than MAX_FIELD_BYTES or more than
    MAX_HEADER_BYTES of headers (`shape`, counted on the bytes before parsing).

    The standard library parses and walks MIME recursively: a message nesting 1,500 multiparts
    raises RecursionError there, so such a message is refused before parsing. Messages nested in
    messages (message/rfc822) are not counted: a reply may forward a thread, the parser reads
    them to about 1,000 levels (deeper is refused here, from its RecursionError), and whatever
    walks or writes a parsed message copes with the depths it cannot write out again (the
    forward attaches the bytes as received; the admin page names the part it cannot rebuild).
    """
    if b"\r" in raw and b"\n" not in raw[:4096]:
        # Bare CR line ends (old Mac mail stores): the parser splits headers on them, but
        # quoted-printable decoding does not, and loses the rest of a part at its first soft
        # break ("=" then CR).
        raw = raw.replace(b"\r", b"\n")
    count = len(MULTIPART.findall(raw))
    if count > MAX_MULTIPARTS:
        raise UnreadableMessage(
            f"the message has {count} nested or sibling multipart parts (the limit is "
            f"{MAX_MULTIPARTS}); kept unprocessed"
        )
    found = shape(raw)
    if found.parts > MAX_MIME_PARTS:
        raise UnreadableMessage(
            f"the message has {found.parts:,} MIME parts (the limit is {MAX_MIME_PARTS:,}); kept "
            "unprocessed"
        )
    problem = header_problem(found)
    if problem:
        raise UnreadableMessage(problem)
    policy = email.policy.default.clone(header_factory=_ParsedOnce())
    try:
        msg = parse_in_pieces(raw, policy)
    except RecursionError as exc:
        raise UnreadableMessage("the message's MIME structure is too deep to read") from exc
    assert isinstance(msg, EmailMessage)
    return msg


FEED_BYTES = 64 * 1024


def parse_in_pieces(raw: bytes, policy: Policy) -> Message:
    """`raw` parsed by feeding the parser FEED_BYTES at a time. `message_from_bytes` decodes the
    whole message to one string and reads it through a StringIO, which holds it at four bytes a
    character: judging a 24 MiB message grew the process by 7.8 times its size. Fed in pieces,
    only the parsed message is held; the result is the same (the library's parser reads a
    StringIO in pieces too)."""
    parser = BytesFeedParser(policy=policy)
    view = memoryview(raw)
    for start in range(0, len(raw), FEED_BYTES):
        parser.feed(bytes(view[start : start + FEED_BYTES]))
    return parser.close()


def read_head(raw: bytes, policy: Policy = email.policy.default) -> Message:
    """The message's own header alone, parsed, within the limits `header_problem` checks: the
    first MAX_HEADER_FIELDS fields, MAX_SAME_FIELD of one name, none longer than
    MAX_FIELD_BYTES, MAX_HEADER_BYTES in all (the rest dropped unparsed). What the SMTP server
    and the forward read of a message before or without parsing it, cheap whatever the sender
    wrote."""
    block, _ = header_block(raw, 0, len(raw))
    if len(block) > MAX_FIELD_BYTES or block.count(b"\n") > MAX_SAME_FIELD:
        kept: list[bytes] = []
        seen: Counter[bytes] = Counter()
        total = 0
        for number, (name, start, end) in enumerate(header_fields(block), 1):
            key = name.lower()
            seen[key] += 1
            total += end - start
            if (
                end - start <= MAX_FIELD_BYTES
                and seen[key] <= MAX_SAME_FIELD
                and number <= MAX_HEADER_FIELDS
                and total <= MAX_HEADER_BYTES
            ):
                kept.append(block[start:end])
        block = b"".join(kept)
    return BytesHeaderParser(policy=policy).parsebytes(block + b"\r\n")


def has_loop_guard(msg: Message, domain: str) -> bool:
    """Whether the message is one of our own forwards (it carries our loop-guard header)."""
    wanted = domain.lower().rstrip(".")
    return any(
        str(v).strip().lower().rstrip(".") == wanted for v in (msg.get_all(LOOP_HEADER) or [])
    )


def html_to_text(html: str) -> str:
    """Readable text from an HTML reply, without the quoted newsletter below it (of its first
    MAX_HTML_CHARS characters)."""
    import lxml.html

    html = html[:MAX_HTML_CHARS]
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
    """The message's text (plain preferred, else HTML converted), as the client wrote it,
    `bounded_text`; "" when it has none, or when its parts nest too deeply for the standard
    library to look."""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except RecursionError:
        return ""
    if part is None:
        return ""
    try:
        content = part.get_content()
    except Exception:  # noqa: BLE001 - unknown charset: decode leniently
        payload = part.get_payload(decode=True)
        content = payload.decode("latin-1") if isinstance(payload, bytes) else str(payload)
    if not isinstance(content, str):
        return ""
    if "\ufffd" in content or (part.get_content_charset() or "") in _WESTERN_LABELS:
        content = _as_written(part) or content
    if part.get_content_subtype() == "html":
        return bounded_text(html_to_text(content))
    return bounded_text(content)


_UNICODE_LABELS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
# Western single-byte labels, under which UTF-8 text is often sent: every byte decodes, so the
# mistake shows only as "DÃ©sabonnez" (`_as_written` reads valid, non-ASCII UTF-8 as UTF-8).
_WESTERN_LABELS = frozenset(
    {"iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252", "iso-8859-15", "latin-9"}
)


def _as_written(part: Message) -> str | None:
    """The part's text read as it was written when its bytes are not in the charset it declares:
    UTF-8 when they are valid, non-ASCII UTF-8 (a Japanese client's "iso-2022-jp" label over
    UTF-8 text, an "iso-8859-1" label over UTF-8 "Désabonnez-moi"); when they are labelled UTF-8
    or ASCII, or not labelled, but are not, the charset detected from them (`charsets`: a Korean
    phone's EUC-KR, a Japanese one's Shift_JIS), else windows-1252 (old Outlook and webmail
    gateways label Western European text so: "Désinscrivez-moi" must not read "D�sinscrivez").
    None when neither reads it."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or (payload.isascii() and b"\x1b" not in payload):
        return None
    with contextlib.suppress(UnicodeDecodeError):
        return payload.decode("utf-8")
    if (part.get_content_charset() or "us-ascii") not in _UNICODE_LABELS:
        return None
    found = charsets.detected(payload)
    return found if found is not None else payload.decode("windows-1252", "replace")


def attachments(msg: EmailMessage) -> list[EmailMessage]:
    """Every attachment of the message, in MIME order, at any depth: each leaf part but the
    text (plain or HTML, without a file name, not marked as an attachment) that is the body or
    one of its alternatives; an attached message is one attachment, not opened. Unlike
    `EmailMessage.iter_attachments` (one level only, and a text part with a file name may be
    taken for the body), nothing a client sent is left out."""
    found: list[EmailMessage] = []
    todo = [msg]  # walked with a stack, not recursion: any depth the parser read is walked
    while todo:
        part = todo.pop()
        if part.get_content_maintype() == "multipart":
            # an EmailMessage's parts are EmailMessages; reversed, so they pop in MIME order
            todo.extend(reversed(list(part.iter_parts())))  # type: ignore[arg-type]
            continue
        named = part.is_attachment() or bool(_file_name(part))
        if named or part.get_content_type() not in ("text/plain", "text/html"):
            found.append(part)
    return found


def _file_name(part: EmailMessage) -> str:
    """The part's file name as sent (Content-Disposition, else Content-Type's name), "" if none
    or unreadable."""
    try:
        return part.get_filename() or ""
    except Exception:  # noqa: BLE001 - a malformed parameter is no name, not an error
        return ""


def attachment_name(part: EmailMessage, index: int) -> str:
    """The name to list and serve the `index`th attachment under: its file name cleaned to a
    base name (`filenames.download_name`), else `attachment-N` (N from 1; `.eml` for a message)."""
    eml = ".eml" if part.get_content_type() == "message/rfc822" else ""
    return download_name(_file_name(part), f"attachment-{index + 1}{eml}")


def attachment_bytes(part: EmailMessage) -> bytes | None:
    """The attachment's content as sent: transfer encoding undone; an attached message whole.
    None for an attached message that nests messages too deeply for the standard library to
    write out again (it reads a few hundred levels it cannot rebuild: RecursionError)."""
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        if not isinstance(inner, Message):
            return b""
        try:
            return inner.as_bytes()
        except RecursionError:
            return None
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


# The start of a mail client's "On <date>, <who> wrote:" line, in the languages QUOTE_START
# knows: Gmail wraps a long one ("On Wed, Apr 9, 2025 at 10:00 AM Fausto Carbajal Glass <" then
# "reply+…@news.example.com> wrote:"), so its first lines are not the reader's words either.
_ATTRIBUTION_START = re.compile(r"^\s*(?:on|el|le|am|em|il|op)\s+\S", re.I)
_WROTE = re.compile(rf"\b(?:{_WROTE_WORDS})\s*:\s*$", re.I)


def _wrapped_attribution(kept: list[str], end: str) -> int:
    """How many of the last kept lines begin the wrapped attribution line that `end` ends."""
    if not _WROTE.search(end) or _ATTRIBUTION_START.match(end):
        return 0
    for count in (1, 2):
        lines = kept[-count:]
        if (
            len(lines) == count
            and all(k.strip() for k in lines)
            and _ATTRIBUTION_START.match(lines[0])
            and re.search(r"\d", lines[0])  # its date
            and "@" in "".join(lines) + end  # the sender's address, where Gmail wraps it
        ):
            return count
    return 0


def reply_text(text: str) -> str:
    """The client's own words: quoted newsletter text and quote headers trimmed."""
    text = text.replace("\r\n", "\n")
    kept: list[str] = []
    for line in text.split("\n"):
        if QUOTE_START.match(line) and any(k.strip() for k in kept):
            del kept[len(kept) - _wrapped_attribution(kept, line) :]
            break
        kept.append(line)
    try:
        trimmed = EmailReplyParser.parse_reply("\n".join(kept))
    except Exception:  # noqa: BLE001 - a library crash must not stop the judgement
        trimmed = ""
    return trimmed.strip() or "\n".join(kept).strip()


def our_deliveries(message: bytes | Message, secrets: Iterable[str]) -> tuple[int, ...]:
    """The deliveries a report is verifiably about: those whose signed Message-ID (the one we
    wrote on the message sent) it carries, anywhere (the original's headers, a DSN's text),
    verified with every key of `secrets` (`settings.verification_secrets()`: a rotated key still
    verifies mail sent before). A bounce or complaint acts on a reader only through these: the
    tokens in our addresses and links are in the mail the reader received, readable by anyone
    who sees its headers, so they say where a report arrived, never that it is genuine."""
    return tokens.our_message_ids(message, secrets)
