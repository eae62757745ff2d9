"""Inbound mail end to end, with real processes: `mailer inbound` (aiosmtpd), a `mailer worker`
(Celery over Redis) on PostgreSQL, and an aiosmtpd server (`python -m aiosmtpd`, Maildir) that
receives what the mailer sends out. The newsletter is sent once, in-process, to the sample list
first; replies and bounces then use the tokens of those real deliveries.

The broker is a `redis-server` of this module's own on a free port: the machine's shared Redis
serves other test runs and benchmarks whose workers, listening on the same queue name, would
take these tasks and run them against their own databases."""

from __future__ import annotations

import contextlib
import mailbox
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import lxml.html
import psycopg
import pytest
import redis
from celery import Celery
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer import db as mailer_db
from mailer import tokens
from mailer.cli import app
from mailer.inbound.models import BounceEvent, InboundKind, InboundMessage, InboundStatus, Inquiry
from mailer.sending.models import Delivery, DeliveryStatus
from mailer.sending.tasks import reset_caches
from mailer.settings import get_settings, reset_settings
from mailer.worker import app as celery_app
from mailer.worker import configure
from subscribers.db import make_engine, session_factory
from subscribers.models import Subscriber, Subscription, SubscriptionStatus, SuppressionReason
from subscribers.suppression import get_suppression
from tests.builders import Newsroom, newsroom
from tests.conftest import PG_SERVER, POSTAL_ADDRESS
from tests.inbound_support import (
    DOMAIN,
    delivery_of,
    dsn,
    reply,
    smtp_transaction,
    snapshot_campaign,
)
from tests.smtpd import free_port

pytestmark = pytest.mark.slow

SECRET = "inbound-e2e-secret-" + "q" * 32
PARTNER = "fausto.carbajal@miranda-partners.com"
JOSE = "jose.rivera1@example.org"
MAX_BYTES = 300_000
MAILER = [sys.executable, "-m", "mailer"]
runner = CliRunner()


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"process exited early:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return True
        return False

    wait_until(up, timeout, f"port {port}")


def _admin() -> psycopg.Connection[Any]:
    dsn_ = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    return psycopg.connect(dsn_, autocommit=True)


def create_database(prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER}/{name}"
    mailer_db.upgrade(url)
    return name, url


def drop_database(name: str) -> None:
    with _admin() as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Processes:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, args: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            args,
            env=env,
            cwd=self.tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)


class Stack:
    """Everything the tests talk to."""

    def __init__(self, url: str, env: dict[str, str], inbound_port: int, maildir: Path) -> None:
        self.url = url
        self.env = env
        self.inbound_port = inbound_port
        self.maildir = maildir
        self.engine = make_engine(url)
        self.factory = session_factory(self.engine)
        self.broker = Celery("client", broker=env["MAILER_BROKER_URL"])

    def session(self) -> Session:
        return self.factory()

    def mail(self) -> list[EmailMessage]:
        """Everything the outgoing SMTP server has received so far."""
        box = mailbox.Maildir(self.maildir, create=False)
        out = []
        for key in sorted(box.keys(), key=_arrival):
            msg = message_from_bytes(box.get_bytes(key), policy=email_policy.default)
            assert isinstance(msg, EmailMessage)
            out.append(msg)
        return out

    def mail_to(self, addr: str) -> list[EmailMessage]:
        return [m for m in self.mail() if addr in str(m.get("X-RcptTo", ""))]

    def send(self, mail_from: str, rcpts: list[str], data: bytes) -> Any:
        return smtp_transaction(self.inbound_port, mail_from, rcpts, data)

    def address(self, kind: str, delivery_id: int) -> str:
        return tokens.address(kind, tokens.delivery_token(delivery_id, SECRET), DOMAIN)

    def settled(self, stored_id: int, timeout: float = 60) -> InboundMessage:
        """The row once the worker has finished with it."""

        def done() -> InboundMessage | None:
            with self.session() as s:
                row = s.get(InboundMessage, stored_id)
                if row is not None and row.status != InboundStatus.RECEIVED:
                    s.expunge(row)
                    return row
            return None

        return wait_until(done, timeout, f"inbound message #{stored_id} to be processed")


