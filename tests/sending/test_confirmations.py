"""Double opt-in: the confirmation token (expiry, tampering), the email (through a real SMTP
server), and the confirm pages on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from mailer import tokens
from mailer.errors import TokenError
from mailer.sending import confirmations
from mailer.settings import Settings
from subscribers.lifecycle import get_subscriber, subscribe_pending, unsubscribe
from subscribers.lists import create_list
from subscribers.models import Subscription, SubscriptionStatus
from tests.smtpd import SMTPServer
from tests.web_support import html_part, parse, text_part, web_app

BASE = "https://news.example.com"
KEY = "k" * 40


def test_token_round_trip_and_tampering() -> None:
    token = confirmations.confirm_token(42, KEY)
    assert re.fullmatch(r"[a-z2-7]+-[a-z2-7]{16}", token) and len(token) < 40
    claim = confirmations.parse_confirm_token(token.upper(), [KEY])  # case-insensitive
    assert claim.subscription_id == 42
    assert abs((datetime.now(UTC) - claim.issued_at).total_seconds()) < 5
    bad = [
        token[:-1] + ("a" if token[-1] != "a" else "b"),
        token[:3] + ("a" if token[3] != "a" else "b") + token[4:],  # payload changed
        confirmations.confirm_token(42, "another-key" * 4),
        tokens.delivery_token(42, KEY),  # a delivery token is not a confirmation
        tokens.sign("confirm", b"short", KEY),  # right purpose and key, wrong payload shape
        "",
    ]
    for t in bad:
        with pytest.raises(TokenError):
            confirmations.parse_confirm_token(t, [KEY])


def test_token_expires_after_seven_days() -> None:
    now = datetime(2025, 4, 9, 12, 0, tzinfo=UTC)
    fresh = confirmations.confirm_token(7, KEY, issued_at=now - timedelta(days=6, hours=23))
    assert confirmations.parse_confirm_token(fresh, [KEY], now=now).subscription_id == 7
    old = confirmations.confirm_token(7, KEY, issued_at=now - timedelta(days=7, seconds=1))
    with pytest.raises(TokenError, match="expired"):
        confirmations.parse_confirm_token(old, [KEY], now=now)
    future = confirmations.confirm_token(7, KEY, issued_at=now + timedelta(hours=1))
    with pytest.raises(TokenError):
        confirmations.parse_confirm_token(future, [KEY], now=now)


def test_rotated_key_still_confirms() -> None:
    token = confirmations.confirm_token(3, "old-key" * 6)
    assert confirmations.parse_confirm_token(token, [KEY, "old-key" * 6]).subscription_id == 3


def test_email_has_the_link_in_both_parts_and_no_injection(settings: Settings) -> None:
    url = f"{BASE}/confirm/abc-def"
    msg = confirmations.build_confirmation(
        settings, email="reader@example.org", list_name="Security\r\nBcc: x@evil.example", url=url
    )
    parsed = parse(msg.data)
    assert parsed["To"] == "reader@example.org"
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Please confirm your subscription to Security Bcc: x@evil.example"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["List-Unsubscribe"] is None  # transactional, not a list message
    assert msg.envelope_from == "briefing@news.example.com"
    html, text = html_part(parsed), text_part(parsed)
    assert f'href="{url}"' in html and url in text
    assert "Georgia" in html and "#0E2A47" in html  # the briefing's look
    assert "valid for 7 days" in text


def greeting(settings: Settings, name: str) -> tuple[str, str]:
    """(HTML, text) of the confirmation email sent to ana@example.org by a form naming `name`."""
    msg = confirmations.build_confirmation(
        settings, email="ana@example.org", list_name="Security Chatter", url=f"{BASE}/c", name=name
    )
    parsed = parse(msg.data)
    assert parsed["To"] == "ana@example.org"  # the name is never in a header
    return html_part(parsed), text_part(parsed)


@pytest.mark.parametrize(
    ("name", "html_greeting", "text_greeting"),
    [
        ("Ana", "Hello Ana,", "Hello Ana,"),
        (
            "José María Núñez-O'Brien",
            "Hello José María Núñez-O&#39;Brien,",
            "Hello José María Núñez-O'Brien,",
        ),
        ("Zoë", "Hello Zoë,", None),
        ("Zoe\u0308", "Hello Zoë,", "Hello Zoë,"),  # typed decomposed: sent composed (NFC)
        ("山田太郎", "Hello 山田太郎,", None),
        ("Ørsted", "Hello Ørsted,", None),
        ("J. R. R. Tolkien", "Hello J. R. R. Tolkien,", None),
        ("Martin Luther King Jr.", "Hello Martin Luther King Jr.,", None),
        ("Мария Иванова", "Hello Мария Иванова,", None),
        ("राम शर्मा", "Hello राम शर्मा,", None),  # Devanagari vowel signs are marks
        ("ジョン・スミス", "Hello ジョン・スミス,", None),
        ("JOHN SMITH", "Hello JOHN SMITH,", None),  # any case
        ("  Zoë\r\n O'Brien  ", "Hello Zoë O&#39;Brien,", "Hello Zoë O'Brien,"),  # one line
    ],
)
def test_the_email_greets_the_person_by_the_name_they_gave(
    settings: Settings, name: str, html_greeting: str, text_greeting: str | None
) -> None:
    """A name in any script and case, with hyphens, apostrophes and initials, is repeated:
    escaped in the HTML, one line in both parts."""
    html, text = greeting(settings, name)
    assert html_greeting in html
    assert (text_greeting or html_greeting) in text


@pytest.mark.parametrize(
    ("name", "stranger"),
    [
        # Hostile input: what an attacker typed as the name, to mail it to a stranger from us.
        ("Visit EVIL.COM now", "EVIL"),
        ("WIN CASH AT BIT.LY/X", "BIT.LY"),
        ("Call +1 555 0100 — your account is LOCKED", "LOCKED"),
        ("Cheap pills at pills.example", "pills.example"),
        ("Win https://spam.example now", "spam.example"),
        ("ＥＶＩＬ．ＣＯＭ", "ＥＶＩＬ"),  # fullwidth letters and full stop
        ("Ana\r\nBcc: x@evil.example", "evil.example"),
        ("write to ana@evil.example", "ana@evil"),
        ("Zoë O'Brien & Co", "&amp; Co"),
        ("Agent 007", "007"),
        ("<b>Ana</b>", "<b>"),
        ("your account will be closed today", "closed"),  # a sentence, not a name
        ("A" * 61, "A" * 61),
    ],
)
def test_text_that_is_not_a_name_is_not_mailed_to_the_unverified_address(
    settings: Settings, name: str, stranger: str
) -> None:
    """The confirmation goes to an address nobody has confirmed yet, so whatever is repeated from
    the form is our text in a stranger's inbox: anything but a name greets without one."""
    html, text = greeting(settings, name)
    assert "Hello," in html and "Hello," in text
    assert stranger not in html and stranger not in text


