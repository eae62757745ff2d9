"""Hostile and broken input at `mailer inbound`: a message nested 1,500 MIME levels deep, the same
recipient fifty times in one transaction, more recipients than the cap, and a judgement that keeps
crashing. Nothing is processed twice, nothing retried for ever, every reply line within RFC 5321."""

from __future__ import annotations

import base64
import os
import smtplib
import tracemalloc

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.db import get_sessionmaker
from mailer.inbound import inquiries
from mailer.inbound import process as process_module
from mailer.inbound.bounded import MAX_LINE_CHARS, MAX_TEXT_CHARS
from mailer.inbound.detectors import rfc3464
from mailer.inbound.detectors import text as text_detector
from mailer.inbound.detectors.base import Mail
from mailer.inbound.inquiries import MAX_FORWARDED_BYTES
from mailer.inbound.judgement import judge
from mailer.inbound.message import body_text, parse_safely
from mailer.inbound.models import InboundKind, InboundMessage, InboundStatus, Inquiry, InquiryStatus
from mailer.inbound.process import MAX_ATTEMPTS, process
from mailer.inbound.receive import MAX_RECIPIENTS, stale_messages, stored_reply
from mailer.inbound.shape import MAX_MIME_FIELD_BYTES, MAX_MIME_PARTS, UnreadableMessage
from mailer.settings import get_settings
from tests.builders import Newsroom
from tests.hang import hang_guard
from tests.inbound_support import (
    DOMAIN,
    InboundServer,
    address,
    delivery_of,
    reply,
    snapshot_campaign,
)
from tests.smtpd import SMTPServer

WHO = "jose.rivera1@example.org"
PARTNER = "fausto.carbajal@miranda-partners.com"


@pytest.fixture
def rcpt(session: Session, room: Newsroom) -> str:
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    return address("reply", delivery.id, get_settings())


def deep_message(rcpt: str, levels: int = 1500) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(levels)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(levels)))
    head = f"From: {WHO}\r\nTo: {rcpt}\r\nSubject: deep\r\nMIME-Version: 1.0\r\n".encode()
    return head + opening + b"Content-Type: text/plain\r\n\r\nhello\r\n" + closing


def nested_messages(rcpt: str, levels: int = 400) -> bytes:
    """A reply whose attachment is a message inside a message… `levels` deep: the standard
    library parses 300 to 900 levels but cannot write them out again (RecursionError)."""
    head = (
        f"From: José Rivera <{WHO}>\r\nTo: {rcpt}\r\nSubject: Re: the chain\r\n"
        "Message-ID: <chain.1@example.org>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
    ).encode()
    words = b"--outer\r\nContent-Type: text/plain\r\n\r\nFausto, see the thread below.\r\n"
    chain = b"Content-Type: message/rfc822\r\n\r\n" * levels
    return (
        head
        + words
        + b"--outer\r\n"
        + chain
        + b"Content-Type: text/plain\r\n\r\nthe first message\r\n--outer--\r\n"
    )


@pytest.mark.parametrize("levels", [300, 400, 900])
def test_a_reply_nesting_hundreds_of_messages_reaches_the_partner_with_the_original_attached_raw(
    session: Session, server: InboundServer, rcpt: str, relay: SMTPServer, levels: int
) -> None:
    raw = nested_messages(rcpt, levels)
    got = server.send(WHO, [rcpt], raw)
    assert got.data is not None and got.data[0] == 250
    session.expire_all()
    [row] = session.scalars(select(InboundMessage)).all()
    assert (row.kind, row.status) == (InboundKind.INQUIRY, InboundStatus.DONE), row.outcome
    assert session.scalars(select(Inquiry)).one().status == InquiryStatus.SENT
    [fwd] = relay.sink.to(PARTNER)
    assert "Fausto, see the thread below." in fwd.message.get_body(("plain",)).get_content()
    [original] = list(fwd.message.iter_attachments())
    assert original.get_content_type() == "application/octet-stream"  # attached unparsed
    assert original.get_content() == row.raw  # byte for byte