def stored_id(result: Any) -> int:
    assert result.data is not None and result.data[0] == 250, result
    return int(result.data[1].decode().rsplit("#", 1)[1])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("inbound-e2e")
    name, url = create_database("mailer_inbound_e2e")
    procs = Processes(tmp)
    redis_port = free_port()
    broker = procs.spawn(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1"]
        + ["--save", "", "--appendonly", "no", "--dir", str(tmp)],
        dict(os.environ),
        "redis",
    )
    wait_for_port(redis_port, broker, tmp / "redis.log")
    assert redis.Redis(port=redis_port).ping()
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith("MAILER_") and key != "MAILER_TEST_PG":
                mp.delenv(key)
        base = {
            "MAILER_DATABASE_URL": url,
            "MAILER_SECRET_KEY": SECRET,
            "MAILER_MAIL_DOMAIN": DOMAIN,
            "MAILER_PUBLIC_URL": "https://news.example.com",
            "MAILER_FROM": "Miranda Delphi Solutions <briefing@news.example.com>",
        }
        for key, value in base.items():
            mp.setenv(key, value)
        # 1. The newsletter, sent in-process (no broker) to the sample list, into an outbox.
        mp.setenv("MAILER_SMTP_URL", f"outbox://{tmp / 'outbox'}")
        mp.chdir(tmp)
        reset_settings()
        reset_caches()  # a Composer cached for campaign 1 by an earlier test holds its secret
        mailer_db.reset_engines()
        configure(celery_app)
        engine = make_engine(url)
        with session_factory(engine)() as session:
            room = newsroom(session, get_settings())
        engine.dispose()
        sent = runner.invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
        assert sent.exit_code == 0, sent.output

        # 2. The processes.
        smtp_port, inbound_port = free_port(), free_port()
        maildir = tmp / "maildir"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
        env.update(base)
        env.update(
            MAILER_BROKER_URL=f"redis://127.0.0.1:{redis_port}/0",
            MAILER_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
            MAILER_POSTAL_ADDRESS=POSTAL_ADDRESS,
            MAILER_INBOUND_LISTEN=f"127.0.0.1:{inbound_port}",
            MAILER_INBOUND_MAX_BYTES=str(MAX_BYTES),
            MAILER_RETRY_BASE_DELAY="1",
        )
        outgoing = procs.spawn(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}"]
            + ["-c", "aiosmtpd.handlers.Mailbox", str(maildir)],
            env,
            "outgoing-smtp",
        )
        procs.spawn([*MAILER, "worker", "--concurrency", "1"], env, "worker")
        server = procs.spawn([*MAILER, "inbound"], env, "inbound")
        try:
            wait_for_port(smtp_port, outgoing, tmp / "outgoing-smtp.log")
            wait_for_port(inbound_port, server, tmp / "inbound.log")
            worker_log = tmp / "worker.log"
            wait_until(lambda: b"ready." in worker_log.read_bytes(), 60, "the worker")
            stack = Stack(url, env, inbound_port, maildir)
            stack.room = room  # type: ignore[attr-defined]
            stack.worker_log = worker_log  # type: ignore[attr-defined]
            stack.inbound_log = tmp / "inbound.log"  # type: ignore[attr-defined]
            yield stack
            stack.engine.dispose()
        finally:
            procs.close()
            reset_settings()
            mailer_db.reset_engines()
            drop_database(name)


TASK_LINE = re.compile(
    r"Task mailer\.tasks\.\w+\[([0-9a-f-]+)\] (received|succeeded|raised|retry|failed)"
)


def quiet(stack: Stack) -> bool:
    """Nothing is queued and every task the worker received has ended (its log says so): nothing
    more can be sent, so "no more mail" is checked after the only process that could send it."""
    if redis.Redis.from_url(stack.env["MAILER_BROKER_URL"]).llen("mailer"):
        return False
    log = stack.worker_log.read_text(errors="replace")  # type: ignore[attr-defined]
    received: Counter[str] = Counter()
    ended: Counter[str] = Counter()
    for task_id, event in TASK_LINE.findall(log):
        (received if event == "received" else ended)[task_id] += 1
    return all(ended[task_id] >= n for task_id, n in received.items())


