"""Attacks on the SMTP dialogue of `mailer inbound`, against the real server on a free port (SQLite
and PostgreSQL): SMTP smuggling with bare LF or CR ends of data, NUL and 8-bit bytes in the
envelope and the header, MAIL FROM parameters, and clients that hold connections open. The
judgement of hostile *messages* is tried in tests/inbound/test_hostile.py."""

from __future__ import annotations

import contextlib
import smtplib
import socket

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.inbound.models import InboundMessage
from mailer.settings import get_settings
from tests.builders import Newsroom
from tests.hang import hang_guard
from tests.inbound_support import InboundServer, address, delivery_of, reply, snapshot_campaign

WHO = "jose.rivera1@example.org"


@pytest.fixture
def rcpt(session: Session, room: Newsroom) -> str:
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    return address("reply", delivery.id, get_settings())


def stored(session: Session) -> list[InboundMessage]:
    session.expire_all()
    return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def dialogue(port: int, script: bytes, source: str = "127.0.0.1") -> bytes:
    """Send a whole client script at once (as a pipelining or smuggling client does) and read
    every reply until the server hangs up."""
    with socket.create_connection(("127.0.0.1", port), timeout=60, source_address=(source, 0)) as s:
        s.sendall(script)
        got = b""
        while chunk := s.recv(65536):
            got += chunk
    return got


def codes(replies: bytes) -> list[int]:
    """The code of each final reply line (multi-line replies count once)."""
    return [int(line[:3]) for line in replies.split(b"\r\n") if line[3:4] == b" "]


SMUGGLED_ENDS = {
    "LF.LF": b"\n.\n",
    "CRLF.LF": b"\r\n.\n",
    "LF.CRLF": b"\n.\r\n",
    "CR.CR": b"\r.\r",
    "CRLF.CR": b"\r\n.\r",
    "CR.CRLF": b"\r.\r\n",
}


@pytest.mark.parametrize("end", SMUGGLED_ENDS.values(), ids=SMUGGLED_ENDS.keys())
def test_a_smuggled_second_message_is_never_a_message_of_its_own(
    session: Session, server: InboundServer, rcpt: str, end: bytes
) -> None:
    """CVE-2023-51764 and kin: a non-standard end of data followed by a second transaction in
    the same DATA. The server must read only CRLF.CRLF as the end: one message is stored, the
    forged one is part of its text, and never a message from the forged sender."""
    first = reply(from_=WHO, to=rcpt, subject="Re: first", body="the real reply")
    forged = (
        b"MAIL FROM:<ceo@bank.example>\r\nRCPT TO:<" + rcpt.encode() + b">\r\nDATA\r\n"
        b"From: ceo@bank.example\r\nSubject: smuggled\r\n\r\nwire the money\r\n"
    )
    script = (
        b"EHLO client.example\r\nMAIL FROM:<" + WHO.encode() + b">\r\n"
        b"RCPT TO:<" + rcpt.encode() + b">\r\nDATA\r\n" + first.rstrip(b"\r\n") + end + forged
    )
    with hang_guard(60):
        replies = dialogue(server.port, script + b".\r\nQUIT\r\n")
    server.settle()
    rows = stored(session)
    assert [r.mail_from for r in rows] == [WHO], replies
    assert b"wire the money" in rows[0].raw
    assert codes(replies).count(250) == 4, replies  # EHLO, MAIL, RCPT, the one DATA


EIGHT_BIT = {
    "NUL in the Subject": b"Subject: Re: hello\x00there\r\n",
    "Latin-1 Subject": b"Subject: Re: D\xe9sabonnement\r\n",
    "invalid UTF-8 Subject": b"Subject: Re: \xff\xfe\xc3(\r\n",
    "NUL in the Message-ID": b"Subject: Re: x\r\nMessage-ID: <a\x00b@client.example>\r\n",
}


