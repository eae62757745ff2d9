"""Transports against a real SMTP server (aiosmtpd) and a real outbox folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from mailer.errors import ConfigError
from mailer.sending.transport import OutboxTransport, SMTPTransport, make_transport
from tests.smtpd import SMTPServer, SMTPSink, free_port


@dataclass(frozen=True)
class Msg:
    envelope_from: str
    recipients: tuple[str, ...]
    data: bytes


def message(to: str = "ana@example.org", mid: str = "m1@news.example.com") -> Msg:
    data = (
        f"From: briefing@news.example.com\r\nTo: {to}\r\nSubject: hi\r\n"
        f"Message-ID: <{mid}>\r\n\r\nbody\r\n"
    ).encode()
    return Msg("bounces+abc@news.example.com", (to,), data)


def test_smtp_delivers_with_the_envelope_and_reuses_the_connection() -> None:
    with SMTPServer() as server, make_transport(server.url) as transport:
        assert isinstance(transport, SMTPTransport)
        first = transport.send(message("ana@example.org", "1@x"))
        conn = transport._conn
        second = transport.send(message("luis@example.org", "2@x"))
        assert transport._conn is conn  # one connection for the whole batch
    assert first["ana@example.org"].accepted and second["luis@example.org"].accepted
    got = server.sink.received
    assert [r.rcpt_tos for r in got] == [["ana@example.org"], ["luis@example.org"]]
    assert got[0].mail_from == "bounces+abc@news.example.com"
    assert got[0].message["Subject"] == "hi"


def test_smtp_reports_each_recipients_own_reply() -> None:
    sink = SMTPSink(
        rules={
            "gone@example.org": ["550 5.1.1 <gone@example.org>: user unknown"],
            "busy@example.org": ["451 4.7.1 greylisted, try later"],
        }
    )
    with SMTPServer(sink) as server, make_transport(server.url) as transport:
        gone = transport.send(message("gone@example.org"))["gone@example.org"]
        busy = transport.send(message("busy@example.org"))["busy@example.org"]
        fine = transport.send(message("fine@example.org"))["fine@example.org"]
    assert gone.permanent and gone.code == 550 and "5.1.1" in gone.text
    assert busy.temporary and busy.code == 451
    assert fine.accepted
    assert [r.rcpt_tos for r in server.sink.received] == [["fine@example.org"]]


def test_an_unreachable_relay_is_a_temporary_failure_not_an_exception() -> None:
    transport = SMTPTransport("127.0.0.1", free_port(), timeout=2)
    reply = transport.send(message())["ana@example.org"]
    assert reply.code == 0 and reply.temporary
    assert "cannot reach" in reply.text


def test_a_dropped_connection_is_reopened() -> None:
    sink = SMTPSink()
    server = SMTPServer(sink)
    with server:
        transport = SMTPTransport("127.0.0.1", server.port, timeout=5)
        assert transport.send(message("a@example.org"))["a@example.org"].accepted
    # The server went away and came back on the same port: the stale connection is replaced.
    server2 = SMTPServer(sink)
    server2.port = server.port
    server2.controller = type(server.controller)(sink, hostname="127.0.0.1", port=server.port)
    with server2:
        assert transport.send(message("b@example.org"))["b@example.org"].accepted
        transport.close()
    assert [r.rcpt_tos for r in sink.received] == [["a@example.org"], ["b@example.org"]]


def test_outbox_writes_one_file_per_message_and_a_retry_replaces_it(tmp_path: Path) -> None:
    transport = make_transport(f"outbox://{tmp_path / 'out'}")
    assert isinstance(transport, OutboxTransport)
    transport.send(message(mid="c1.d7.x@news.example.com"))
    transport.send(message(mid="c1.d7.x@news.example.com"))
    transport.send(message(mid="c1.d8.x@news.example.com"))
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["c1.d7.x_news.example.com.eml", "c1.d8.x_news.example.com.eml"]
    data = (tmp_path / "out" / files[0]).read_bytes()
    assert data.startswith(b"Return-Path: <bounces+abc@news.example.com>\r\nX-Envelope-To: ana@")


@pytest.mark.parametrize(
    "url,expected",
    [
        ("smtp://relay.example.com", ("relay.example.com", 25, "none", None)),
        ("smtp+starttls://u%40x:p%3Aw@relay:587", ("relay", 587, "starttls", "u@x")),
        ("smtps://user:pw@relay", ("relay", 465, "tls", "user")),
    ],
)
def test_smtp_urls(url: str, expected: tuple[str, int, str, str | None]) -> None:
    t = SMTPTransport.from_url(url)
    assert (t.host, t.port, t.security, t.username) == expected


def test_an_unknown_scheme_says_what_is_accepted() -> None:
    with pytest.raises(ConfigError, match="smtp\\+starttls://"):
        make_transport("http://relay")


def test_lines_starting_with_a_dot_arrive_intact() -> None:
    """Our own DATA dot-stuffs by bytes; the server must get back exactly what was sent."""
    body = b".starts with a dot\r\n..two dots\r\nmiddle\r\n.\r\nend"
    head = b"From: a@news.example.com\r\nTo: ana@example.org\r\nMessage-ID: <d@x>\r\n\r\n"
    with SMTPServer() as server, make_transport(server.url) as transport:
        reply = transport.send(Msg("b@news.example.com", ("ana@example.org",), head + body))
    assert reply["ana@example.org"].accepted
    [got] = server.sink.received
    assert got.data.replace(b"\r\n", b"\n") == (head + body + b"\r\n").replace(b"\r\n", b"\n")