def _arrival(key: str) -> tuple[int, ...]:
    """A Maildir key's time, microseconds and counter as numbers ("…M99P…" sorts after
    "…M123456P…" as text): the messages in the order the server stored them."""
    match = re.match(r"(\d+)\.M(\d+)P\d+Q(\d+)", key)
    return tuple(int(part) for part in match.groups()) if match else (0, 0, 0)


def newsletter_to(stack: Stack, email: str) -> EmailMessage:
    for path in (stack.maildir.parent / "outbox").glob("*.eml"):
        msg = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        assert isinstance(msg, EmailMessage)
        if msg["To"].addresses[0].addr_spec == email:
            return msg
    raise AssertionError(f"no newsletter to {email}")


def sent_delivery(stack: Stack, email: str) -> Delivery:
    with stack.session() as s:
        delivery = delivery_of(s, email)
        assert delivery.status == DeliveryStatus.SENT
        return delivery


def test_an_inquiry_reaches_the_partner_exactly_once_with_context(stack: Stack) -> None:
    newsletter = newsletter_to(stack, JOSE)
    rcpt = newsletter["Reply-To"].addresses[0].addr_spec
    assert rcpt == stack.address("reply", sent_delivery(stack, JOSE).id)
    raw = reply(
        from_=f"José Rivera <{JOSE}>",
        to=str(newsletter["Reply-To"]),
        subject="Re: " + str(newsletter["Subject"]),
        body="Fausto,\n\nCould we talk about the National Operations Unit on Thursday?",
        quoted=newsletter.get_body(("plain",)).get_content(),
    )
    before = len(stack.mail_to(PARTNER))
    row = stack.settled(stored_id(stack.send(JOSE, [rcpt], raw)))
    assert (row.kind, row.status) == (InboundKind.INQUIRY, InboundStatus.DONE), row.outcome
    [fwd] = wait_until(lambda: stack.mail_to(PARTNER)[before:], 30, "the forward")
    assert str(fwd["From"]) == "José Rivera via Security Chatter <briefing@news.example.com>"
    assert [a.addr_spec for a in fwd["Reply-To"].addresses] == [JOSE]
    assert fwd["Subject"] == "Re: " + str(newsletter["Subject"])
    text = fwd.get_body(("plain",)).get_content()
    assert "Company:  Acme Mining SA de CV" in text and "Tags:     client, energy" in text
    assert "security-chatter-2025-04-09" in text and "National Operations Unit" in text
    assert "Executive summary" not in text

    # The task delivered again (e.g. a worker lost after sending): still one forward.
    stack.broker.send_task("mailer.tasks.process_inbound", args=[row.id], queue="mailer")

    def ran_twice() -> bool:
        with stack.session() as s:
            again = s.get(InboundMessage, row.id)
            return again is not None and again.attempts >= 2

    wait_until(ran_twice, 30, "the second run of the task")
    wait_until(lambda: quiet(stack), 30, "the worker to be idle")
    assert len(stack.mail_to(PARTNER)) == before + 1
    with stack.session() as s:
        assert s.scalar(select(func.count()).where(Inquiry.inbound_message_id == row.id)) == 1
    log = stack.worker_log.read_text(errors="replace")  # type: ignore[attr-defined]
    runs = re.findall(r"Task mailer\.tasks\.process_inbound\[[^]]+\] succeeded.*inquiry #", log)
    assert len(runs) == 2  # both runs were the worker's, and both ended at the one inquiry
    # The server's log keeps neither the reader's address nor their reply+TOKEN address (aiosmtpd
    # logs both at INFO for every session).
    served = stack.inbound_log.read_text(errors="replace")  # type: ignore[attr-defined]
    assert JOSE not in served and rcpt not in served and "Connection lost" not in served