@pytest.mark.parametrize("head", EIGHT_BIT.values(), ids=EIGHT_BIT.keys())
def test_a_header_with_nul_or_raw_8bit_bytes_is_stored_as_sent(
    session: Session, server: InboundServer, rcpt: str, head: bytes
) -> None:
    """A sender's broken header must not make the database refuse the row: that answered 451
    for ever, and the sender retried until its queue gave up."""
    raw = (
        b"From: " + WHO.encode() + b"\r\nTo: " + rcpt.encode() + b"\r\n" + head + b"\r\n"
        b"I would like to talk.\x00 Call me?\r\n"
    )
    got = server.send(WHO, [rcpt], raw)
    assert got.data is not None and got.data[0] == 250, got
    [row] = stored(session)
    assert row.raw == raw


@pytest.mark.parametrize(
    "command",
    [b"EHLO client\x00.example", b"MAIL FROM:<jose\x00@example.org>", b"EHLO cli\xffent.example"],
    ids=["NUL in EHLO", "NUL in MAIL FROM", "8-bit EHLO"],
)
def test_nul_or_8bit_bytes_in_the_envelope_are_refused_or_stored_never_tempfailed(
    session: Session, server: InboundServer, rcpt: str, command: bytes
) -> None:
    helo = command if command.startswith(b"EHLO") else b"EHLO client.example"
    mail = command if command.startswith(b"MAIL") else b"MAIL FROM:<" + WHO.encode() + b">"
    body = b"Subject: Re: x\r\n\r\nCall me?\r\n.\r\n"
    script = helo + b"\r\n" + mail + b"\r\nRCPT TO:<" + rcpt.encode() + b">\r\nDATA\r\n"
    with hang_guard(60):
        replies = dialogue(server.port, script + body + b"QUIT\r\n")
    server.settle()
    assert 451 not in codes(replies) and 421 not in codes(replies), replies
    assert codes(replies)[-1] == 221  # the server is still talking
    assert len(stored(session)) == codes(replies).count(250) - 3


@pytest.mark.parametrize(
    "options",
    [["SIZE=500"], ["BODY=8BITMIME"], ["SMTPUTF8"], ["SIZE=500", "BODY=8BITMIME", "SMTPUTF8"]],
)
def test_mail_from_parameters_a_real_client_sends_are_accepted(
    session: Session, server: InboundServer, rcpt: str, options: list[str]
) -> None:
    sender = "josé@exämple.org" if "SMTPUTF8" in options else WHO
    raw = f"From: {sender}\r\nSubject: Re: déjà\r\n\r\nÀ bientôt\r\n".encode()
    with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as conn:
        conn.ehlo("client.example")
        assert conn.has_extn("smtputf8") and conn.has_extn("8bitmime")
        assert conn.mail(sender, options)[0] == 250
        assert conn.rcpt(rcpt)[0] == 250
        assert conn.data(raw)[0] == 250
    server.settle()
    [row] = stored(session)
    assert row.mail_from == sender and row.raw == raw


def test_a_line_longer_than_smtp_allows_is_refused_and_the_server_keeps_serving(
    session: Session, server: InboundServer, rcpt: str
) -> None:
    long = b"Subject: Re: x\r\n\r\n" + b"x" * 2_000_000 + b"\r\n.\r\n"
    script = (
        b"EHLO client.example\r\nMAIL FROM:<" + WHO.encode() + b">\r\n"
        b"RCPT TO:<" + rcpt.encode() + b">\r\nDATA\r\n" + long + b"NOOP\r\nQUIT\r\n"
    )
    with hang_guard(60):
        replies = dialogue(server.port, script)
    assert codes(replies)[-3:] == [500, 250, 221], replies[-300:]
    assert all(len(line) + 2 <= 512 for line in replies.split(b"\r\n"))
    assert stored(session) == []