# ------------------------------------------------------------------------------------------------
# The confirm pages
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(web_app(), base_url=BASE, follow_redirects=False) as c:
        yield c


def status(session: Session, email: str) -> SubscriptionStatus:
    session.expire_all()
    subscriber = get_subscriber(session, email)
    assert subscriber is not None
    (sub,) = subscriber.subscriptions
    return sub.status


def test_double_opt_in_through_a_real_smtp_server(
    client: TestClient, session: Session, relay: SMTPServer
) -> None:
    create_list(session, "briefing", "Security Chatter")
    session.commit()
    answer = client.post(
        "/subscribe/briefing",
        data={"email": "ana@example.org", "name": "Ana"},
    )
    assert answer.status_code == 200
    assert status(session, "ana@example.org") == SubscriptionStatus.PENDING
    (got,) = relay.sink.wait_for(1, timeout=10)
    assert got.rcpt_tos == ["ana@example.org"]
    msg = got.message
    assert "Hello Ana," in text_part(msg) and "Hello Ana," in html_part(msg)  # the name given
    link = re.search(r"https://news\.example\.com(/confirm/[a-z0-9-]+)", text_part(msg))
    assert link and link.group(0) in html_part(msg)

    page = client.get(link.group(1))  # opening the link (or a scanner doing so) confirms nothing
    assert page.status_code == 200 and "Confirm your subscription" in page.text
    assert status(session, "ana@example.org") == SubscriptionStatus.PENDING
    done = client.post(link.group(1), headers={"User-Agent": "Mozilla/5.0 (Test) Browser"})
    assert done.status_code == 200 and "You are subscribed" in done.text
    assert status(session, "ana@example.org") == SubscriptionStatus.ACTIVE
    subscriber = get_subscriber(session, "ana@example.org")
    assert subscriber is not None
    assert subscriber.consent_method == "form"
    assert subscriber.consent_source == f"{BASE}/subscribe/briefing"
    assert subscriber.consent_ip == "testclient"
    assert subscriber.consent_user_agent == "Mozilla/5.0 (Test) Browser"
    assert subscriber.consent_at is not None
    (sub,) = subscriber.subscriptions
    assert sub.confirmed_at is not None
    # A second click changes nothing and says so.
    again = client.post(link.group(1))
    assert again.status_code == 200
    assert "You are already subscribed" in client.get(link.group(1)).text


