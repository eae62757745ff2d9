"""Transports against a real SMTP server (aiosmtpd) and a real outbox folder."""

from __future__ import annotations

import asyncio
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme
from hypothesis import given
from hypothesis import strategies as st

from mailer.errors import ConfigError
from mailer.sending.compose import Composer
from mailer.sending.transport import (
    OutboxTransport,
    SMTPTransport,
    _wire_form,
    make_transport,
    unreachable,
)
from tests.sending.test_compose import (  # noqa: F401  (module-scoped fixtures reused)
    compose_settings,
    composer,
    content,
    rendered,
)
from tests.sending.test_dkim import keypair, signed_composer  # noqa: F401  (fixtures)
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
    replies = transport.send(message(mid="c1.d8.x@news.example.com"))
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    # The reply a person reads (a test copy's line, a delivery's last reply) names the file
    # with its folder, so it can be opened as printed.
    written = tmp_path / "out" / "c1.d8.x_news.example.com.eml"
    assert {str(r) for r in replies.values()} == {f"250 written to {written}"}
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


# --- TLS, STARTTLS and AUTH against a relay that requires them ---------------------------------

USERS = {"mailer@news.example.com": "relay pass:/@%"}  # characters a URL must escape
GOOD = ("mailer@news.example.com", "relay pass:/@%")


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """The relay's certificate (for 127.0.0.1), signed by a CA the client trusts through
    SSL_CERT_FILE, the variable OpenSSL reads for the default trust store: the transport's
    `ssl.create_default_context()` then verifies the relay as it would a public one."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.mark.parametrize("scheme", ["smtps", "smtp+starttls"])
def test_a_relay_with_tls_and_auth_gets_the_message_encrypted_and_authenticated(
    trusted: ssl.SSLContext, scheme: str
) -> None:
    server = SMTPServer(scheme=scheme, tls=trusted, users=USERS, login=GOOD)
    with server, make_transport(server.url) as transport:
        assert isinstance(transport, SMTPTransport)
        assert transport.security == {"smtps": "tls", "smtp+starttls": "starttls"}[scheme]
        first = transport.send(message("ana@example.org", "1@x"))
        second = transport.send(message("luis@example.org", "2@x"))
    assert first["ana@example.org"].accepted and second["luis@example.org"].accepted
    got = server.sink.received
    assert [(r.rcpt_tos, r.tls, r.login) for r in got] == [
        (["ana@example.org"], True, GOOD[0]),
        (["luis@example.org"], True, GOOD[0]),
    ]


@pytest.mark.parametrize("scheme", ["smtps", "smtp+starttls"])
def test_a_relay_whose_certificate_is_not_trusted_gets_nothing(ca: trustme.CA, scheme: str) -> None:
    """Verification is on by default: a certificate no trusted CA signed (here: the test's CA,
    which the client was not told about) is a connection failure, retried later, never a
    message sent in the clear or to an impostor."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = SMTPServer(scheme=scheme, tls=context, users=USERS, login=GOOD)
    with server, make_transport(server.url) as transport:
        reply = transport.send(message())["ana@example.org"]
    assert reply.code == 0 and reply.temporary
    assert "CERTIFICATE_VERIFY_FAILED" in reply.text
    assert server.sink.received == []


def test_a_password_beyond_ascii_logs_in_as_utf8(trusted: ssl.SSLContext) -> None:
    """smtplib encodes credentials as ASCII only; RFC 4616 PLAIN carries UTF-8."""
    login = ("mailer@news.example.com", "contraseña-ñandú")
    server = SMTPServer(scheme="smtps", tls=trusted, users=dict([login]), login=login)
    with server, make_transport(server.url) as transport:
        assert transport.send(message())["ana@example.org"].accepted
    assert [(r.tls, r.login) for r in server.sink.received] == [(True, login[0])]


