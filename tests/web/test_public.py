"""The public pages through FastAPI's TestClient, on SQLite and PostgreSQL, against a campaign
really sent by `mailer send`: unsubscribe and preferences, the subscribe form, the archive, and the
security promises (headers, escaping, no 500 on garbage)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer import tokens
from mailer.cli import app
from mailer.content.issues import import_issue
from mailer.sending.models import Campaign, CampaignStatus
from mailer.settings import Settings
from subscribers.lifecycle import add_subscriber, get_subscriber
from subscribers.lists import create_list, get_list
from subscribers.models import Subscription, SubscriptionStatus, SuppressionReason
from subscribers.suppression import add_suppression, is_suppressed
from tests.builders import newsroom
from tests.conftest import BRIEFING
from tests.web_support import (
    Sent,
    alter_one_char,
    html_part,
    parse,
    recipient,
    runner,
    send_fixture_issue,
    text_part,
    unsubscribe_url,
    web_app,
)

BASE = "https://news.example.com"
SAME_ORIGIN = {"Origin": BASE}
DRAFT_SOURCE = Path(__file__).parent.parent / "data" / "issues" / "security-chatter.md"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(web_app(), base_url=BASE, follow_redirects=False) as c:
        yield c


@pytest.fixture
def sent(session: Session, settings: Settings) -> Sent:
    return send_fixture_issue(session, settings)


def status_on(session: Session, email: str, list_slug: str) -> SubscriptionStatus | None:
    session.expire_all()
    subscriber = get_subscriber(session, email)
    if subscriber is None:
        return None
    mlist = get_list(session, list_slug)
    sub = session.scalar(
        select(Subscription).where(
            Subscription.subscriber_id == subscriber.id, Subscription.list_id == mlist.id
        )
    )
    return sub.status if sub is not None else None


def path_of(url: str) -> str:
    assert url.startswith(BASE + "/"), url
    return url.removeprefix(BASE)


def visible(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# ------------------------------------------------------------------------------------------------
# Unsubscribe and preferences
# ------------------------------------------------------------------------------------------------


def test_get_shows_who_and_which_list_and_changes_nothing(
    client: TestClient, session: Session, sent: Sent
) -> None:
    msg = sent.messages[0]
    who = recipient(msg)
    url = path_of(unsubscribe_url(msg))
    for _ in range(3):  # a link scanner may follow it many times
        page = client.get(url)
        assert page.status_code == 200
    text = visible(page.text)
    assert who in text
    assert "Unsubscribe from Security Chatter?" in text
    assert f'action="{url}"' in page.text
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert 'id="preferences"' in page.text  # the email's "Manage preferences" anchor
    assert status_on(session, who, sent.room.list_slug) == SubscriptionStatus.ACTIVE


def test_one_click_post_unsubscribes_at_once_and_is_idempotent(
    client: TestClient, session: Session, sent: Sent
) -> None:
    msg, other = sent.messages[0], sent.messages[1]
    who = recipient(msg)
    url = path_of(unsubscribe_url(msg))
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # What a mailbox provider sends: the body from List-Unsubscribe-Post, no cookies, no Origin.
    first = client.post(
        url,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert first.status_code == 200
    assert status_on(session, who, sent.room.list_slug) == SubscriptionStatus.UNSUBSCRIBED
    second = client.post(url, files={"List-Unsubscribe": (None, "One-Click")})  # multipart
    assert second.status_code == 200
    assert "You are unsubscribed" in second.text
    assert status_on(session, who, sent.room.list_slug) == SubscriptionStatus.UNSUBSCRIBED
    assert status_on(session, recipient(other), sent.room.list_slug) == SubscriptionStatus.ACTIVE
    session.expire_all()
    sub = get_subscriber(session, who)
    assert sub is not None
    reasons = [s.unsubscribe_reason for s in sub.subscriptions]
    assert reasons == ["one-click unsubscribe (RFC 8058)"]
    # The page for an unsubscribed reader says so and offers to come back, not a second button.
    again = client.get(url)
    assert "You are already unsubscribed" in again.text
    assert 'value="One-Click"' not in again.text
    assert f'href="/subscribe/{sent.room.list_slug}"' in again.text


def test_post_without_one_click_changes_nothing(
    client: TestClient, session: Session, sent: Sent
) -> None:
    msg = sent.messages[0]
    url = path_of(unsubscribe_url(msg))
    for body in (b"", b"List-Unsubscribe=Yes", b"\xff\xfe\x00garbage"):
        answer = client.post(url, content=body)
        assert answer.status_code == 400
        assert "Nothing was changed" in answer.text
    assert status_on(session, recipient(msg), sent.room.list_slug) == SubscriptionStatus.ACTIVE


def test_altered_forged_or_unknown_tokens_change_nothing(
    client: TestClient, session: Session, sent: Sent, settings: Settings
) -> None:
    msg = sent.messages[0]
    token = unsubscribe_url(msg).rsplit("/", 1)[1]
    delivery_id = tokens.parse_delivery_token(token, settings.verification_secrets())
    bad = [
        alter_one_char(token),
        token[:-1],
        f"{delivery_id + 1:x}-{token.split('-')[1]}",  # another id with this MAC
        tokens.delivery_token(delivery_id, "some-other-key-" + "y" * 30),  # forged
        tokens.sign("confirm", delivery_id, settings.secret()),  # another purpose
        "x" * 5000,
        "%00",
        "ü-ñ",
    ]
    for t in bad:
        for answer in (
            client.get(f"/u/{t}"),
            client.post(f"/u/{t}", data={"List-Unsubscribe": "One-Click"}),
        ):
            assert answer.status_code in (400, 404), (t, answer.status_code)
            assert "text/html" in answer.headers["content-type"]
            assert "This link is not valid" in answer.text or "could not find" in answer.text
    # A genuine token for a delivery that does not exist (test sends use ids 0, 1, 2…): 404.
    for missing in (0, 999_999):
        unknown = tokens.delivery_token(missing, settings.secret())
        assert client.get(f"/u/{unknown}").status_code == 404
        posted = client.post(f"/u/{unknown}", data={"List-Unsubscribe": "One-Click"})
        assert posted.status_code == 404
    for m in sent.messages:
        assert status_on(session, recipient(m), sent.room.list_slug) == SubscriptionStatus.ACTIVE


def test_a_test_copys_unsubscribe_link_says_so_and_changes_nothing(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """The editor who tries the unsubscribe link of a [TEST] copy (`mailer send --test`) used to
    get "This link is not valid", as if the copy were broken: it says what a test copy's link is,
    both on the page and to a one-click post, and unsubscribes no one."""
    room = newsroom(session, settings)
    sent = runner.invoke(
        app, ["send", room.issue_slug, "--list", room.list_slug, "--test", "ed@example.org"]
    )
    assert sent.exit_code == 0, sent.output
    [copy] = sorted(Path(settings.smtp_url.removeprefix("outbox://")).glob("*.eml"))
    msg = parse(copy.read_bytes())
    assert str(msg["Subject"]).startswith("[TEST] ")
    url = path_of(unsubscribe_url(msg))
    assert url in text_part(msg)  # the footer's link too, not only the header's
    for answer in (
        client.get(url),
        client.post(url, data={"List-Unsubscribe": "One-Click"}),
        client.post(url + "/preferences", headers=SAME_ORIGIN, data={"form": "preferences"}),
    ):
        assert answer.status_code == 200, (answer.request.method, answer.text)
        shown = visible(answer.text)
        assert "This link is from a test copy" in shown and "Nothing was changed" in shown
        assert "not valid" not in shown
    everyone = session.scalars(select(Subscription.status)).all()
    assert everyone and set(everyone) == {SubscriptionStatus.ACTIVE}
    # Altered by one character, it is an invalid link like any other.
    bad = url.rsplit("/", 1)[0] + "/" + alter_one_char(url.rsplit("/", 1)[1])
    assert "This link is not valid" in client.get(bad).text


def test_token_survives_upper_casing(client: TestClient, session: Session, sent: Sent) -> None:
    msg = sent.messages[2]
    url = unsubscribe_url(msg)
    upper = path_of(url.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1].upper())
    assert client.post(upper, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert (
        status_on(session, recipient(msg), sent.room.list_slug) == SubscriptionStatus.UNSUBSCRIBED
    )


def test_preferences_keep_some_lists_and_set_language(
    client: TestClient, session: Session, sent: Sent, settings: Settings
) -> None:
    msg = sent.messages[0]
    who = recipient(msg)
    alerts = create_list(session, "alerts", "Security Alerts")
    add_subscriber(session, alerts, who, settings.secret())
    session.commit()
    url = path_of(unsubscribe_url(msg))
    page = client.get(url)
    assert 'value="alerts" checked' in page.text and 'value="briefing" checked' in page.text

    form = {"form": "preferences", "keep": ["alerts"], "language": "es"}
    # Not from our page: refused whatever the token (cross-site posting).
    for headers in (
        {},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
    ):
        refused = client.post(f"{url}/preferences", data=form, headers=headers)
        assert refused.status_code == 403
    assert status_on(session, who, "briefing") == SubscriptionStatus.ACTIVE

    saved = client.post(f"{url}/preferences", data=form, headers=SAME_ORIGIN)
    assert saved.status_code == 200
    # Said in the language just chosen: the reader's pages speak it from now on.
    assert '<html lang="es">' in saved.text
    assert "Suscripción a Security Chatter cancelada." in saved.text
    assert "Idioma elegido: Español." in saved.text
    assert status_on(session, who, "briefing") == SubscriptionStatus.UNSUBSCRIBED
    assert status_on(session, who, "alerts") == SubscriptionStatus.ACTIVE
    session.expire_all()
    subscriber = get_subscriber(session, who)
    assert subscriber is not None and subscriber.language == "es"
    # "No preference" chosen: said as the form names it, not "Language set to none."
    cleared = client.post(
        f"{url}/preferences",
        data={"form": "preferences", "keep": ["alerts"], "language": ""},
        headers=SAME_ORIGIN,
    )
    assert "Language preference removed." in cleared.text
    assert "Language set to none" not in cleared.text
    session.expire_all()
    subscriber = get_subscriber(session, who)
    assert subscriber is not None and subscriber.language is None
    # A Referer from our own page is accepted too; an unknown language is refused, nothing saved.
    bad = client.post(
        f"{url}/preferences",
        data={"form": "preferences", "keep": [], "language": "xx"},
        headers={"Referer": f"{BASE}{url}"},
    )
    assert bad.status_code == 422
    assert "Please choose a language." in bad.text
    assert status_on(session, who, "alerts") == SubscriptionStatus.ACTIVE


def test_the_language_menu_names_a_language_outside_its_short_list(
    client: TestClient, session: Session, sent: Sent
) -> None:
    """A reader imported with language zh sees "Chinese" selected in the menu, not the code."""
    msg = sent.messages[0]
    subscriber = get_subscriber(session, recipient(msg))
    assert subscriber is not None
    subscriber.language = "zh"
    session.commit()
    page = client.get(path_of(unsubscribe_url(msg)))
    assert '<option value="zh" selected>Chinese</option>' in page.text
    assert ">zh<" not in page.text


def test_preferences_stop_all_suppresses_the_address(
    client: TestClient, session: Session, sent: Sent, settings: Settings
) -> None:
    msg = sent.messages[3]
    who = recipient(msg)
    url = path_of(unsubscribe_url(msg))
    answer = client.post(
        f"{url}/preferences",
        data={"form": "preferences", "keep": ["briefing"], "stop_all": "yes"},
        headers=SAME_ORIGIN,
    )
    assert answer.status_code == 200
    reader = get_subscriber(session, who)
    assert reader is not None
    said = {  # in the reader's own language (the sample file gives en or es)
        "en": "You will receive no more email from us.",
        "es": "No recibirá más correos de nuestra parte.",
    }[reader.language or "en"]
    assert said in answer.text
    assert status_on(session, who, "briefing") == SubscriptionStatus.UNSUBSCRIBED
    assert is_suppressed(session, who, settings.secret())


# ------------------------------------------------------------------------------------------------
# Subscribe (the confirmation itself is in tests/sending/test_confirmations.py)
# ------------------------------------------------------------------------------------------------


def outbox_files(settings: Settings) -> list[Path]:
    return sorted(Path(settings.smtp_url.removeprefix("outbox://")).glob("*.eml"))


@pytest.fixture
def briefing_list(session: Session) -> str:
    create_list(session, "briefing", "Security Chatter", "The weekly briefing.")
    session.commit()
    return "briefing"


def test_subscribe_creates_a_pending_subscription_and_mails_a_link(
    client: TestClient, session: Session, settings: Settings, briefing_list: str
) -> None:
    form = client.get("/subscribe/briefing")
    assert form.status_code == 200
    assert 'name="email"' in form.text and 'name="name"' in form.text
    # A list without a description is introduced by its own name and the firm's, not by the
    # sample newsletter's blurb ("the week's security developments…").
    mlist = get_list(session, "briefing")
    assert "The weekly briefing." in visible(form.text)  # the list's own description
    mlist.description = ""
    session.commit()
    lede = visible(client.get("/subscribe/briefing").text)
    assert f"{mlist.name} by email, from {settings.firm_name}." in lede
    assert "security developments" not in lede
    assert 'name="website"' in form.text  # the honeypot
    answer = client.post(
        "/subscribe/briefing", data={"email": "New.Reader@Example.ORG", "name": "New Reader"}
    )
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    assert status_on(session, "new.reader@example.org", "briefing") == SubscriptionStatus.PENDING
    files = outbox_files(settings)
    assert len(files) == 1
    body = files[0].read_text()
    assert "To: new.reader@example.org" in body
    assert f"{BASE}/confirm/" in body


def test_the_same_neutral_page_for_every_status(
    client: TestClient, session: Session, settings: Settings, briefing_list: str
) -> None:
    mlist = get_list(session, "briefing")
    add_subscriber(session, mlist, "active@example.org", settings.secret(), name="Ana Activa")
    add_suppression(session, "blocked@example.org", settings.secret(), SuppressionReason.COMPLAINT)
    session.commit()

    def neutral(email: str) -> str:
        answer = client.post("/subscribe/briefing", data={"email": email, "name": "Someone Else"})
        assert answer.status_code == 200
        return answer.text.replace(email, "EMAIL")

    pages = {
        e: neutral(e) for e in ("fresh@example.org", "active@example.org", "blocked@example.org")
    }
    assert len(set(pages.values())) == 1  # nothing tells the three apart
    assert len(outbox_files(settings)) == 1  # only the fresh address got a message
    assert "fresh@example.org" in outbox_files(settings)[0].read_text()
    assert get_subscriber(session, "blocked@example.org") is None
    session.expire_all()
    active = get_subscriber(session, "active@example.org")
    assert active is not None and active.name == "Ana Activa"  # an anonymous form renames nobody
    assert status_on(session, "active@example.org", "briefing") == SubscriptionStatus.ACTIVE


def test_honeypot_invalid_input_and_unknown_list(
    client: TestClient, session: Session, settings: Settings, briefing_list: str
) -> None:
    bot = client.post("/subscribe/briefing", data={"email": "bot@example.org", "website": "x"})
    assert bot.status_code == 200 and "Check your inbox" in bot.text
    assert get_subscriber(session, "bot@example.org") is None

    evil = '"><script>alert(1)</script>'
    bad = client.post("/subscribe/briefing", data={"email": evil, "name": "<b>x</b>"})
    assert bad.status_code == 422
    assert "This does not look like an email address" in bad.text
    no_at = client.post("/subscribe/briefing", data={"email": "reader.example.org"})
    assert no_at.status_code == 422 and "must have an @-sign." in no_at.text
    assert "@-sign.." not in no_at.text  # the validator's own full stop is not doubled
    assert "<script>alert(1)</script>" not in bad.text
    assert "&lt;script&gt;" in bad.text and "&lt;b&gt;x&lt;/b&gt;" in bad.text
    empty = client.post("/subscribe/briefing", data={})
    assert empty.status_code == 422 and "Please enter your email address." in empty.text
    long_name = client.post(
        "/subscribe/briefing", data={"email": "a@example.org", "name": "n" * 201}
    )
    assert long_name.status_code == 422 and "shorten your name" in long_name.text
    assert outbox_files(settings) == []
    for method in (client.get, client.post):
        missing = method("/subscribe/no-such-list")
        assert missing.status_code == 404
        assert "We could not find that newsletter" in missing.text


def test_subscribe_is_rate_limited_per_ip(
    client: TestClient, session: Session, settings: Settings, briefing_list: str
) -> None:
    for n in range(5):
        ok = client.post("/subscribe/briefing", data={"email": f"r{n}@example.org"})
        assert ok.status_code == 200
    limited = client.post("/subscribe/briefing", data={"email": "r5@example.org"})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert get_subscriber(session, "r5@example.org") is None
    assert len(outbox_files(settings)) == 5


def test_confirmation_mails_per_address_are_limited(
    client: TestClient, session: Session, settings: Settings, briefing_list: str
) -> None:
    """Asking again re-sends the link, but no address gets more than three an hour (no flooding
    someone's inbox through our form), and the answer stays the same."""
    for _ in range(4):
        answer = client.post("/subscribe/briefing", data={"email": "target@example.org"})
        assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert len(outbox_files(settings)) == 3
    assert status_on(session, "target@example.org", "briefing") == SubscriptionStatus.PENDING


# ------------------------------------------------------------------------------------------------
# Archive
# ------------------------------------------------------------------------------------------------


def test_archive_lists_only_sent_issues(
    client: TestClient, session: Session, sent: Sent, tmp_path: Path
) -> None:
    draft_file = tmp_path / "draft.md"
    draft_file.write_text(
        DRAFT_SOURCE.read_text(encoding="utf-8").replace("date: 2025-04-09", "date: 2025-04-16"),
        encoding="utf-8",
    )
    draft = import_issue(session, draft_file)
    session.commit()
    assert draft.slug != sent.room.issue_slug
    index = client.get("/archive")
    assert index.status_code == 200
    assert f'href="/archive/{sent.room.issue_slug}"' in index.text
    assert f'href="/archive/{sent.room.issue_slug}.pdf"' in index.text
    assert draft.slug not in index.text
    assert client.get(f"/archive/{draft.slug}").status_code == 404
    assert client.get(f"/archive/{draft.slug}.pdf").status_code == 404
    assert client.get("/").headers["location"] == "/archive"


def test_email_links_open_the_web_edition_and_the_pdf(
    client: TestClient, session: Session, sent: Sent
) -> None:
    msg = sent.messages[0]
    html = html_part(msg)
    slug = sent.room.issue_slug
    view = re.search(r'href="([^"]+)"[^>]*>\s*View in browser', html)
    pdf = re.search(r'href="([^"]+)"[^>]*>\s*Download the PDF', html)
    assert view and pdf

    def followed(url: str) -> str:  # links are tracked: a redirect to the issue's own URL
        response = client.get(path_of(url))
        assert response.status_code == 302
        return str(response.headers["location"])

    assert followed(view.group(1)) == f"{BASE}/archive/{slug}"
    assert followed(pdf.group(1)) == f"{BASE}/archive/{slug}.pdf"
    text_pdf = re.search(r"Download the PDF edition:\s+(\S+)", text_part(msg))
    assert text_pdf and followed(text_pdf.group(1)) == f"{BASE}/archive/{slug}.pdf"

    web = client.get(f"/archive/{slug}")
    assert web.status_code == 200
    assert web.headers["content-type"].startswith("text/html")
    text = visible(web.text)
    campaign = session.scalar(select(Campaign).where(Campaign.status == CampaignStatus.DONE))
    assert campaign is not None
    for needle in ("Executive summary", "Talk to Fausto", "Download the PDF edition"):
        assert needle in text
    # A neutral reader: nobody's address, no personal links, a subscribe link instead.
    for m in sent.messages:
        assert recipient(m) not in web.text
    assert "/u/" not in web.text and "unsubscribe" not in web.text.lower()
    assert "/r/" not in web.text and "tracked" not in web.text  # the archive tracks no one
    assert "archive.invalid" not in web.text
    assert 'href="/subscribe/briefing"' in web.text
    assert "You are reading the web edition of Security Chatter" in text
    assert "script-src" not in web.headers["content-security-policy"]
    assert "default-src 'none'" in web.headers["content-security-policy"]

    pdf_answer = client.get(f"/archive/{slug}.pdf")
    assert pdf_answer.status_code == 200
    assert pdf_answer.headers["content-type"] == "application/pdf"
    assert pdf_answer.content.startswith(b"%PDF")
    assert 'filename="MI-SecurityChatter-040925.pdf"' in pdf_answer.headers["content-disposition"]
    attached = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert attached and attached[0].get_content() == pdf_answer.content  # the very edition mailed


def test_every_archive_answer_is_revalidated_so_a_corrected_issue_is_never_stale(
    client: TestClient, sent: Sent
) -> None:
    """A browser or proxy may keep the index, the web edition and the PDF edition, but must ask
    again before showing them (`no-cache`): an issue corrected and sent again is seen at once."""
    slug = sent.room.issue_slug
    for path in ("/archive", f"/archive/{slug}", f"/archive/{slug}.pdf"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["cache-control"] == "no-cache", (path, answer.headers)


def test_an_issue_corrected_after_its_send_shows_the_correction_in_the_archive(
    client: TestClient, sent: Sent, tmp_path: Path
) -> None:
    """`mailer issue import --replace` over a sent issue says the archive would show the new
    text, and the README that a corrected issue is never shown stale: the web edition and the
    PDF edition showed the campaign's stored rendering, the text before the correction."""
    slug = sent.room.issue_slug
    before_html = client.get(f"/archive/{slug}").text
    before_pdf = client.get(f"/archive/{slug}.pdf").content
    assert "eight Territorial Coordination offices" in before_html
    corrected = tmp_path / BRIEFING.name
    corrected.write_text(
        BRIEFING.read_text(encoding="utf-8").replace(
            "eight Territorial Coordination offices", "nine Territorial Coordination offices"
        ),
        encoding="utf-8",
    )
    refused = runner.invoke(app, ["issue", "import", str(corrected)])
    assert refused.exit_code == 1
    assert "its readers keep the mail they got, and the archive" in str(refused.exception)
    replaced = runner.invoke(app, ["issue", "import", str(corrected), "--replace"])
    assert replaced.exit_code == 0, replaced.output
    after_html = client.get(f"/archive/{slug}").text
    assert "nine Territorial Coordination offices" in after_html
    assert "eight Territorial Coordination offices" not in after_html
    after_pdf = client.get(f"/archive/{slug}.pdf")
    assert after_pdf.status_code == 200 and after_pdf.content.startswith(b"%PDF")
    assert after_pdf.content != before_pdf


# ------------------------------------------------------------------------------------------------
# Security
# ------------------------------------------------------------------------------------------------


def test_pages_carry_security_headers_and_load_only_our_css(client: TestClient, sent: Sent) -> None:
    paths = [
        "/archive",
        "/subscribe/briefing",
        path_of(unsubscribe_url(sent.messages[0])),
        "/u/not-a-token",
        "/archive/nothing-here",
    ]
    for path in paths:
        answer = client.get(path)
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["referrer-policy"] == "same-origin", path
        csp = answer.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp and "http" not in csp, path
        assert "<script" not in answer.text and "style=" not in answer.text, path
        assert '<link rel="stylesheet" href="/static/site.css">' in answer.text
    css = client.get("/static/site.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "#0E2A47" in css.text and "Georgia" in css.text
    for escape in ("/static/..%2Fbase.html.j2", "/static/../base.html.j2", "/static/nope.css"):
        assert client.get(escape).status_code == 404


def test_garbage_never_causes_a_server_error(client: TestClient, sent: Sent) -> None:
    token = unsubscribe_url(sent.messages[0]).rsplit("/", 1)[1]
    requests = [
        ("GET", "/u/" + "9" * 300 + "-" + "a" * 16, {}),
        ("GET", "/u/zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz-aaaaaaaaaaaaaaaa", {}),
        ("POST", f"/u/{token}", {"content": b"x" * 20000}),
        (
            "POST",
            f"/u/{token}",
            {
                "content": b"--b\r\nbroken",
                "headers": {"Content-Type": "multipart/form-data; boundary=b"},
            },
        ),
        ("POST", f"/u/{token}/preferences", {"content": b"%%%", "headers": SAME_ORIGIN}),
        ("POST", "/subscribe/briefing", {"content": b"email=%ff%fe&name=%00"}),
        ("POST", "/subscribe/" + "a" * 500, {"data": {"email": "a@example.org"}}),
        ("GET", "/archive/" + "x" * 1000, {}),
        ("GET", "/archive/%00.pdf", {}),
        ("GET", "/confirm/" + "a" * 300, {}),
        ("POST", "/confirm/garbage", {"content": b"\x00\x01"}),
    ]
    for method, path, kwargs in requests:
        answer = client.request(method, path, **kwargs)
        assert 400 <= answer.status_code < 500, (method, path, answer.status_code)
    # A valid address with a NUL in the name: accepted, the NUL dropped (PostgreSQL refuses it).
    ok = client.post("/subscribe/briefing", content=b"email=nul%40example.org&name=A%00B")
    assert ok.status_code == 200
