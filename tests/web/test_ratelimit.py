"""The web's limits on a real Redis (MAILER_RATELIMIT_STORAGE_URL), as production runs them:
several web processes share one count, so an attacker gains nothing by landing on another one.

Each web process is a separate app instance here (its own limiter objects, nothing shared in
memory); the Redis is this test session's own server, flushed first. With the in-memory default
the second instance would start from zero and these tests would fail.
"""

from __future__ import annotations

import re
import threading
import warnings
from pathlib import Path

import pytest
import redis
from fastapi import FastAPI
from limits import parse
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.settings import Settings, reset_settings
from mailer.web import auth
from mailer.web.app import create_app
from mailer.web.ratelimit import CONFIRMATIONS_PER_ADDRESS, SUBSCRIBE_PER_IP
from subscribers.lists import create_list
from tests.redis_server import RedisServer

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

SITE = "https://news.example.com"
OWNER = "editor@example.com"
PASSWORD = "correct horse battery"  # noqa: S105  (a test account's password)
ATTACKER_IP = "203.0.113.66"
OWNER_IP = "198.51.100.7"


@pytest.fixture
def shared(
    settings: Settings, session: Session, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[FastAPI, FastAPI]:
    """Two web processes' apps on one Redis, an editor account and a list."""
    redis_server.flush()
    monkeypatch.setenv("MAILER_RATELIMIT_STORAGE_URL", redis_server.url)
    reset_settings()
    accounts.create_user(session, OWNER, PASSWORD)
    create_list(session, "briefing", "Security Chatter")
    session.commit()
    return create_app(), create_app()


def browser(app: FastAPI, ip: str) -> TestClient:
    return TestClient(app, base_url=SITE, client=(ip, 50000), headers={"Origin": SITE})


def sign_in(client: TestClient, password: str) -> int:
    form = client.get("/admin/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    return client.post(
        "/admin/login",
        data={"email": OWNER, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    ).status_code


def test_login_failures_on_one_process_lock_the_pair_on_another(
    shared: tuple[FastAPI, FastAPI], redis_server: RedisServer
) -> None:
    first, second = shared
    with browser(first, ATTACKER_IP) as on_first, browser(second, ATTACKER_IP) as on_second:
        wrong = [sign_in(on_first, "wrong") for _ in range(auth.LOGIN_FREE_FAILURES)]
        assert wrong == [401] * auth.LOGIN_FREE_FAILURES
        # The other process has never seen this address, but Redis has.
        form = on_second.get("/admin/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf
        refused = on_second.post(
            "/admin/login",
            data={"email": OWNER, "password": PASSWORD, "csrf_token": csrf.group(1)},
            follow_redirects=False,
        )
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) == pytest.approx(auth.LOGIN_FIRST_DELAY, abs=2)
    with browser(second, OWNER_IP) as owner:
        assert sign_in(owner, PASSWORD) == 303  # the owner, from their own address, is not locked
    assert redis.Redis(port=redis_server.port).dbsize() > 0  # the counts live in Redis


def test_the_subscribe_limits_count_across_processes(
    shared: tuple[FastAPI, FastAPI], settings: Settings
) -> None:
    """Per mailbox: its confirmations are capped whichever process the requests reach; per
    client address: the form's limit too."""
    first, second = shared
    cap = parse(CONFIRMATIONS_PER_ADDRESS).amount
    for n in range(cap + 2):
        app = (first, second)[n % 2]
        with TestClient(app, base_url=SITE, client=(f"192.0.2.{n + 1}", 40000)) as visitor:
            answer = visitor.post("/subscribe/briefing", data={"email": f"Victim+{n}@Example.com"})
            assert answer.status_code == 200 and "Check your inbox" in answer.text
    outbox = Path(settings.smtp_url.removeprefix("outbox://"))
    assert len(list(outbox.glob("*.eml"))) == cap

    per_ip = parse(SUBSCRIBE_PER_IP).amount
    codes = []
    for n in range(per_ip + 1):
        app = (first, second)[n % 2]
        with TestClient(app, base_url=SITE, client=("198.51.100.200", 40000)) as visitor:
            codes.append(
                visitor.post("/subscribe/briefing", data={"email": f"p{n}@example.org"}).status_code
            )
    assert codes[:per_ip] == [200] * per_ip and codes[per_ip] == 429


def test_a_burst_of_sign_ins_spread_over_two_processes_gets_only_the_free_tries(
    shared: tuple[FastAPI, FastAPI],
) -> None:
    """Hostile input: 40 wrong passwords posted at once from one address, half to each process:
    the reservation before the password check is atomic in Redis, so the processes together let
    no more than the five free tries reach the password check."""
    first, second = shared
    with browser(first, ATTACKER_IP) as on_first, browser(second, ATTACKER_IP) as on_second:
        clients = [on_first, on_second]
        tokens = []
        for client in clients:
            form = client.get("/admin/login").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert csrf
            tokens.append(csrf.group(1))
        start = threading.Barrier(40)
        codes = [0] * 40

        def post(i: int) -> None:
            start.wait()
            codes[i] = (
                clients[i % 2]
                .post(
                    "/admin/login",
                    data={"email": OWNER, "password": "wrong", "csrf_token": tokens[i % 2]},
                    follow_redirects=False,
                )
                .status_code
            )

        threads = [threading.Thread(target=post, args=(i,)) for i in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert set(codes) <= {401, 429}
        assert codes.count(401) <= auth.LOGIN_FREE_FAILURES