def test_a_wrong_password_is_the_relays_535_for_every_recipient(trusted: ssl.SSLContext) -> None:
    server = SMTPServer(scheme="smtp+starttls", tls=trusted, users=USERS, login=(GOOD[0], "wrong"))
    with server, make_transport(server.url) as transport:
        replies = transport.send(Msg("b@news.example.com", ("a@example.org", "c@example.org"), b""))
        assert transport._conn is None  # not kept: the next message logs in again
    assert {r: (x.code, x.permanent) for r, x in replies.items()} == {
        "a@example.org": (535, True),
        "c@example.org": (535, True),
    }
    assert "5.7.8" in replies["a@example.org"].text  # RFC 4954: authentication credentials invalid
    assert server.sink.received == []


def test_no_credentials_for_a_relay_that_requires_them_is_its_530(trusted: ssl.SSLContext) -> None:
    server = SMTPServer(scheme="smtp+starttls", tls=trusted, users=USERS)  # no login in the URL
    with server, make_transport(server.url) as transport:
        reply = transport.send(message())["ana@example.org"]
    assert (reply.code, reply.permanent, reply.command) == (530, True, "MAIL")
    assert "Authentication required" in reply.text
    assert server.sink.received == []


def test_a_relay_refusing_the_sender_fails_every_recipient_and_keeps_the_connection() -> None:
    sink = SMTPSink(refuse_mail="550 5.7.1 <bounces+abc@news.example.com>: sender rejected")
    with SMTPServer(sink) as server, make_transport(server.url) as transport:
        refused = transport.send(Msg("bounces+abc@news.example.com", ("a@x.org", "b@x.org"), b""))
        conn = transport._conn
        sink.refuse_mail = None  # the relay's operator fixes the sender policy
        accepted = transport.send(message("c@example.org"))
        assert transport._conn is conn  # RSET, not a new connection
    assert {r: (x.code, x.command) for r, x in refused.items()} == {
        "a@x.org": (550, "MAIL"),
        "b@x.org": (550, "MAIL"),
    }
    assert "sender rejected" in refused["a@x.org"].text
    assert accepted["c@example.org"].accepted
    assert [r.rcpt_tos for r in server.sink.received] == [["c@example.org"]]


# --- PIPELINING (RFC 2920) and the fallback without it ---------------------------------------


def group(*recipients: str, data: bytes | None = None) -> Msg:
    """One message to several recipients (a transaction with one RCPT each)."""
    head = b"From: a@news.example.com\r\nTo: list@example.org\r\nMessage-ID: <g@x>\r\n\r\n"
    return Msg("bounces+g@news.example.com", recipients, data or head + b"hello\r\n")


def test_a_pipelining_relay_gets_the_commands_in_one_go_and_a_refused_rcpt_is_its_own() -> None:
    sink = SMTPSink(rules={"gone@example.org": ["550 5.1.1 <gone@example.org>: user unknown"]})
    with SMTPServer(sink) as server, make_transport(server.url) as transport:
        replies = transport.send(group("ana@example.org", "gone@example.org", "luis@example.org"))
        again = transport.send(message("eva@example.org"))
    assert {r: (x.code, x.command) for r, x in replies.items()} == {
        "ana@example.org": (250, "DATA"),
        "gone@example.org": (550, "RCPT"),
        "luis@example.org": (250, "DATA"),
    }
    assert "user unknown" in replies["gone@example.org"].text
    assert again["eva@example.org"].accepted
    assert [r.rcpt_tos for r in sink.received] == [
        ["ana@example.org", "luis@example.org"],
        ["eva@example.org"],
    ]
    # When the relay read MAIL FROM, every RCPT and the DATA were already waiting behind it.
    assert sink.queued_at_mail[0] == (
        b"RCPT TO:<ana@example.org>\r\nRCPT TO:<gone@example.org>\r\n"
        b"RCPT TO:<luis@example.org>\r\nDATA\r\n"
    )


def test_a_pipelined_mail_refusal_is_every_recipients_and_the_rcpt_replies_are_skipped() -> None:
    sink = SMTPSink(refuse_mail="451 4.3.0 sender check unavailable")
    with SMTPServer(sink) as server, make_transport(server.url) as transport:
        refused = transport.send(group("a@example.org", "b@example.org"))
        conn = transport._conn
        sink.refuse_mail = None
        later = transport.send(group("c@example.org", "d@example.org"))
        assert transport._conn is conn  # the relay's other replies were read: still in step
    assert {r: (x.code, x.command, x.temporary) for r, x in refused.items()} == {
        "a@example.org": (451, "MAIL", True),
        "b@example.org": (451, "MAIL", True),
    }
    assert all(x.accepted for x in later.values())
    assert [r.rcpt_tos for r in sink.received] == [["c@example.org", "d@example.org"]]