def greeted(port: int, source: str = "127.0.0.1") -> tuple[socket.socket, bytes]:
    """A connection that reads the server's greeting and then says nothing."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=60, source_address=(source, 0))
    return conn, conn.recv(1024)


def until_hung_up(conn: socket.socket) -> bytes:
    got = b""
    while chunk := conn.recv(65536):
        got += chunk
    return got


def test_one_address_holding_connections_open_leaves_room_for_other_senders(
    session: Session, room: Newsroom, rcpt: str
) -> None:
    """Hundreds of idle connections from one client must not keep real mail out: past the cap
    from one address the answer is 421 (try later), and another address is still served."""
    settings = get_settings().model_copy(update={"inbound_max_sessions_per_peer": 5})
    with InboundServer(settings) as server, contextlib.ExitStack() as held:
        greetings = []
        for _ in range(30):
            conn, greeting = greeted(server.port)
            held.callback(conn.close)
            greetings.append(greeting[:3])
        assert greetings.count(b"220") == 5 and greetings.count(b"421") == 25
        raw = reply(from_=WHO, to=rcpt, subject="Re: hello", body="Call me?")
        with smtplib.SMTP("127.0.0.1", server.port, source_address=("127.0.0.2", 0)) as conn:
            conn.ehlo("client.example")
            conn.sendmail(WHO, [rcpt], raw)
        server.settle()
    assert [r.mail_from for r in stored(session)] == [WHO]


def test_all_connections_together_are_capped_too(room: Newsroom) -> None:
    settings = get_settings().model_copy(
        update={"inbound_max_sessions": 4, "inbound_max_sessions_per_peer": 2}
    )
    with InboundServer(settings) as server, contextlib.ExitStack() as held:
        answers = []
        for source in ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"):
            for _ in range(2):
                conn, greeting = greeted(server.port, source)
                held.callback(conn.close)
                answers.append(greeting[:3])
        assert answers == [b"220", b"220"] * 2 + [b"421", b"421"] * 2


def test_a_client_that_never_finishes_data_is_hung_up_on(
    session: Session, room: Newsroom, rcpt: str
) -> None:
    """Slowloris: DATA started and never ended. The connection is closed after the timeout, and
    nothing half-sent is stored."""
    settings = get_settings().model_copy(update={"inbound_timeout": 1.0})
    with InboundServer(settings) as server:
        conn, _ = greeted(server.port)
        with conn, hang_guard(30):
            conn.sendall(
                b"EHLO client.example\r\nMAIL FROM:<" + WHO.encode() + b">\r\n"
                b"RCPT TO:<" + rcpt.encode() + b">\r\nDATA\r\nSubject: Re: x\r\n\r\nand then"
            )
            replies = until_hung_up(conn)
    assert codes(replies) == [250, 250, 250, 354], replies
    assert stored(session) == []


def test_a_session_kept_alive_with_noop_is_ended_after_the_session_limit(room: Newsroom) -> None:
    """A client answering every timeout with a NOOP held its connection for ever: the session
    limit ends it with 421, however busy it keeps the dialogue."""
    settings = get_settings().model_copy(
        update={"inbound_timeout": 2.0, "inbound_session_seconds": 3.0}
    )
    with InboundServer(settings) as server:
        conn, _ = greeted(server.port)
        with conn, hang_guard(30):
            conn.settimeout(0.5)
            replies = b""
            while not replies.endswith(b"\r\n") or b"421" not in replies:
                with contextlib.suppress(TimeoutError, BrokenPipeError):
                    conn.sendall(b"NOOP\r\n")
                    replies += conn.recv(1024)
    assert codes(replies)[-1] == 421 and codes(replies)[:-1] == [250] * (len(codes(replies)) - 1)


@pytest.mark.parametrize(
    "command",
    [b"X" * 505, b"MAIL FROM:<" + b"a" * 495 + b"@b>", b"HELO " + b"h" * 500],
    ids=["unknown command", "long MAIL FROM", "long HELO"],
)
def test_every_reply_line_stays_within_512_octets_whatever_the_client_sends(
    server: InboundServer, command: bytes
) -> None:
    """RFC 5321 4.5.3.1.5: a reply line is at most 512 octets. aiosmtpd echoed an unknown
    command of 505 characters back in a reply of 543."""
    with hang_guard(60):
        replies = dialogue(server.port, b"EHLO client.example\r\n" + command + b"\r\nQUIT\r\n")
    lines = replies.split(b"\r\n")[:-1]
    assert codes(replies)[-1] == 221, replies
    assert max(len(line) + 2 for line in lines) <= 512, [len(line) for line in lines]