def pending(session: Session, settings: Settings, email: str) -> Subscription:
    mlist = create_list(session, "briefing", "Security Chatter")
    sub = subscribe_pending(session, mlist, email, settings.secret())
    session.commit()
    return sub


def test_expired_and_altered_links_are_refused(
    client: TestClient, session: Session, settings: Settings
) -> None:
    sub = pending(session, settings, "late@example.org")
    old = confirmations.confirm_token(
        sub.id, settings.secret(), issued_at=datetime.now(UTC) - timedelta(days=8)
    )
    for answer in (client.get(f"/confirm/{old}"), client.post(f"/confirm/{old}")):
        assert answer.status_code == 410
        assert "This confirmation link has expired" in answer.text
    good = confirmations.confirm_token(sub.id, settings.secret())
    altered = good[:-1] + ("a" if good[-1] != "a" else "b")
    for answer in (client.get(f"/confirm/{altered}"), client.post(f"/confirm/{altered}")):
        assert answer.status_code == 400
    gone = confirmations.confirm_token(sub.id + 1000, settings.secret())
    assert client.post(f"/confirm/{gone}").status_code == 404
    assert status(session, "late@example.org") == SubscriptionStatus.PENDING


def test_resubscribing_after_unsubscribe_needs_a_new_confirmation(
    client: TestClient, session: Session, settings: Settings
) -> None:
    sub = pending(session, settings, "back@example.org")
    first_link = confirmations.confirm_token(
        sub.id, settings.secret(), issued_at=datetime.now(UTC) - timedelta(minutes=10)
    )
    assert client.post(f"/confirm/{first_link}").status_code == 200
    unsubscribe(session, session.get(Subscription, sub.id))  # type: ignore[arg-type]
    session.commit()
    # The old link must not undo the "stop".
    replay = client.post(f"/confirm/{first_link}")
    assert replay.status_code == 410
    assert status(session, "back@example.org") == SubscriptionStatus.UNSUBSCRIBED
    # Asking again makes it pending and mails a new link, which works.
    assert client.post("/subscribe/briefing", data={"email": "back@example.org"}).status_code == 200
    assert status(session, "back@example.org") == SubscriptionStatus.PENDING
    assert client.post(f"/confirm/{first_link}").status_code == 410
    (mailed,) = Path(settings.smtp_url.removeprefix("outbox://")).glob("*.eml")
    fresh = re.search(
        r"https://news\.example\.com(/confirm/[a-z0-9-]+)", text_part(parse(mailed.read_bytes()))
    )
    assert fresh and fresh.group(1) != f"/confirm/{first_link}"
    assert client.post(fresh.group(1)).status_code == 200
    assert status(session, "back@example.org") == SubscriptionStatus.ACTIVE