def test_data_refused_is_every_accepted_recipients_and_no_message_is_sent() -> None:
    sink = SMTPSink(
        rules={"gone@example.org": ["550 5.1.1 user unknown"]},
        refuse_data="451 4.3.1 insufficient system storage",
    )
    with SMTPServer(sink) as server, make_transport(server.url) as transport:
        replies = transport.send(group("ana@example.org", "gone@example.org"))
        sink.refuse_data = None
        later = transport.send(group("luis@example.org"))
    assert {r: (x.code, x.command) for r, x in replies.items()} == {
        "ana@example.org": (451, "DATA"),
        "gone@example.org": (550, "RCPT"),
    }
    assert replies["ana@example.org"].temporary and "storage" in replies["ana@example.org"].text
    assert later["luis@example.org"].accepted
    # The refused transaction was reset: the next one carries only its own recipient.
    assert [r.rcpt_tos for r in sink.received] == [["luis@example.org"]]


def test_421_at_a_pipelined_rcpt_defers_the_rest_and_the_next_message_reconnects() -> None:
    sink = SMTPSink(rules={"b@example.org": ["421 4.3.2 shutting down", "250 OK"]})
    with SMTPServer(sink) as server, make_transport(server.url) as transport:
        replies = transport.send(group("a@example.org", "b@example.org", "c@example.org"))
        assert transport._conn is None
        later = transport.send(group("b@example.org"))
    assert {r: x.code for r, x in replies.items()} == {
        "a@example.org": 421,
        "b@example.org": 421,
        "c@example.org": 421,
    }
    assert all(x.temporary for x in replies.values())
    assert later["b@example.org"].accepted
    assert [r.rcpt_tos for r in sink.received] == [["b@example.org"]]


BODY_8BIT = (
    "Año nuevo, ¿contraseñas nuevas? Überprüfen Sie 日本語 too.\r\n".encode()
    + b"x" * 990  # a line of 990 bytes (under RFC 5321's 1000 with CRLF): not folded or cut
    + b"\r\n.\r\n..\r\n. leading dot and space\r\n.\r\nlast line without CRLF"
)


@pytest.mark.parametrize("pipelining", [True, False])
def test_dots_8bit_and_long_lines_arrive_exactly_as_composed(pipelining: bool) -> None:
    sink = SMTPSink(pipelining=pipelining)
    head = b"From: a@news.example.com\r\nTo: ana@example.org\r\nMessage-ID: <e@x>\r\n\r\n"
    data = b".a first line starting with a dot\r\n" + head + BODY_8BIT
    with SMTPServer(sink) as server, make_transport(server.url) as transport:
        reply = transport.send(Msg("b@news.example.com", ("ana@example.org",), data))
    assert reply["ana@example.org"].accepted
    [got] = sink.received
    assert got.data == data + b"\r\n"  # the transport ends the last line; nothing else changed


def test_without_pipelining_each_command_waits_for_its_reply() -> None:
    sink = SMTPSink(pipelining=False, rules={"gone@example.org": ["550 5.1.1 user unknown"]})
    with SMTPServer(sink) as server, make_transport(server.url) as transport:
        replies = transport.send(group("ana@example.org", "gone@example.org"))
        data_refused = transport.send(group("luis@example.org"))  # normal again
    assert {r: (x.code, x.command) for r, x in replies.items()} == {
        "ana@example.org": (250, "DATA"),
        "gone@example.org": (550, "RCPT"),
    }
    assert data_refused["luis@example.org"].accepted
    assert sink.queued_at_mail == [b"", b""]  # nothing sent ahead of a reply
    assert [r.rcpt_tos for r in sink.received] == [["ana@example.org"], ["luis@example.org"]]