def test_the_talk_to_button_reaches_the_partner_through_the_readers_reply_address(
    stack: Stack,
) -> None:
    """The reader presses "Talk to Fausto": their mail client opens the button's mailto, they
    write, and the message goes through the inbound server to the partner with their context
    (and is recorded as their inquiry), as a reply to the newsletter does."""
    reader = "carmen.martinez5@example.org"
    newsletter = newsletter_to(stack, reader)
    html = newsletter.get_body(("html",)).get_content()
    doc = lxml.html.document_fromstring(html)
    (href,) = {a.get("href") for a in doc.xpath("//a[normalize-space()='Talk to Fausto']")}
    mailto = urlsplit(href)
    assert mailto.scheme == "mailto"
    rcpt = unquote(mailto.path)
    assert rcpt == stack.address("reply", sent_delivery(stack, reader).id)
    assert rcpt == newsletter["Reply-To"].addresses[0].addr_spec  # the reader's reply+ address
    subject = parse_qs(mailto.query)["subject"][0]
    raw = reply(
        from_=f"Carmen Martínez <{reader}>",
        to=rcpt,
        subject=subject,  # a mail client fills the subject from the mailto URL
        body="Fausto,\n\nOur board would like a briefing on the new National Guard offices.",
    )
    row = stack.settled(stored_id(stack.send(reader, [rcpt], raw)))
    assert (row.kind, row.status) == (InboundKind.INQUIRY, InboundStatus.DONE), row.outcome

    def forwards_of_this_reply() -> list[EmailMessage]:  # by content, not by arrival order
        return [
            m
            for m in stack.mail_to(PARTNER)
            if (body := m.get_body(("plain",))) is not None
            and "National Guard offices" in body.get_content()
        ]

    [fwd] = wait_until(forwards_of_this_reply, 30, "the forward")
    assert str(fwd["From"]) == "Carmen Martínez via Security Chatter <briefing@news.example.com>"
    assert [a.addr_spec for a in fwd["Reply-To"].addresses] == [reader]
    assert fwd["Subject"] == "Security Chatter, 9 April 2025"
    text = fwd.get_body(("plain",)).get_content()
    assert "Company:  Embassy of Canada" in text and "Tags:     prospect" in text
    assert "security-chatter-2025-04-09" in text
    assert "a briefing on the new National Guard offices" in text
    with stack.session() as s:
        inquiry = s.scalars(select(Inquiry).where(Inquiry.inbound_message_id == row.id)).one()
        assert inquiry.client_email == reader


