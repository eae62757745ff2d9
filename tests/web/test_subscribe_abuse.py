"""The subscribe form under abuse: per-mailbox caps that ignore case and +tags, a global hourly cap
on confirmation mails, an optional proof-of-work, answers (and their timing) independent of the
address's state, and internationalised mailboxes refused with the reason (form and API)."""

from __future__ import annotations

import base64
import html
import json
import re
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import altcha
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from limits import parse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.settings import Settings, reset_settings
from mailer.web.app import create_app
from mailer.web.public import subscribe
from mailer.web.ratelimit import CONFIRMATIONS_PER_ADDRESS, CONFIRMATIONS_PER_CLIENT
from subscribers.lifecycle import add_subscriber, get_subscriber
from subscribers.lists import create_list, get_list
from subscribers.models import Subscriber, SuppressionReason
from subscribers.suppression import add_suppression
from tests.smtpd import free_port

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def briefing(session: Session) -> str:
    create_list(session, "briefing", "Security Chatter", "The weekly briefing.")
    session.commit()
    return "briefing"


def outbox(settings: Settings) -> list[Path]:
    return sorted(Path(settings.smtp_url.removeprefix("outbox://")).glob("*.eml"))


def visitor(app: FastAPI, ip: str) -> TestClient:
    return TestClient(app, base_url="https://news.example.com", client=(ip, 40000))


def people(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Subscriber)) or 0


def test_plus_tags_and_case_do_not_multiply_the_mails_one_inbox_gets(
    settings: Settings, session: Session, briefing: str
) -> None:
    """Hostile input: Victim@Example.com, victim+1@…, victim+2@… from different addresses."""
    app = create_app()
    spellings = [
        "victim@example.com",
        "Victim+1@Example.com",
        "victim+2@example.com",
        "VICTIM+news@EXAMPLE.COM",
        "victim+3@example.com",
    ]
    answers = []
    for n, email in enumerate(spellings):
        with visitor(app, f"192.0.2.{n + 1}") as c:
            answers.append(c.post("/subscribe/briefing", data={"email": email}))
    assert {a.status_code for a in answers} == {200}
    assert all("Check your inbox" in a.text for a in answers)
    mails = outbox(settings)
    assert len(mails) == parse(CONFIRMATIONS_PER_ADDRESS).amount == 3
    # Someone else's inbox is not affected by the victim's count.
    with visitor(app, "192.0.2.99") as c:
        c.post("/subscribe/briefing", data={"email": "other@example.com"})
    assert len(outbox(settings)) == 4


def test_gmail_dots_and_googlemail_do_not_multiply_the_mails_one_inbox_gets(
    settings: Settings, session: Session, briefing: str
) -> None:
    """Hostile input: dotted spellings of one Gmail inbox (Gmail ignores dots in the local part,
    and googlemail.com is the same mailbox), from different addresses."""
    app = create_app()
    spellings = [
        "victim@gmail.com",
        "v.ictim@gmail.com",
        "vi.c.tim@gmail.com",
        "V.I.C.T.I.M+x@googlemail.com",
        "vic.tim@gmail.com",
    ]
    for n, email in enumerate(spellings):
        with visitor(app, f"192.0.2.{n + 1}") as c:
            assert c.post("/subscribe/briefing", data={"email": email}).status_code == 200
    assert len(outbox(settings)) == parse(CONFIRMATIONS_PER_ADDRESS).amount
    # Dots still matter elsewhere: first.last@example.com is not firstlast@example.com.
    for n, email in enumerate(["first.last@example.com", "firstlast@example.com"]):
        with visitor(app, f"192.0.2.{n + 50}") as c:
            c.post("/subscribe/briefing", data={"email": email})
    assert len(outbox(settings)) == parse(CONFIRMATIONS_PER_ADDRESS).amount + 2