@pytest.mark.parametrize("which", ["composer", "signed_composer"])
def test_composed_messages_arrive_byte_for_byte(which: str, request: pytest.FixtureRequest) -> None:
    """The Composer's own wire form is what the relay turns back into exactly the composed
    message, signed or not: the issue's HTML has lines starting with "." (its CSS), which the
    quoted-printable body writes as =2E, so no body line needs dot-stuffing."""
    source: Composer = request.getfixturevalue(which)
    first = source.compose(41, "ana@example.org", "Ana")
    second = source.compose(42, "luis@example.org", "Luis")  # shared lines from the cache now
    assert b"\r\n=2E" in first.data and b"\r\n." not in first.data
    assert first.wire == first.data + b".\r\n"
    with SMTPServer() as server, make_transport(server.url) as transport:
        assert transport.send(first)["ana@example.org"].accepted
        assert transport.send(second)["luis@example.org"].accepted
    assert [r.data for r in server.sink.received] == [first.data, second.data]


@given(
    st.lists(st.sampled_from([b".", b"..", b"\r\n", b"\n", b"a", b"\xc3\xb1", b"\r"]), max_size=30)
)
def test_the_wire_form_is_what_a_receiver_turns_back_into_the_message(parts: list[bytes]) -> None:
    """RFC 5321 4.5.2 from the receiving side: the data ends at the first line that is a lone
    ".", and a leading dot is removed from every other line (a line ending at any LF, as Postfix
    reads a bare LF: the stuffing is the stricter of the two readings)."""
    data = b"".join(parts)
    wire = _wire_form(Msg("a@x.org", ("b@x.org",), data))
    lines = wire.split(b"\r\n")
    assert lines[-2:] == [b".", b""]  # the end-of-data line, and only there
    received = [line[1:] if line.startswith(b".") else line for line in wire[:-3].split(b"\n")]
    expected = data if data.endswith(b"\r\n") else data + b"\r\n"
    assert b"\n".join(received) == expected
    assert b"\n.\r\n" not in wire[:-3] and not wire.startswith(b".\r\n")  # no early end


class DatabaseAway(Exception):
    """What `ready` raises in place of the batch's database error."""


@pytest.mark.parametrize("pipelining", [True, False])
def test_ready_runs_before_the_relay_has_the_message_and_its_failure_delivers_nothing(
    pipelining: bool,
) -> None:
    """The batch's "previous outcome committed" hook: called while the relay still waits for the
    end of data (nothing delivered yet); when it fails, the transaction is cut off mid-DATA, the
    relay delivers nothing, and the next message goes out on a new connection."""
    sink = SMTPSink(pipelining=pipelining)
    seen: list[int] = []

    def ready() -> None:
        seen.append(len(sink.received))

    def fail() -> None:
        raise DatabaseAway

    with SMTPServer(sink) as server, make_transport(server.url) as transport:
        first = transport.send(message("ana@example.org", "1@x"), ready=ready)
        with pytest.raises(DatabaseAway):
            transport.send(message("luis@example.org", "2@x"), ready=fail)
        third = transport.send(message("eva@example.org", "3@x"), ready=ready)
    assert first["ana@example.org"].accepted and third["eva@example.org"].accepted
    assert seen == [0, 1]  # each time, the message was not at the relay yet
    assert [r.rcpt_tos for r in sink.received] == [["ana@example.org"], ["eva@example.org"]]


def test_the_outbox_writes_nothing_when_ready_fails(tmp_path: Path) -> None:
    def fail() -> None:
        raise DatabaseAway

    with OutboxTransport(tmp_path / "out") as transport, pytest.raises(DatabaseAway):
        transport.send(message("ana@example.org", "1@x"), ready=fail)
    assert list((tmp_path / "out").iterdir()) == []


# --- A stream of messages (a batch's chunk): submit, flush, abort ------------------------------