def test_an_out_of_office_reaches_no_one(stack: Stack) -> None:
    email = "ricardo.hernandez3@example.org"
    rcpt = stack.address("reply", sent_delivery(stack, email).id)
    raw = reply(
        from_=email,
        to=rcpt,
        subject="Out of office: Security Chatter",
        body="I am out of the office until 14 April with limited access to email.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    before = len(stack.mail())
    row = stack.settled(stored_id(stack.send(email, [rcpt], raw)))
    assert (row.kind, row.status) == (InboundKind.AUTO_REPLY, InboundStatus.DONE)
    wait_until(lambda: quiet(stack), 30, "the worker to be idle")
    assert len(stack.mail()) == before


def test_a_dsn_with_5_1_1_suppresses_the_subscriber(stack: Stack) -> None:
    """The relay returns the headers of the very message the worker sent (its signed
    Message-ID among them): a hard bounce that is about our message, so it suppresses."""
    email = "luis.sanchez4@example.org"
    rcpt = stack.address("bounces", sent_delivery(stack, email).id)
    original = newsletter_to(stack, email).as_bytes()
    row = stack.settled(stored_id(stack.send("", [rcpt], dsn(email, "5.1.1", original=original))))
    assert (row.kind, row.status) == (InboundKind.BOUNCE, InboundStatus.DONE), row.outcome
    with stack.session() as s:
        entry = get_suppression(s, email, SECRET)
        assert entry is not None and entry.reason == SuppressionReason.HARD_BOUNCE
        subscriber = s.scalar(select(Subscriber).where(Subscriber.email == email))
        assert subscriber is not None and subscriber.status.value == "bounced"


def test_three_soft_bounces_suppress(stack: Stack) -> None:
    email = "laura.morales9@example.mx"
    with stack.session() as s:
        room: Newsroom = stack.room  # type: ignore[attr-defined]
        extra = [snapshot_campaign(s, room, force_resend=True).id for _ in range(2)]
        ids = [delivery_of(s, email).id] + [delivery_of(s, email, c).id for c in extra]
    for n, delivery_id in enumerate(ids, 1):
        rcpt = stack.address("bounces", delivery_id)
        raw = dsn(email, "4.2.2", action="failed", diagnostic="smtp; 452 4.2.2 Mailbox full")
        row = stack.settled(stored_id(stack.send("", [rcpt], raw)))
        assert row.kind == InboundKind.BOUNCE
        with stack.session() as s:
            entry = get_suppression(s, email, SECRET)
            assert (entry is not None) == (n == 3), f"after {n} soft bounces"
    assert entry is not None and entry.reason == SuppressionReason.SOFT_BOUNCE
    with stack.session() as s:
        assert s.scalar(select(func.count()).where(BounceEvent.recipient == email)) == 3


def test_unsubscribe_address_and_darme_de_baja_unsubscribe_and_reach_no_one(stack: Stack) -> None:
    first, second = "ana.torres31@example.net", "valeria.gonzalez0@example.com"
    before = len(stack.mail())
    unsub = stack.address("unsubscribe", sent_delivery(stack, first).id)
    row = stack.settled(stored_id(stack.send(first, [unsub], b"Subject: unsubscribe\r\n\r\n")))
    assert row.kind == InboundKind.UNSUBSCRIBE
    rcpt = stack.address("reply", sent_delivery(stack, second).id)
    body = "Buenos días,\nQuisiera darme de baja de este boletín.\nGracias"
    raw = reply(from_=second, to=rcpt, subject="RE: Security Chatter", body=body)
    row = stack.settled(stored_id(stack.send(second, [rcpt], raw)))
    assert row.kind == InboundKind.UNSUBSCRIBE, row.reason
    with stack.session() as s:
        statuses = dict(
            s.execute(
                select(Subscriber.email, Subscription.status)
                .join(Subscription, Subscription.subscriber_id == Subscriber.id)
                .where(Subscriber.email.in_([first, second]))
            ).all()
        )
    assert statuses == {
        first: SubscriptionStatus.UNSUBSCRIBED,
        second: SubscriptionStatus.UNSUBSCRIBED,
    }
    wait_until(lambda: quiet(stack), 30, "the worker to be idle")
    assert len(stack.mail()) == before


def test_outside_domains_altered_tokens_and_oversized_messages_are_refused(stack: Stack) -> None:
    good = stack.address("reply", sent_delivery(stack, JOSE).id)
    token = good.split("+", 1)[1].split("@")[0]
    number, mac = token.split("-")
    outside = f"reply+{token}@gmail.example"
    altered = f"reply+{int(number, 36) + 1}-{mac}@{DOMAIN}"
    got = stack.send(JOSE, [outside, altered], reply(from_=JOSE, to=good, subject="x", body="y"))
    assert got.rcpts[outside][0] == 550 and got.rcpts[altered][0] == 550
    assert got.data is None
    big = reply(from_=JOSE, to=good, subject="big", body="z" * 70 + ("\n" + "z" * 70) * 5000)
    assert len(big) > MAX_BYTES
    got = stack.send(JOSE, [good], big)
    assert got.data is not None and got.data[0] == 552, got


@pytest.fixture
def outage_db(stack: Stack) -> Iterator[tuple[str, str]]:
    name, url = create_database("mailer_inbound_outage")
    engine = make_engine(url)
    with session_factory(engine)() as session:
        room = newsroom(session, get_settings())
        snapshot_campaign(session, room)
    engine.dispose()
    try:
        yield name, url
    finally:
        drop_database(name)


def test_with_the_database_down_inbound_answers_4xx_and_accepts_the_message_later(
    stack: Stack, outage_db: tuple[str, str], tmp_path: Path
) -> None:
    """The machine's PostgreSQL is shared with other tests, so it is not stopped: this test's
    `mailer inbound` uses a database of its own, which is made unavailable the way a failed-over
    or restarting server is seen by a client — `ALTER DATABASE … ALLOW_CONNECTIONS false` refuses
    new connections and `pg_terminate_backend` kills the open ones. That inbound runs without a
    broker (processing in-process), so nothing else touches that database."""
    name, url = outage_db
    port = free_port()
    env = dict(stack.env)
    env.pop("MAILER_BROKER_URL")
    env.update(MAILER_DATABASE_URL=url, MAILER_INBOUND_LISTEN=f"127.0.0.1:{port}")
    procs = Processes(tmp_path)
    server = procs.spawn([*MAILER, "inbound"], env, "inbound-outage")
    engine = make_engine(url)
    try:
        wait_for_port(port, server, tmp_path / "inbound-outage.log")
        with session_factory(engine)() as s:
            rcpt = tokens.address(
                "reply", tokens.delivery_token(delivery_of(s, JOSE).id, SECRET), DOMAIN
            )
        raw = reply(from_=JOSE, to=rcpt, subject="Re: Security Chatter", body="Call me, please.")

        def database(up: bool) -> None:
            with _admin() as conn:
                conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(up).lower()}')
                if not up:
                    conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()",
                        (name,),
                    )

        # Down before the transaction: the recipient cannot be checked → 451 at RCPT.
        database(up=False)
        got = smtp_transaction(port, JOSE, [rcpt], raw)
        assert got.rcpts[rcpt][0] == 451 and got.rcpts[rcpt][1].startswith(b"4.3.0"), got

        # Down between RCPT and DATA: the message cannot be stored → 451 after DATA.
        database(up=True)
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as conn:
            conn.ehlo("client.example")
            assert conn.mail(JOSE)[0] == 250
            assert conn.rcpt(rcpt)[0] == 250
            database(up=False)
            try:
                code, text = conn.data(raw)
            except smtplib.SMTPDataError as exc:
                code, text = exc.smtp_code, exc.smtp_error
        assert code == 451 and text.startswith(b"4.3.0"), (code, text)

        # Back: the sender's retry is accepted, stored once and processed.
        database(up=True)
        got = smtp_transaction(port, JOSE, [rcpt], raw)
        assert got.data is not None and got.data[0] == 250, got
        with session_factory(engine)() as s:
            rows = s.scalars(select(InboundMessage)).all()
            assert len(rows) == 1 and bytes(rows[0].raw) == raw
        inquiry = wait_until(
            lambda: _one_inquiry(engine), 30, "the message to be processed in-process"
        )
        assert inquiry.client_email == JOSE
    finally:
        procs.close()
        engine.dispose()