def test_one_client_address_cannot_spend_the_sites_hourly_confirmation_budget(
    settings: Settings, session: Session, briefing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile input: one client posting a fresh throw-away address five times a minute (within
    the per-minute limit) for an hour: 300 mails an hour would exceed the site's 200. The client
    gets its share, then 429s; a real visitor from elsewhere is still mailed."""
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    app = create_app()
    share = parse(CONFIRMATIONS_PER_CLIENT).amount
    assert share * 10 <= settings.confirmations_per_hour  # a small share of the site's budget
    codes = []
    with visitor(app, "203.0.113.66") as attacker:
        for minute in range(60):
            for n in range(5):
                email = f"junk{minute}-{n}@attacker-junk.example"
                codes.append(attacker.post("/subscribe/briefing", data={"email": email}))
            now[0] += 61
    assert [a.status_code for a in codes[:share]] == [200] * share
    assert {a.status_code for a in codes[share:]} == {429}
    assert 0 < int(codes[-1].headers["retry-after"]) <= 3600
    assert len(outbox(settings)) == share
    with visitor(app, "198.51.100.7") as reader:
        answer = reader.post("/subscribe/briefing", data={"email": "legit.reader@example.com"})
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert len(outbox(settings)) == share + 1


def test_past_the_hourly_cap_the_form_says_try_later_and_mails_nothing(
    settings: Settings, session: Session, briefing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile input: ten source addresses each asking for confirmations to new addresses."""
    monkeypatch.setenv("MAILER_CONFIRMATIONS_PER_HOUR", "6")
    reset_settings()
    app = create_app()
    answers = []
    for n in range(10):
        with visitor(app, f"198.51.100.{n + 1}") as c:
            answers.append(c.post("/subscribe/briefing", data={"email": f"target{n}@example.org"}))
    assert [a.status_code for a in answers] == [200] * 6 + [503] * 4
    for refused in answers[6:]:
        assert "Please try again later" in refused.text
        assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert len(outbox(settings)) == 6
    assert people(session) == 6  # the refused ones left nothing behind
    assert all(get_subscriber(session, f"target{n}@example.org") is None for n in range(6, 10))


def test_an_internationalised_mailbox_gets_a_form_error_and_leaves_nothing(
    settings: Settings, session: Session, briefing: str
) -> None:
    """Hostile input: jürgen.müller@example.de, which was an HTTP 500 leaving a pending row."""
    with TestClient(create_app(), base_url="https://news.example.com") as c:
        answer = c.post("/subscribe/briefing", data={"email": "jürgen.müller@example.de"})
    assert answer.status_code == 422
    assert "internationalised mailboxes" in answer.text
    assert people(session) == 0 and outbox(settings) == []


def test_the_api_refuses_an_internationalised_mailbox_with_422(
    settings: Settings, session: Session, briefing: str
) -> None:
    token, _ = accounts.create_token(session, "crm", scopes=["subscribers"])
    session.commit()
    with TestClient(create_app(), base_url="https://news.example.com") as c:
        answer = c.post(
            "/api/v1/lists/briefing/subscribers",
            json={"email": "jürgen.müller@example.de", "name": "Jürgen"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 422
    assert "SMTPUTF8" in answer.json()["detail"]
    assert people(session) == 0


# --- proof of work -----------------------------------------------------------------------------


def solve(page_html: str) -> str:
    """What pow.js does, by the altcha library's own solver (an independent implementation)."""
    found = re.search(r'data-pow-challenge="([^"]+)"', page_html)
    assert found, "no challenge on the form"
    challenge = json.loads(html.unescape(found.group(1)))
    solution = altcha.solve_challenge_v1(
        challenge=challenge["challenge"],
        salt=challenge["salt"],
        algorithm=challenge["algorithm"],
        max_number=challenge["maxNumber"],
        start=0,
    )
    assert solution is not None
    payload = {
        "algorithm": challenge["algorithm"],
        "challenge": challenge["challenge"],
        "number": solution.number,
        "salt": challenge["salt"],
        "signature": challenge["signature"],
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()


def test_with_proof_of_work_on_a_form_without_a_fresh_solution_changes_nothing(
    settings: Settings, session: Session, briefing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile input: a script posting without solving, with garbage, with a forged number, and
    replaying one good solution."""
    monkeypatch.setenv("MAILER_SUBSCRIBE_POW", "5000")
    reset_settings()
    with TestClient(create_app(), base_url="https://news.example.com") as c:
        form = c.get("/subscribe/briefing")
        assert "/static/pow.js" in form.text and form.headers["cache-control"] == "no-store"
        good = solve(form.text)
        forged = json.loads(base64.b64decode(good))
        forged["number"] += 1
        for altcha_field in (
            None,
            "garbage",
            base64.b64encode(json.dumps(forged).encode()).decode(),
        ):
            data = {"email": "bot@example.org"}
            if altcha_field is not None:
                data["altcha"] = altcha_field
            refused = c.post("/subscribe/briefing", data=data)
            assert refused.status_code == 422
            assert "has not finished its check" in refused.text
        assert people(session) == 0 and outbox(settings) == []
        accepted = c.post(
            "/subscribe/briefing", data={"email": "person@example.org", "altcha": good}
        )
        assert accepted.status_code == 200 and "Check your inbox" in accepted.text
        assert len(outbox(settings)) == 1
        replayed = c.post("/subscribe/briefing", data={"email": "bot2@example.org", "altcha": good})
        assert replayed.status_code == 422
    assert people(session) == 1


# --- the answer comes before any state-dependent work ---------------------------------------------


@pytest.fixture
def live_app(settings: Settings) -> Iterator[str]:
    yield from _serve()


def _serve() -> Iterator[str]:
    """The app served by uvicorn in a thread (a real HTTP server: the response is on the wire
    before background work runs)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield base
    server.should_exit = True
    thread.join(timeout=10)


def test_the_answer_is_identical_and_sent_before_the_address_is_even_looked_up(
    live_app: str, settings: Settings, session: Session, briefing: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Hostile aim: tell an active address from an unknown one by the answer or its timing. The
    state-dependent work is held on a gate: every answer arrives while it is still held."""
    mlist = get_list(session, "briefing")
    add_subscriber(session, mlist, "active@example.org", settings.secret(), name="Ana")
    add_suppression(session, "blocked@example.org", settings.secret(), SuppressionReason.COMPLAINT)
    session.commit()
    gate = threading.Event()
    started: list[str] = []
    real = subscribe._start_subscription

    def held(
        slug: str, email: str, name: str, browser: str | None = None
    ) -> subscribe.PendingResult:
        started.append(email)
        assert gate.wait(30), "the test never opened the gate"
        return real(slug, email, name, browser)

    monkeypatch.setattr(subscribe, "_start_subscription", held)
    pages = {}
    with httpx.Client(base_url=live_app, timeout=20) as client:
        for email in ("fresh@example.org", "active@example.org", "blocked@example.org"):
            answer = client.post("/subscribe/briefing", data={"email": email, "name": "Someone"})
            assert answer.status_code == 200
            pages[email] = answer.text.replace(email, "EMAIL")
        # All three answered while the work was held (it would have timed out otherwise), and
        # before any confirmation mail could exist.
        assert outbox(settings) == []
    assert len(set(pages.values())) == 1
    gate.set()
    deadline = time.monotonic() + 20  # the background work finishes: observable by its mail
    while not (outbox(settings) and len(started) == 3) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(outbox(settings)) == 1 and "fresh@example.org" in outbox(settings)[0].read_text()


@pytest.mark.slow
def test_chromium_solves_the_proof_of_work_and_subscribes(
    settings: Settings, session: Session, briefing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The self-hosted solver (templates/web/static/pow.js) in Debian's Chromium, offline."""
    from playwright.sync_api import sync_playwright

    from tests.browser import launch

    monkeypatch.setenv("MAILER_SUBSCRIBE_POW", "20000")
    reset_settings()
    server = _serve()
    base = next(server)
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            try:
                page = browser.new_page()
                errors: list[str] = []
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.goto(f"{base}/subscribe/briefing")
                page.fill("#email", "reader@example.org")
                page.wait_for_selector("button[type=submit]:not([disabled])", timeout=30_000)
                assert page.inner_text("[data-pow-status]") == "Browser checked."
                page.click("button[type=submit]")
                page.wait_for_selector("text=Check your inbox", timeout=20_000)
            finally:
                browser.close()
    finally:
        next(server, None)
    assert errors == []
    deadline = time.monotonic() + 20
    while not outbox(settings) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(outbox(settings)) == 1
