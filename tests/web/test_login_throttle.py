"""Login throttling that an attacker cannot turn against the owner: failures count per (account,
client address) with growing delays, every 429 says when to come back (Retry-After), and the owner
signs in from their own address while the attacker is locked out."""

from __future__ import annotations

import re
import threading
import time
import warnings
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.settings import Settings
from mailer.web import auth
from mailer.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

OWNER = "editor@example.com"
PASSWORD = "correct horse battery"  # noqa: S105  (a test account's password)
WRONG = "not the password"  # noqa: S105
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ATTACKER_IP = "203.0.113.66"
OWNER_IP = "198.51.100.7"


@pytest.fixture
def app(settings: Settings, session: Session) -> FastAPI:
    accounts.create_user(session, OWNER, PASSWORD)
    session.commit()
    return create_app()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """time.time() under the test's control (the throttle's storage expires keys by it)."""
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    yield now


def browser(app: FastAPI, ip: str) -> TestClient:
    # A browser sends its page's Origin with every form post (the admin's same-origin check).
    site = "https://news.example.com"
    return TestClient(app, base_url=site, client=(ip, 50000), headers={"Origin": site})


def sign_in(client: TestClient, email: str = OWNER, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    form = client.get("/admin/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )


def test_an_attacker_hammering_the_owners_account_does_not_lock_the_owner_out(app: FastAPI) -> None:
    """Hostile input: 30 wrong passwords for the owner's account from one address."""
    with browser(app, ATTACKER_IP) as attacker, browser(app, OWNER_IP) as owner:
        answers = [sign_in(attacker, password=WRONG) for _ in range(30)]
        codes = [a.status_code for a in answers]
        assert codes[:5] == [401] * 5  # the free tries
        assert set(codes[5:]) == {429}  # then locked (the lock is not extended by refusals)
        for refused in answers[5:]:
            assert int(refused.headers["retry-after"]) == pytest.approx(
                auth.LOGIN_FIRST_DELAY, abs=2
            )
            assert "Try again in" in refused.text
        # The right password from the attacker's address is refused too while it is locked…
        assert sign_in(attacker).status_code == 429
        # …but the owner, from their own address, signs in at once.
        assert sign_in(owner).status_code == 303
        assert owner.get("/admin", follow_redirects=False).status_code == 200


def test_the_delays_grow_for_a_pair_and_a_success_resets_it(
    app: FastAPI, clock: list[float]
) -> None:
    waits = []
    with browser(app, ATTACKER_IP) as attacker:
        for _ in range(auth.LOGIN_FREE_FAILURES):
            assert sign_in(attacker, password=WRONG).status_code == 401
        for _ in range(6):
            refused = sign_in(attacker, password=WRONG)
            assert refused.status_code == 429
            wait = int(refused.headers["retry-after"])
            waits.append(wait)
            clock[0] += wait + 1  # the lock has passed: the next try is a real one
            assert sign_in(attacker, password=WRONG).status_code == 401
        assert waits == [30, 60, 120, 240, 480, 900]  # doubling, capped at 15 minutes
        refused = sign_in(attacker)
        clock[0] += int(refused.headers["retry-after"]) + 1
        assert sign_in(attacker).status_code == 303  # the right password after the wait
    with browser(app, ATTACKER_IP) as again:  # …and the count started again
        for _ in range(auth.LOGIN_FREE_FAILURES):
            assert sign_in(again, password=WRONG).status_code == 401


def test_one_address_spraying_many_accounts_meets_the_per_address_ceiling(app: FastAPI) -> None:
    """Hostile input: one wrong password tried against 25 different accounts."""
    with browser(app, ATTACKER_IP) as attacker, browser(app, OWNER_IP) as owner:
        codes = [sign_in(attacker, f"user{i}@example.com", WRONG).status_code for i in range(25)]
        assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}
        refused = sign_in(attacker, "user99@example.com", WRONG)
        assert 0 < int(refused.headers["retry-after"]) <= 60
        assert sign_in(owner).status_code == 303


def _burst(clients: list[TestClient], attempts: list[tuple[str, str]]) -> list[int]:
    """Every attempt posted at the same moment from its own thread (one form read first, as a
    script holding one cookie and CSRF token does); the status codes in order."""
    tokens = []
    for client in clients:
        form = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").text)
        assert form
        tokens.append(form.group(1))
    start = threading.Barrier(len(attempts))
    codes = [0] * len(attempts)

    def post(i: int) -> None:
        email, password = attempts[i]
        client = clients[i % len(clients)]
        start.wait()
        codes[i] = client.post(
            "/admin/login",
            data={"email": email, "password": password, "csrf_token": tokens[i % len(clients)]},
            follow_redirects=False,
        ).status_code

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


def test_a_burst_of_simultaneous_attempts_gets_no_more_than_the_free_tries(app: FastAPI) -> None:
    """Hostile input: 40 wrong passwords for one account posted at once from one address, then
    the right one: every attempt is counted before its password is checked, so at most the five
    free tries reach the password check, and the pair is locked afterwards."""
    with browser(app, ATTACKER_IP) as attacker:
        codes = _burst([attacker], [(OWNER, WRONG)] * 40)
        assert set(codes) <= {401, 429}
        assert codes.count(401) <= auth.LOGIN_FREE_FAILURES
        # Whatever the burst left of the free tries, and not one more, is still there.
        later = [sign_in(attacker, password=WRONG).status_code for _ in range(10)]
        assert codes.count(401) + later.count(401) == auth.LOGIN_FREE_FAILURES
        assert sign_in(attacker).status_code == 429


def test_a_burst_against_many_accounts_meets_the_per_address_ceiling(app: FastAPI) -> None:
    """Hostile input: one wrong password for 40 accounts posted at once from one address."""
    with browser(app, ATTACKER_IP) as attacker:
        codes = _burst([attacker], [(f"user{i}@example.com", WRONG) for i in range(40)])
        assert set(codes) <= {401, 429}
        assert codes.count(401) <= 20
        assert sign_in(attacker, "user99@example.com", WRONG).status_code == 429
