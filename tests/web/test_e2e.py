"""End to end with `mailer web` running as a real process (uvicorn on a free port): the
List-Unsubscribe URL of a really sent message, and the double opt-in through a real SMTP server.

The database is the embedded SQLite file (the process and the test share it); the issue is sent
in-process by `mailer send` beforehand, with MAILER_PUBLIC_URL pointing at the server so that the
URLs in the mail are the ones a reader's client would open.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from mailer.settings import Settings, reset_settings
from subscribers.lifecycle import get_subscriber
from subscribers.lists import create_list, get_list
from subscribers.models import SubscriptionStatus
from tests.conftest import POSTAL_ADDRESS
from tests.smtpd import SMTPServer, free_port
from tests.web_support import (
    Sent,
    alter_one_char,
    html_part,
    recipient,
    send_fixture_issue,
    text_part,
    unsubscribe_url,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    relay: SMTPServer


def _wait_for(base: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process.poll() is not None:
            out = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"`mailer web` exited with {process.returncode}:\n{out}")
        try:
            if httpx.get(f"{base}/archive", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"`mailer web` did not answer on {base} within {timeout} s")


@pytest.fixture
def server(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with SMTPServer() as relay:
        monkeypatch.setenv("MAILER_PUBLIC_URL", base)
        reset_settings()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
        env.update(
            MAILER_DATABASE_URL=settings.database_url,
            MAILER_SECRET_KEY=settings.secret(),
            MAILER_PUBLIC_URL=base,
            MAILER_MAIL_DOMAIN=settings.mail_domain,
            MAILER_FROM=settings.from_,
            MAILER_SMTP_URL=relay.url,
            MAILER_POSTAL_ADDRESS=POSTAL_ADDRESS,
        )
        mailer = Path(sys.executable).with_name("mailer")
        process = subprocess.Popen(
            [str(mailer), "web", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for(base, process)
            yield Server(base, process, relay)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()


def list_status(session: Session, email: str, list_slug: str = "briefing") -> SubscriptionStatus:
    session.expire_all()
    subscriber = get_subscriber(session, email)
    assert subscriber is not None
    mlist = get_list(session, list_slug)
    (sub,) = [s for s in subscriber.subscriptions if s.list_id == mlist.id]
    return sub.status


def test_list_unsubscribe_url_of_a_real_message(
    server: Server, session: Session, settings: Settings
) -> None:
    sent: Sent = send_fixture_issue(session, settings)
    msg = sent.messages[0]
    who = recipient(msg)
    url = unsubscribe_url(msg)
    assert url.startswith(f"{server.base}/u/")
    with httpx.Client(follow_redirects=False, timeout=10) as http:
        # GET (what a link scanner does) leaves the subscription active.
        page = http.get(url)
        assert page.status_code == 200 and who in page.text
        assert list_status(session, who) == SubscriptionStatus.ACTIVE

        # A token altered by one character: 4xx, nothing changes.
        token = url.rsplit("/", 1)[1]
        altered = f"{server.base}/u/{alter_one_char(token)}"
        for answer in (
            http.get(altered),
            http.post(altered, content=b"List-Unsubscribe=One-Click"),
        ):
            assert 400 <= answer.status_code < 500
        assert list_status(session, who) == SubscriptionStatus.ACTIVE

        # The RFC 8058 POST, exactly as List-Unsubscribe-Post says, unsubscribes at once...
        body = str(msg["List-Unsubscribe-Post"]).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        first = http.post(url, content=body, headers=headers)
        assert first.status_code == 200
        assert list_status(session, who) == SubscriptionStatus.UNSUBSCRIBED
        # ...and a second POST answers 200 again.
        second = http.post(url, content=body, headers=headers)
        assert second.status_code == 200
        assert list_status(session, who) == SubscriptionStatus.UNSUBSCRIBED

        # Everyone else is untouched, and the web edition and PDF of the mail are served.
        for other in sent.messages[1:]:
            assert list_status(session, recipient(other)) == SubscriptionStatus.ACTIVE
        # Links in the mail are tracked (/r/TOKEN): each answers 302 to the link as written.
        hrefs = set(
            re.findall(r'href="(http://127\.0\.0\.1:\d+/(?:archive|r)/[^"]+)"', html_part(msg))
        )
        links = set()
        for href in hrefs:
            target = href
            if "/r/" in href:
                answer = http.get(href, follow_redirects=False)
                assert answer.status_code == 302, href
                target = answer.headers["location"]
            if "/archive/" in target:
                links.add(target)
        assert any(link.endswith(".pdf") for link in links), links  # the PDF edition
        assert any(not link.endswith(".pdf") for link in links), links  # the web edition
        for link in links:
            got = http.get(link)
            assert got.status_code == 200, link
            if link.endswith(".pdf"):
                assert got.content.startswith(b"%PDF-")
            else:
                assert "text/html" in got.headers["content-type"]


def test_double_opt_in_end_to_end(server: Server, session: Session) -> None:
    create_list(session, "briefing", "Security Chatter")
    session.commit()
    with httpx.Client(follow_redirects=False, timeout=10) as http:
        form = http.get(f"{server.base}/subscribe/briefing")
        assert form.status_code == 200
        answer = http.post(
            f"{server.base}/subscribe/briefing",
            data={"email": "Reader@Example.org", "name": "Reader", "website": ""},
        )
        assert answer.status_code == 200 and "Check your inbox" in answer.text

        # The subscription and its mail come after the answer (it must not depend on them).
        (got,) = server.relay.sink.wait_for(1, timeout=15)
        assert got.rcpt_tos == ["reader@example.org"]
        assert list_status(session, "reader@example.org") == SubscriptionStatus.PENDING
        link = re.search(rf"{re.escape(server.base)}/confirm/[a-z0-9-]+", text_part(got.message))
        assert link is not None and link.group(0) in html_part(got.message)

        page = http.get(link.group(0))  # follow the link: a page with one button
        assert page.status_code == 200
        assert list_status(session, "reader@example.org") == SubscriptionStatus.PENDING
        action = re.search(r'<form method="post" action="([^"]+)"', page.text)
        assert action is not None
        done = http.post(server.base + action.group(1), headers={"User-Agent": "E2E-Browser/1.0"})
        assert done.status_code == 200 and "You are subscribed" in done.text
        assert list_status(session, "reader@example.org") == SubscriptionStatus.ACTIVE
        subscriber = get_subscriber(session, "reader@example.org")
        assert subscriber is not None
        assert subscriber.consent_ip == "127.0.0.1"
        assert subscriber.consent_user_agent == "E2E-Browser/1.0"