def test_a_forward_that_keeps_crashing_is_failed_after_the_bounded_attempts(
    session: Session, room: Newsroom, rcpt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: building the forward raises on every run. The inquiry is not retried
    for ever: after MAX_ATTEMPTS runs the message and its inquiry are failed with the error,
    and the sweep no longer picks the message up."""

    def crash(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(inquiries, "build_forward", crash)
    raw = reply(from_=f"José Rivera <{WHO}>", to=rcpt, subject="Re: x", body="Call me?")
    with InboundServer(get_settings(), enqueue=lambda i: None) as stores_only:
        stores_only.send(WHO, [rcpt], raw)
    [row] = session.scalars(select(InboundMessage)).all()
    for _ in range(MAX_ATTEMPTS - 1):
        with pytest.raises(RecursionError):
            process(row.id)
        session.expire_all()
        assert session.scalars(select(Inquiry)).one().claimed_at is None  # free for the retry
    last = process(row.id)
    assert last.status == InboundStatus.FAILED
    assert "nested too deeply" in last.outcome and "RecursionError" in last.outcome
    session.expire_all()
    inquiry = session.scalars(select(Inquiry)).one()
    assert inquiry.status == InquiryStatus.FAILED and "nested too deeply" in inquiry.last_reply
    assert process(row.id).status == InboundStatus.FAILED  # never retried again
    settings = get_settings().model_copy(update={"inbound_requeue_after": 0})
    assert row.id not in stale_messages(get_sessionmaker(), settings)


def test_a_run_that_never_finishes_is_failed_once_the_attempts_are_spent(
    session: Session, room: Newsroom, rcpt: str
) -> None:
    """Runs killed outright (out of memory, a crashed worker) record no error: once MAX_ATTEMPTS
    runs started without finishing, the next one fails the message instead of trying again."""
    raw = reply(from_=f"José Rivera <{WHO}>", to=rcpt, subject="Re: x", body="Call me?")
    with InboundServer(get_settings(), enqueue=lambda i: None) as stores_only:
        stores_only.send(WHO, [rcpt], raw)
    row = session.scalars(select(InboundMessage)).one()
    row.attempts = MAX_ATTEMPTS  # each started (the count is taken first), none got further
    session.commit()
    result = process(row.id)
    assert result.status == InboundStatus.FAILED
    assert f"did not finish in {MAX_ATTEMPTS} attempts" in result.outcome


def test_a_message_nested_1500_levels_deep_ends_failed_with_its_error(
    session: Session, server: InboundServer, rcpt: str, relay: SMTPServer
) -> None:
    got = server.send(WHO, [rcpt], deep_message(rcpt))
    assert got.data is not None and got.data[0] == 250
    session.expire_all()
    [row] = session.scalars(select(InboundMessage)).all()
    assert row.status == InboundStatus.FAILED
    assert "cannot be read safely" in row.outcome and "multipart" in row.outcome
    assert row.attempts <= MAX_ATTEMPTS
    assert process(row.id).status == InboundStatus.FAILED  # run again: nothing more happens
    assert relay.sink.to(PARTNER) == []


def many_attachments(rcpt: str, count: int) -> bytes:
    """A reply carrying `count` one-byte attachments in one flat multipart (no nesting)."""
    head = (
        f"From: {WHO}\r\nTo: {rcpt}\r\nSubject: many\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nFausto, the files.\r\n"
    )
    parts = "".join(
        "--B\r\nContent-Type: application/octet-stream\r\n"
        f'Content-Disposition: attachment; filename="f{i}.bin"\r\n\r\nx\r\n'
        for i in range(count)
    )
    return (head + parts + "--B--\r\n").encode()


def test_a_message_of_thousands_of_tiny_attachments_is_failed_and_not_forwarded(
    session: Session, server: InboundServer, rcpt: str, relay: SMTPServer
) -> None:
    """Hostile input: 20,000 one-byte attachments in one flat multipart (one container, so the
    multipart cap alone let it through; parsing and forwarding it took minutes)."""
    got = server.send(WHO, [rcpt], many_attachments(rcpt, 20_000))
    assert got.data is not None and got.data[0] == 250
    session.expire_all()
    [row] = session.scalars(select(InboundMessage)).all()
    assert row.status == InboundStatus.FAILED
    assert "cannot be read safely" in row.outcome
    assert f"the limit is {MAX_MIME_PARTS:,}" in row.outcome
    assert relay.sink.to(PARTNER) == []


def test_a_reply_with_many_attachments_within_the_part_limit_is_forwarded(
    session: Session, server: InboundServer, rcpt: str, relay: SMTPServer
) -> None:
    got = server.send(WHO, [rcpt], many_attachments(rcpt, 300))
    assert got.data is not None and got.data[0] == 250
    session.expire_all()
    [row] = session.scalars(select(InboundMessage)).all()
    assert row.status != InboundStatus.FAILED, row.outcome
    assert len(relay.sink.to(PARTNER)) == 1


def test_fifty_identical_recipients_are_one_message_and_one_forward(
    session: Session, server: InboundServer, rcpt: str, relay: SMTPServer
) -> None:
    raw = reply(from_=f"José Rivera <{WHO}>", to=rcpt, subject="Re: x", body="Call me?")
    with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as conn:
        conn.ehlo("client.example")
        conn.mail(WHO)
        codes = [conn.rcpt(rcpt)[0] for _ in range(50)]
        code, text = conn.data(raw)
    server.settle()
    assert codes == [250] * 50 and code == 250
    assert len(text) + 2 <= 512
    session.expire_all()
    assert len(session.scalars(select(InboundMessage)).all()) == 1
    assert len(session.scalars(select(Inquiry)).all()) == 1
    assert len(relay.sink.to(PARTNER)) == 1


def test_recipients_past_the_cap_get_452(server: InboundServer, rcpt: str) -> None:
    with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as conn:
        conn.ehlo("client.example")
        conn.mail(WHO)
        answers = [conn.rcpt(rcpt)[0] for _ in range(MAX_RECIPIENTS + 3)]
        conn.rset()
    assert answers[:MAX_RECIPIENTS] == [250] * MAX_RECIPIENTS
    assert answers[MAX_RECIPIENTS:] == [452, 452, 452]


def test_the_stored_reply_stays_within_the_rfc_5321_line_limit() -> None:
    assert stored_reply([7]) == "250 2.0.0 OK: stored as #7"
    many = stored_reply(list(range(1000, 1300)))
    assert len(many) + 2 <= 512 and "#1000" in many and "#1299" in many


def test_a_judgement_that_keeps_crashing_is_failed_after_the_bounded_attempts(
    session: Session, room: Newsroom, rcpt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection (not a stand-in for a component): the judgement raises on every run."""

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("detector bug")

    monkeypatch.setattr(process_module, "judge", crash)
    raw = reply(from_=f"José Rivera <{WHO}>", to=rcpt, subject="Re: x", body="Hi")
    with InboundServer(get_settings(), enqueue=lambda i: None) as stores_only:
        got = stores_only.send(WHO, [rcpt], raw)
    assert got.data is not None and got.data[0] == 250
    [row] = session.scalars(select(InboundMessage)).all()
    for _ in range(MAX_ATTEMPTS - 1):  # each run fails; the task is retried (the sweep)
        with pytest.raises(RuntimeError):
            process(row.id)
    last = process(row.id)
    assert last.status == InboundStatus.FAILED and "detector bug" in last.outcome
    session.expire_all()
    assert session.get(InboundMessage, row.id).attempts == MAX_ATTEMPTS  # type: ignore[union-attr]
    assert process(row.id).status == InboundStatus.FAILED  # never retried again


def test_a_complaint_names_the_delivery_its_original_carries_by_token_or_message_id(
    session: Session, room: Newsroom
) -> None:
    """Our Message-ID or a token inside the report identify the delivery; forged ones do not."""
    from mailer import tokens
    from mailer.inbound.complaints import delivery_from

    settings = get_settings()
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    tag = tokens.digest("message-id", f"{delivery.campaign_id}:d{delivery.id}", settings.secret())
    ours = f"<c{delivery.campaign_id}.d{delivery.id}.{tag}@news.example.com>"
    assert delivery_from([ours], settings) == delivery.id
    assert delivery_from([ours.replace(tag, "aaaaaaaa")], settings) is None
    token = tokens.delivery_token(delivery.id, settings.secret())
    assert delivery_from(["<other@example.org>", token], settings) == delivery.id
    assert delivery_from([token[:-1] + ("a" if token[-1] != "a" else "b")], settings) is None


def header_bomb(rcpt: str, shape: str) -> bytes:
    """A reply whose header holds tens of thousands of fields (`shape` "distinct"), one field
    repeated thousands of times ("repeated"), or whose attached message does ("nested"); or a
    field of 200 KB ("long subject", "long from"), or long fields in an attached message."""
    head = (
        f"From: José Rivera <{WHO}>\r\nTo: {rcpt}\r\nSubject: Re: x\r\n"
        "Message-ID: <bomb.1@example.org>\r\nMIME-Version: 1.0\r\n"
    ).encode()
    if shape == "distinct":
        return head + b"".join(b"X-F%d: v\r\n" % i for i in range(50_000)) + b"\r\nCall me?\r\n"
    if shape == "repeated":
        return head + b"Received: from a by b\r\n" * 5_000 + b"\r\nCall me?\r\n"
    if shape == "long subject":
        words = b"=?utf-8?q?a?=\r\n " * 15_000  # 240 KB of encoded words, folded: minutes
        return head.replace(b"Subject: Re: x", b"Subject: Re: x " + words) + b"\r\nCall me?\r\n"
    if shape == "long from":
        name = b"Jose\r\n " * 30_000  # a display name of 210 KB, folded: minutes to parse
        return head.replace(b"From: Jos\xc3\xa9 Rivera", b"From: " + name) + b"\r\nCall me?\r\n"
    if shape == "long fields":  # 40 fields of 7,000 bytes in an attached message
        inner = b"From: x@example.net\r\n" + b"".join(
            b"X-F%d: " % i + b"word\r\n " * 1_000 + b"\r\n" for i in range(40)
        )
    else:
        inner = b"From: x@example.net\r\n" + b"".join(b"X-F%d: v\r\n" % i for i in range(12_000))
    return (
        head + b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nCall me?\r\n"
        b"--B\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\nold\r\n--B--\r\n"
    )


@pytest.mark.parametrize(
    ("shape", "said"),
    [
        ("distinct", "50,005 header fields, more than the 10,000 we read: not forwarded"),
        ("repeated", "5,000 header fields named 'received' in one header, more than the 1,000"),
        ("nested", "12,009 header fields, more than the 10,000 we read: not forwarded"),
        ("long subject", "a header field (Subject) of 240,017 bytes, longer than the 8,000 we"),
        ("long from", "a header field (From) of 210,035 bytes, longer than the 8,000 we read"),
        ("long fields", "bytes, more than the 256,000 we read: not forwarded"),
    ],
)
def test_a_message_of_thousands_of_header_fields_is_failed_and_never_forwarded(
    session: Session, server: InboundServer, rcpt: str, relay: SMTPServer, shape: str, said: str
) -> None:
    """Hostile input: a header bomb made every header lookup slow (50,000 fields: seconds per
    lookup) and the forward huge. It is counted on the bytes, before parsing, and refused."""
    got = server.send(WHO, [rcpt], header_bomb(rcpt, shape))
    assert got.data is not None and got.data[0] == 250
    session.expire_all()
    [row] = session.scalars(select(InboundMessage)).all()
    assert row.status == InboundStatus.FAILED
    assert said in row.outcome, row.outcome
    assert row.subject.startswith("Re: x") or shape == "long subject"  # read, bounded
    assert relay.sink.to(PARTNER) == []
    assert process(row.id).status == InboundStatus.FAILED  # run again: nothing more happens


def test_a_message_judged_before_the_header_limit_is_not_forwarded_either(
    session: Session, room: Newsroom, rcpt: str, relay: SMTPServer
) -> None:
    """A header bomb already judged an inquiry (stored before the limit existed, its forward
    deferred): the forward refuses it too, and says why."""
    with InboundServer(get_settings(), enqueue=lambda i: None) as stores_only:
        stores_only.send(WHO, [rcpt], header_bomb(rcpt, "distinct"))
    row = session.scalars(select(InboundMessage)).one()
    row.kind, row.reason = InboundKind.INQUIRY, "a reply from a reader"
    session.commit()
    assert process(row.id).status == InboundStatus.FAILED
    session.expire_all()
    inquiry = session.scalars(select(Inquiry)).one()
    assert inquiry.status == InquiryStatus.FAILED
    assert "header fields, more than the 10,000 we read: not forwarded" in inquiry.last_reply
    assert relay.sink.to(PARTNER) == []


def test_a_reply_with_many_header_fields_within_the_limits_is_forwarded(
    session: Session, server: InboundServer, rcpt: str, relay: SMTPServer
) -> None:
    """A long thread's Received fields and an attached message's header: under the limits."""
    raw = header_bomb(rcpt, "repeated").replace(b"Received: from a by b\r\n" * 5_000, b"")
    raw = raw.replace(b"MIME-Version: 1.0\r\n", b"MIME-Version: 1.0\r\n" + b"Received: x\r\n" * 900)
    got = server.send(WHO, [rcpt], raw)
    assert got.data is not None and got.data[0] == 250
    session.expire_all()
    [row] = session.scalars(select(InboundMessage)).all()
    assert row.status == InboundStatus.DONE, row.outcome
    assert len(relay.sink.to(PARTNER)) == 1


@pytest.mark.parametrize("where", ["another header", "a text part"])
def test_a_boundary_outside_a_multipart_content_type_splits_nothing(
    session: Session, server: InboundServer, rcpt: str, relay: SMTPServer, where: str
) -> None:
    """A `boundary=` in a field that is not a multipart Content-Type, and 1,500 lines of its
    delimiter in the text: the parser splits nothing on it, and the part count must not
    either (the message was refused as having 1,500 MIME parts)."""
    lines = "".join(f"--zz line {i}\r\n--zz\r\n" for i in range(1_500))
    declared = (
        'X-Note: boundary="zz"\r\nContent-Type: text/plain; charset=utf-8\r\n'
        if where == "another header"
        else 'Content-Type: text/plain; charset=utf-8; boundary="zz"\r\n'
    )
    raw = (
        f"From: José Rivera <{WHO}>\r\nTo: {rcpt}\r\nSubject: Re: x\r\nMIME-Version: 1.0\r\n"
        f"{declared}\r\nFausto, the log follows.\r\n{lines}"
    ).encode()
    got = server.send(WHO, [rcpt], raw)
    assert got.data is not None and got.data[0] == 250
    session.expire_all()
    [row] = session.scalars(select(InboundMessage)).all()
    assert row.status == InboundStatus.DONE, row.outcome
    [fwd] = relay.sink.to(PARTNER)
    text = fwd.message.get_body(("plain",)).get_content()
    assert "Fausto, the log follows." in text and "--zz line 1499" in text


def mime_field_bomb(field: str, size: int) -> bytes:
    """A reply whose `field` (Content-Type or Content-Disposition) runs to `size` bytes of
    quote marks: the mail library's parser reads such a field in time that grows faster than
    its length (7,900 bytes: 0.6 s), and every lookup parsed it again (20 s to judge)."""
    value = b'text/plain; charset=utf-8; x="' + b'"' * size
    if field == "Content-Disposition":
        value = b'inline; filename="' + b'"' * size
    return (
        (
            f"From: José Rivera <{WHO}>\r\nTo: reply+x@news.example.com\r\nSubject: Re: x\r\n"
            "MIME-Version: 1.0\r\n"
        ).encode()
        + f"{field}: ".encode()
        + value
        + b"\r\n\r\nCall me?\r\n"
    )


@pytest.mark.parametrize("field", ["Content-Type", "Content-Disposition"])
def test_a_mime_field_longer_than_its_limit_is_refused_before_parsing(field: str) -> None:
    with pytest.raises(UnreadableMessage) as refused:
        parse_safely(mime_field_bomb(field, 7_900))
    said = str(refused.value)
    assert f"a {field} field of 7,9" in said and f"longer than the {MAX_MIME_FIELD_BYTES:,}" in said


def test_a_mime_field_within_its_limit_is_read_once_however_often_it_is_looked_up() -> None:
    """The modern API parses a field anew at each lookup (the judgement looks a part's
    Content-Type up dozens of times): one message's fields are parsed once each."""
    msg = parse_safely(mime_field_bomb("Content-Type", MAX_MIME_FIELD_BYTES - 100))
    assert msg.get("Content-Type") is msg.get("Content-Type")
    assert msg.get_content_type() == "text/plain"


REPLY_TO = f"reply+2-7i2yu7zqadredljl@{DOMAIN}"
BOUNCES_TO = f"bounces+2-7i2yu7zqadredljl@{DOMAIN}"
RUNS = [" ", " \t", "-", ">", "a.", "a-", "5.1.", "x", "wrote ", "a@b."]


def one_line(run: str, size: int, to: str) -> tuple[bytes, str | None, str]:
    """A reply (or a mail system's notice, `to` "bounces") whose text is one line of `size`
    characters repeating `run`, with its envelope (raw, mail_from, rcpt_to)."""
    line = (run * (size // len(run) + 1))[:size]
    if to == "reply":
        head = f"From: José Rivera <{WHO}>\r\nTo: {REPLY_TO}\r\nSubject: Re: x\r\n"
        envelope: tuple[str | None, str] = (None, REPLY_TO)
    else:
        head = f"From: MAILER-DAEMON@mx.example.org\r\nTo: {BOUNCES_TO}\r\nSubject: Undelivered\r\n"
        envelope = ("", BOUNCES_TO)
    raw = f"{head}MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello\r\n{line}\r\n"
    return (raw.encode(), *envelope)


@pytest.mark.parametrize("to", ["reply", "bounces"])
@pytest.mark.parametrize("run", RUNS)
def test_a_message_of_one_long_line_is_judged_on_a_bounded_text(run: str, to: str) -> None:
    """Hostile input: 2 MB on one line. The rules read a bounded text (MAX_TEXT_CHARS, lines
    of at most MAX_LINE_CHARS): a line of spaces or dots took minutes to judge."""
    raw, mail_from, rcpt = one_line(run, 2_000_000, to)
    msg = parse_safely(raw)
    mail = Mail(raw, msg, mail_from, to, DOMAIN)
    for text in (body_text(msg), mail.text, mail.all_text):
        assert MAX_TEXT_CHARS // 2 < len(text) <= MAX_TEXT_CHARS
        assert max(len(line) for line in text.splitlines()) <= MAX_LINE_CHARS
    kind = judge(raw, mail_from=mail_from, rcpt_to=rcpt, domain=DOMAIN).kind
    assert kind == (InboundKind.INQUIRY if to == "reply" else InboundKind.BOUNCE)


@pytest.mark.parametrize("to", ["reply", "bounces"])
@pytest.mark.parametrize("run", RUNS)
def test_a_line_as_long_as_the_rules_read_is_judged_without_hanging(run: str, to: str) -> None:
    """Hanging is the only symptom here: patterns that split a run of spaces or dashes every
    way between their parts took 40 s on one line of 1,000 spaces (the longest line the rules
    read); it takes about 0.1 s now. The guard allows 20 s, two hundred times that."""
    raw, mail_from, rcpt = one_line(run, MAX_LINE_CHARS, to)
    with hang_guard(20):
        verdict = judge(raw, mail_from=mail_from, rcpt_to=rcpt, domain=DOMAIN)
    assert verdict.kind == (InboundKind.INQUIRY if to == "reply" else InboundKind.BOUNCE)


def big_reply(rcpt: str, attachment_bytes: int) -> bytes:
    """A reply with a few words and one attachment of `attachment_bytes` (base64 in the mail)."""
    data = base64.encodebytes(os.urandom(attachment_bytes)).replace(b"\n", b"\r\n")
    return (
        (
            f"From: José Rivera <{WHO}>\r\nTo: {rcpt}\r\nSubject: Re: the audit\r\n"
            "Message-ID: <big.1@example.org>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
            "--B\r\nContent-Type: text/plain\r\n\r\nFausto, the scan you asked for.\r\n"
            "--B\r\nContent-Type: application/pdf\r\n"
            'Content-Disposition: attachment; filename="scan.pdf"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
        ).encode()
        + data
        + b"--B--\r\n"
    )


def test_a_reply_larger_than_a_forward_carries_reaches_the_partner_without_its_attachments(
    session: Session, server: InboundServer, rcpt: str, relay: SMTPServer
) -> None:
    """Hostile (or just large) input: a 12 MiB reply made a 16 MiB forward, more than many
    partners' mail systems take. The forward carries the reader's words and says what was left
    out and why; the whole message stays recorded for the admin."""
    raw = big_reply(rcpt, 9 * 1024 * 1024)
    got = server.send(WHO, [rcpt], raw)
    assert got.data is not None and got.data[0] == 250
    session.expire_all()
    [row] = session.scalars(select(InboundMessage)).all()
    assert row.status == InboundStatus.DONE, row.outcome
    assert row.raw == raw  # recorded whole
    [fwd] = relay.sink.to(PARTNER)
    assert len(fwd.data) < 100_000
    text = fwd.message.get_body(("plain",)).get_content()
    assert "Fausto, the scan you asked for." in text
    assert f"more than the {MAX_FORWARDED_BYTES // 1024 // 1024} MiB a forward carries" in text
    assert "scan.pdf" in text and "left out" in text
    assert list(fwd.message.iter_attachments()) == []


def test_a_reply_within_the_forward_size_carries_its_original(
    session: Session, server: InboundServer, rcpt: str, relay: SMTPServer
) -> None:
    raw = big_reply(rcpt, 1024 * 1024)
    server.send(WHO, [rcpt], raw)
    [fwd] = relay.sink.to(PARTNER)
    [original] = list(fwd.message.iter_attachments())
    assert original.get_content_type() == "message/rfc822"


def test_a_notice_naming_thousands_of_addresses_is_read_for_a_bounded_number() -> None:
    """Hostile input: a notice of 100,000 characters of addresses; each mention's window was
    read and scored (seconds per message). The text detector reads the first MAX_MENTIONS."""
    notice = "\n".join(f"u{i}@example.org: 550 5.1.1 user unknown" for i in range(10_000))
    found = text_detector._candidates(notice, set(), DOMAIN)
    assert len(found) == text_detector.MAX_MENTIONS
    assert found[0][1] == "u0@example.org"


@pytest.mark.parametrize("html", ["<p>hello <b>there</b></p>", "<a ", "<div>"])
def test_an_html_reply_of_megabytes_is_read_as_a_bounded_text(html: str) -> None:
    """Hostile input: 3 MB of HTML (paragraphs, unclosed tags, deep nesting) was converted and
    read whole (20 MB took more than 20 s); the first MAX_HTML_CHARS are converted, and the
    text read is bounded like a plain one."""
    body = (html * (3_000_000 // len(html) + 1))[:3_000_000]
    raw = (
        f"From: José Rivera <{WHO}>\r\nTo: {REPLY_TO}\r\nSubject: Re: x\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/html\r\n\r\n{body}\r\n"
    ).encode()
    msg = parse_safely(raw)
    text = body_text(msg)
    assert len(text) <= MAX_TEXT_CHARS
    assert max((len(line) for line in text.splitlines()), default=0) <= MAX_LINE_CHARS
    mail = Mail(raw, msg, None, "reply", DOMAIN)
    assert len(mail.all_text) <= MAX_TEXT_CHARS
    assert judge(raw, mail_from=None, rcpt_to=REPLY_TO, domain=DOMAIN).kind == InboundKind.INQUIRY


def test_a_delivery_report_about_thousands_of_recipients_is_read_for_a_bounded_number() -> None:
    """Hostile input: a DSN of 10,000 per-recipient blocks took more than 20 s to judge (each
    block's fields parsed, each one's reason judged). We send one message per reader: a genuine
    report names one or a few; the first MAX_REPORTED_RECIPIENTS are read."""
    blocks = "".join(
        f"\r\nFinal-Recipient: rfc822; u{i}@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        for i in range(3_000)
    )
    raw = (
        f"From: MAILER-DAEMON@mx.example.org\r\nTo: {BOUNCES_TO}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n"
        f"{blocks}\r\n--B--\r\n"
    ).encode()
    verdict = judge(raw, mail_from="", rcpt_to=BOUNCES_TO, domain=DOMAIN)
    assert verdict.kind == InboundKind.BOUNCE and verdict.rule == "rfc3464"
    assert len(verdict.failures) == rfc3464.MAX_REPORTED_RECIPIENTS
    assert verdict.failures[0].recipient == "u0@example.org" and verdict.failures[0].hard


def test_report_fields_past_the_text_read_are_not_searched_for() -> None:
    """A notice of hundreds of text parts: each was decoded and searched for inline report
    fields. Only the first MAX_TEXT_CHARS of the parts' text are, as every rule reads."""
    filler = "--B\r\nContent-Type: text/plain\r\n\r\n" + "x " * 10_000 + "\r\n"
    fields = (
        "--B\r\nContent-Type: text/plain\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; u1@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    )
    raw = (
        f"From: MAILER-DAEMON@mx.example.org\r\nTo: {BOUNCES_TO}\r\nSubject: Undelivered\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
    )
    near = parse_safely((raw + fields + filler * 20 + "--B--\r\n").encode())
    assert len(rfc3464.per_recipient(Mail(b"", near, "", "bounces", DOMAIN))) == 1
    far = parse_safely((raw + filler * 20 + fields + "--B--\r\n").encode())
    assert rfc3464.per_recipient(Mail(b"", far, "", "bounces", DOMAIN)) == []


@pytest.mark.parametrize("kind", ["text", "attachment"])
def test_a_message_at_the_size_limit_is_parsed_in_a_few_times_its_size(kind: str) -> None:
    """Memory, not time: parsing a message held it as a string of four bytes a character (the
    library reads a StringIO of the whole message), 7.8 times its size in all; a server judging
    a few 25 MiB messages at once ran out. Counted with tracemalloc, on a 4 MiB message."""
    if kind == "text":
        raw = b"From: a@example.org\r\nSubject: Re: x\r\n\r\n" + (b"word " * 15 + b"\r\n") * 55_000
    else:
        raw = big_reply(f"reply+x@{DOMAIN}", 3 * 2**20)
    tracemalloc.start()
    try:
        msg = parse_safely(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert msg["Subject"]
    assert peak < 4 * len(raw), f"{peak / len(raw):.1f} times the message's size"