def test_a_stream_sends_each_end_of_data_with_the_next_envelope_and_answers_in_order() -> None:
    """Over a pipelining relay a message's end-of-data line and the next message's envelope
    travel together (one round trip per message); each message's replies come back, in order,
    from the next call; `ready` runs before each message can be delivered."""
    sink = SMTPSink()
    seen: list[int] = []
    msgs = [message(f"r{i}@example.org", f"{i}@x") for i in range(3)]

    def ready() -> None:
        seen.append(len(sink.received))

    with SMTPServer(sink) as server, make_transport(server.url) as transport:
        answered = [transport.submit(m, ready=ready) for m in msgs]
        answered.append(transport.flush(ready=ready))
        assert transport.flush(ready=ready) == []  # nothing held any more
    assert [[m for m, _ in sent] for sent in answered] == [[], [msgs[0]], [msgs[1]], [msgs[2]]]
    assert all(r[m.recipients[0]].accepted for sent in answered for m, r in sent)
    assert seen == [0, 1, 2]  # each time, the message was not at the relay yet
    assert [r.rcpt_tos for r in sink.received] == [[m.recipients[0]] for m in msgs]
    # When the relay had a message's end of data, the next envelope was already behind it.
    assert sink.queued_at_data == [
        b"MAIL FROM:<bounces+abc@news.example.com>\r\nRCPT TO:<r1@example.org>\r\nDATA\r\n",
        b"MAIL FROM:<bounces+abc@news.example.com>\r\nRCPT TO:<r2@example.org>\r\nDATA\r\n",
        b"",
    ]


def test_abort_and_a_failing_ready_cut_the_held_message_off_undelivered() -> None:
    sink = SMTPSink()
    with SMTPServer(sink) as server, make_transport(server.url) as transport:
        assert transport.submit(message("ana@example.org", "1@x")) == []
        transport.abort()  # the batch stops: the held message must not arrive
        assert transport.submit(message("luis@example.org", "2@x")) == []

        def fail() -> None:
            raise DatabaseAway

        with pytest.raises(DatabaseAway):
            transport.submit(message("eva@example.org", "3@x"), ready=fail)
        assert transport.submit(message("noa@example.org", "4@x")) == []
        (last, replies), *more = transport.flush()
    assert last.recipients == ("noa@example.org",) and not more
    assert replies["noa@example.org"].accepted
    assert [r.rcpt_tos for r in sink.received] == [["noa@example.org"]]


class ClosingAtEndOfData(SMTPSink):
    """A relay that answers the first end of data with 421 and closes the connection."""

    closed = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if not self.closed:
            self.closed = True
            # Hang up right after the reply is written (a closing transport flushes it first).
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.3.2 shutting down"
        return await super().handle_DATA(server, session, envelope)


def test_421_at_a_held_end_of_data_is_that_messages_and_the_next_goes_on_a_new_connection() -> None:
    sink = ClosingAtEndOfData()
    with SMTPServer(sink) as server, make_transport(server.url) as transport:
        first, second = message("ana@example.org", "1@x"), message("luis@example.org", "2@x")
        assert transport.submit(first) == []
        answered = transport.submit(second)
        answered += transport.flush()
    assert [m for m, _ in answered] == [first, second]
    assert answered[0][1]["ana@example.org"].code == 421  # deferred: sent again later
    assert answered[1][1]["luis@example.org"].accepted
    assert [r.rcpt_tos for r in sink.received] == [["luis@example.org"]]


def test_without_pipelining_a_stream_answers_each_message_at_once() -> None:
    sink = SMTPSink(pipelining=False)
    with SMTPServer(sink) as server, make_transport(server.url) as transport:
        m = message("ana@example.org", "1@x")
        (sent, replies), *more = transport.submit(m)
        assert transport.flush() == []
    assert sent is m and not more and replies["ana@example.org"].accepted


def test_a_relay_host_that_does_not_exist_is_fatal_and_a_resolver_outage_is_not() -> None:
    """MAILER_SMTP_URL naming a host that does not exist will not change by retrying: fatal, so
    the campaign pauses saying so (the trial's production worker deferred every row for days).
    A resolver that cannot answer now, a refused or timed-out connection: deferred."""
    gone = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    reply = unreachable("relay.firm-test.net", 2626, gone)
    assert reply.fatal and reply.code == 0
    assert str(reply).endswith(
        "cannot reach relay.firm-test.net:2626: [Errno -2] Name or service not known (check the "
        "host in MAILER_SMTP_URL)"
    )
    for passing in (
        socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
    ):
        assert not unreachable("relay.firm.example", 587, passing).fatal