def _one_inquiry(engine: Any) -> Inquiry | None:
    with session_factory(engine)() as s:
        row = s.scalars(select(Inquiry)).first()
        if row is not None:
            s.expunge(row)
        return row


FIXTURES = Path(__file__).parent.parent / "data" / "inbound"
USED = {
    JOSE,
    "ricardo.hernandez3@example.org",
    "luis.sanchez4@example.org",
    "laura.morales9@example.mx",
    "ana.torres31@example.net",
    "valeria.gonzalez0@example.com",
}


def fixture_with_token(name: str, delivery: Delivery) -> tuple[str, bytes]:
    """A message of tests/data/inbound with a real token, our domain and our Message-ID."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    token = tokens.delivery_token(delivery.id, SECRET)
    text = text.replace("TOKEN", token).replace("@localhost", f"@{DOMAIN}")
    text = text.replace("MSGID", delivery.message_id or "<none@example.com>")
    raw = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    rcpt = re.search(rf"(?:reply|bounces)\+{token}@{re.escape(DOMAIN)}", text)
    assert rcpt is not None
    return rcpt.group(0), raw


def fresh_reader(stack: Stack, n: int) -> Delivery:
    """The n-th sent delivery to a reader no other test in this module uses."""
    with stack.session() as s:
        rows = s.execute(
            select(Delivery, Subscriber.email)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.status == DeliveryStatus.SENT)
            .order_by(Delivery.id.desc())
        ).all()
        fresh = [d for d, email in rows if email not in USED]
        s.expunge(fresh[n])
        return fresh[n]


@pytest.mark.parametrize(
    ("n", "name"),
    [(0, "inquiry-remove-me-from-call.eml"), (1, "inquiry-dar-de-baja-asistente.eml")],
)
def test_a_reply_that_begins_like_an_opt_out_reaches_the_partner_and_unsubscribes_nobody(
    stack: Stack, n: int, name: str
) -> None:
    delivery = fresh_reader(stack, n)
    rcpt, raw = fixture_with_token(name, delivery)
    before = len(stack.mail_to(PARTNER))
    row = stack.settled(stored_id(stack.send("client@example.com", [rcpt], raw)))
    assert (row.kind, row.status) == (InboundKind.INQUIRY, InboundStatus.DONE), row.reason
    wait_until(lambda: len(stack.mail_to(PARTNER)) == before + 1, 30, "the forward")
    with stack.session() as s:
        status = s.scalar(
            select(Subscription.status).where(Subscription.subscriber_id == delivery.subscriber_id)
        )
    assert status == SubscriptionStatus.ACTIVE


def test_a_long_quoted_name_with_a_comma_gives_a_forward_from_one_mailbox(stack: Stack) -> None:
    rcpt, raw = fixture_with_token("inquiry-long-quoted-name.eml", fresh_reader(stack, 2))
    before = len(stack.mail_to(PARTNER))
    row = stack.settled(stored_id(stack.send("maria.fernanda@example.com", [rcpt], raw)))
    assert row.kind == InboundKind.INQUIRY
    [fwd] = wait_until(lambda: stack.mail_to(PARTNER)[before:], 30, "the forward")
    assert [a.addr_spec for a in fwd["From"].addresses] == ["briefing@news.example.com"]
    assert [a.addr_spec for a in fwd["Reply-To"].addresses] == ["maria.fernanda@example.com"]
    # Another reader's reply+ address: the name is shown as written, in the text only, under
    # the caution (mailer/inbound/senders.py); the headers name the sender by address.
    assert fwd["From"].addresses[0].display_name.startswith("maria.fernanda@example.com via ")
    text = " ".join(fwd.get_body(("plain",)).get_content().split())
    assert "Caution: replies to this message go to maria.fernanda@example.com" in text
    assert "Hernandez-Castellanos, Maria Fernanda" in text


def test_an_arf_complaint_stops_mail_to_the_complainer_and_is_not_forwarded(stack: Stack) -> None:
    delivery = fresh_reader(stack, 3)
    rcpt, raw = fixture_with_token("complaint-arf.eml", delivery)
    before = len(stack.mail())
    row = stack.settled(stored_id(stack.send("fbl@feedback.example.net", [rcpt], raw)))
    assert (row.kind, row.status) == (InboundKind.COMPLAINT, InboundStatus.DONE), row.outcome
    with stack.session() as s:
        subscriber = s.get(Subscriber, delivery.subscriber_id)
        assert subscriber is not None and subscriber.email is not None
        assert subscriber.status.value == "complained"
        entry = get_suppression(s, subscriber.email, SECRET)
        assert entry is not None and entry.reason == SuppressionReason.COMPLAINT
        email = subscriber.email
    shown = runner.invoke(app, ["subscribers", "show", email])
    assert "complaints:" in shown.output and "complaint" in shown.output, shown.output
    room: Newsroom = stack.room  # type: ignore[attr-defined]
    report = runner.invoke(app, ["report", room.issue_slug])
    assert re.search(r"complaints 1 of \d+ delivered \(\d+\.\d+%, OVER the 0\.3%", report.output)
    assert len(stack.mail()) == before  # nothing forwarded, nothing sent


def test_a_dsn_for_a_5_7_1_spam_block_is_a_soft_policy_failure_as_when_sending(
    stack: Stack,
) -> None:
    from mailer.sending.outcomes import outcome_of
    from mailer.sending.transport import Reply

    delivery = fresh_reader(stack, 4)
    rcpt, raw = fixture_with_token("dsn-5.7.1-spam-block.eml", delivery)
    row = stack.settled(stored_id(stack.send("", [rcpt], raw)))
    assert (row.kind, row.status) == (InboundKind.BOUNCE, InboundStatus.DONE), row.outcome
    with stack.session() as s:
        event = s.scalar(select(BounceEvent).where(BounceEvent.inbound_message_id == row.id))
        subscriber = s.get(Subscriber, delivery.subscriber_id)
        assert event is not None and subscriber is not None and subscriber.email is not None
        assert (event.kind.value, event.status) == ("soft", "5.7.1")
        assert get_suppression(s, subscriber.email, SECRET) is None
    when_sending = outcome_of(
        Reply(550, "5.7.1 Our system has detected that this message is likely unsolicited mail"),
        attempts=1,
        started_at=datetime.now(UTC),
        now=datetime.now(UTC),
        base_delay=1,
        deadline=timedelta(hours=1),
    )
    assert (when_sending.reason, when_sending.suppress) == (event.reason, False)
