"""Reports, the partner's digest, opens, the preferences opt-out and GDPR, in-process on SQLite
and PostgreSQL, on a campaign really sent by `mailer send`; the digest goes to a real relay."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer import tokens
from mailer.cli import app
from mailer.db import get_sessionmaker, utcnow
from mailer.engagement import clicks, digest, reports
from mailer.engagement.models import Click, DigestStatus, Open, PartnerDigest
from mailer.engagement.tasks import send_due
from mailer.errors import MailerError
from mailer.sending.models import Campaign, Delivery, DeliveryStatus
from mailer.sending.transport import make_transport
from mailer.settings import Settings, get_settings, reset_settings
from subscribers.lifecycle import get_subscriber, unsubscribe_from_list
from subscribers.lists import get_list
from subscribers.models import Subscriber
from tests.engagement.support import Mailed, delivered_a_minute_ago, send_linked_issue
from tests.smtpd import SMTPServer
from tests.web_support import html_part, parse, text_part, unsubscribe_url

runner = CliRunner()
BASE = "https://news.example.com"
PARTNER = "fausto.carbajal@miranda-partners.com"
# Sample readers (subscribers-sample.csv) and what they click: (email, link indices).
READS = [
    ("valeria.gonzalez0@example.com", [1, 2]),  # Ferrocarriles del Golfo
    ("jose.rivera1@example.org", [1]),  # Acme Mining SA de CV
    ("ricardo.diaz2@example.org", [8]),  # Banco del Norte
    ("ricardo.hernandez3@example.org", [3]),  # Banco del Norte, opted out (below)
]


def mailer(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


@pytest.fixture
def mailed(session: Session, settings: Settings) -> Mailed:
    return send_linked_issue(session, settings)


def delivery_of(session: Session, email: str) -> Delivery:
    found = session.scalar(
        select(Delivery)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Subscriber.email == email)
    )
    assert found is not None
    return found


def read(session: Session, settings: Settings) -> int:
    """The readers of READS follow their links, a minute apart (people, not scanners)."""
    delivered_a_minute_ago(session)
    minter = tokens.Minter(tokens.CLICK, settings.secret())
    when = utcnow()
    for email, indices in READS:
        d = delivery_of(session, email)
        for index in indices:
            token = minter.sign(tokens.click_payload(d.id, index))
            when += timedelta(minutes=1)
            assert clicks.follow(session, token, settings.verification_secrets(), now=when).human
    session.commit()
    return delivery_of(session, READS[0][0]).campaign_id


def replied(session: Session, email: str) -> None:
    """A reply of the reader to the campaign's message, as the inbound stage records it."""
    from mailer.inbound.models import InboundMessage, Inquiry

    d = delivery_of(session, email)
    inbound = InboundMessage(
        rcpt_to=f"reply+x@{get_settings().mail_domain}",
        address_kind="reply",
        delivery_id=d.id,
        subscriber_id=d.subscriber_id,
        size=10,
        raw=b"Subject: hi\r\n\r\nCall me?\r\n",
    )
    session.add(inbound)
    session.flush()
    issue = session.get(Campaign, d.campaign_id).issue  # type: ignore[union-attr]
    session.add(
        Inquiry(
            inbound_message_id=inbound.id,
            subscriber_id=d.subscriber_id,
            delivery_id=d.id,
            campaign_id=d.campaign_id,
            issue_id=issue.id,
            partner_id=issue.partner_id,
            client_email=email,
            forward_message_id=f"<fwd{inbound.id}@news.example.com>",
        )
    )


def test_report_counts_clickers_and_clicks_per_item(
    mailed: Mailed, session: Session, settings: Settings
) -> None:
    cid = read(session, settings)
    e = reports.campaign_engagement(session, cid)
    assert e.delivered == len(mailed.by_rcpt) and e.unique_clickers == 4
    assert {link.title.split(":")[0]: link.clickers for link in e.links if link.clickers} == {
        "Item 1": 2,
        "Item 2": 1,
        "Item 3": 1,
        "More information": 1,
    }
    assert e.opens is None  # no pixel by default
    assert "/o/" not in html_part(mailed.by_rcpt[READS[0][0]])
    out = mailer("report", str(cid))
    assert f"clickers  4 unique ({4 / e.delivered:.1%} of delivered)" in out
    assert "clicks per item" in out


def test_unsubscribes_after_the_message_are_counted(
    mailed: Mailed, session: Session, settings: Settings
) -> None:
    cid = read(session, settings)
    unsubscribe_from_list(session, get_list(session, "briefing"), READS[2][0], "asked")
    session.commit()
    assert reports.campaign_engagement(session, cid).unsubscribes == 1


def test_an_unsubscribe_is_counted_against_the_campaign_it_followed_only(
    mailed: Mailed, session: Session, settings: Settings
) -> None:
    """One reader unsubscribing after two campaigns of the list was counted by both ("1
    unsubscribed after this campaign" on each): it belongs to the last one they got before it."""
    first = read(session, settings)
    session.execute(
        update(Delivery).values(sent_at=utcnow() - timedelta(hours=2))
    )  # the first campaign went out earlier
    session.commit()
    again = runner.invoke(
        app, ["send", mailed.issue_slug, "--list", mailed.list_slug, "--force-resend", "--yes"]
    )
    assert again.exit_code == 0, again.output
    second = session.scalar(select(func.max(Delivery.campaign_id)))
    assert second is not None and second != first
    unsubscribe_from_list(session, get_list(session, "briefing"), READS[2][0], "asked")
    session.commit()
    session.expire_all()
    assert reports.campaign_engagement(session, second).unsubscribes == 1
    assert reports.campaign_engagement(session, first).unsubscribes == 0
    assert "unsubscribes 0" in mailer("report", str(first))


def test_the_digest_lists_who_engaged_by_company_once(
    mailed: Mailed, session: Session, settings: Settings
) -> None:
    cid = read(session, settings)
    opted = get_subscriber(session, READS[3][0])
    assert opted is not None
    opted.tracking_opt_out = True
    unsubscribe_from_list(session, get_list(session, "briefing"), READS[2][0], "asked")
    replied(session, "laura.morales9@example.mx")  # a reader who only wrote back
    session.commit()
    preview = mailer("digest", "send", str(cid), "--preview")
    assert f"To: Fausto Carbajal Glass <{PARTNER}>" in preview
    with SMTPServer() as relay:
        transport = make_transport(relay.url)
        first = digest.send_digest(get_sessionmaker(), cid, settings, transport)
        again = digest.send_digest(get_sessionmaker(), cid, settings, transport)
        transport.close()
        assert first.sent and first.readers == 4 and not again.sent
        [got] = relay.sink.received
    assert got.rcpt_tos == [PARTNER]
    body = text_part(parse(got.data))
    companies = [
        line
        for line in body.splitlines()
        if line in ("Acme Mining SA de CV", "Banco del Norte", "Ferrocarriles del Golfo")
    ]
    assert companies == ["Acme Mining SA de CV", "Banco del Norte", "Ferrocarriles del Golfo"]
    assert body.count("clicked: Item 1:") == 2 and "clicked: More information" in body
    assert "unsubscribed" in body
    assert "laura.morales9@example.mx" in body and "replied: 1 message (forwarded to you)" in body
    assert READS[3][0] not in body and "Item 3" not in body  # opted out: never listed
    assert f"{BASE}/admin/campaigns/{cid}" in body and f"{BASE}/admin/subscribers/" in body
    assert "Item 3" not in preview and READS[3][0] not in preview
    # By hand afterwards: refused, nothing sent twice.
    assert "already sent" in mailer("digest", "send", str(cid))
    assert session.scalar(select(func.count()).select_from(PartnerDigest)) == 1


def test_the_digest_names_a_reader_by_address_whatever_their_name_holds(
    mailed: Mailed, session: Session, settings: Settings
) -> None:
    """A name holding a quote and another address was printed as
    `* Evil" <attacker@evil.com>, "x <q1@example.com>`: which is the reader? The address now
    leads the reader's entry and the name has a line of its own; a bidi override stored in a
    name before the doors dropped them does not reach the partner either."""
    cid = read(session, settings)
    reader = get_subscriber(session, READS[0][0])
    assert reader is not None
    reader.name = 'Evil" <attacker@evil.com>, "x\u202e'
    session.commit()
    preview = mailer("digest", "send", str(cid), "--preview")
    assert "\u202e" not in preview
    assert f'* {READS[0][0]}\n    name: Evil" <attacker@evil.com>, "x\n' in preview
    bullets = [line for line in preview.splitlines() if line.startswith("* ")]
    assert len(bullets) == len(READS) and all(line[2:].count("@") == 1 for line in bullets)
    assert not any("attacker" in line for line in bullets)
    with SMTPServer() as relay:
        transport = make_transport(relay.url)
        assert digest.send_digest(get_sessionmaker(), cid, settings, transport).sent
        transport.close()
        [got] = relay.sink.received
    html = html_part(parse(got.data))
    assert f">{READS[0][0]}</a>" in html
    assert "<li>name: Evil&#34; &lt;attacker@evil.com&gt;, &#34;x</li>" in html


def test_the_digest_falls_due_after_the_delay(
    mailed: Mailed, session: Session, settings: Settings
) -> None:
    cid = read(session, settings)
    assert digest.due_campaigns(session, settings) == []  # 48 h by default
    session.execute(update(Campaign).values(finished_at=utcnow() - timedelta(hours=49)))
    session.commit()
    assert digest.due_campaigns(session, settings) == [cid]
    assert send_due() == 1 and send_due() == 0
    outbox = Path(get_settings().smtp_url.removeprefix("outbox://"))
    digests = [p for p in outbox.glob("digest.*.eml")]
    assert len(digests) == 1
    assert digest.due_campaigns(session, settings) == []


def test_a_stale_claim_is_taken_over_but_a_live_one_is_not(
    mailed: Mailed, session: Session, settings: Settings
) -> None:
    cid = read(session, settings)
    partner_id = session.get(Campaign, cid).issue.partner_id  # type: ignore[union-attr]
    assert digest.claim(session, cid, partner_id, "worker-a", stale_after=60)
    assert not digest.claim(session, cid, partner_id, "worker-b", stale_after=60)
    session.execute(update(PartnerDigest).values(claimed_at=utcnow() - timedelta(seconds=120)))
    session.commit()
    assert digest.claim(session, cid, partner_id, "worker-b", stale_after=60)


def outbox_digests() -> list[EmailMessage]:
    outbox = Path(get_settings().smtp_url.removeprefix("outbox://"))
    return [parse(p.read_bytes()) for p in sorted(outbox.glob("digest.*.eml"))]


def digest_row(session: Session) -> PartnerDigest | None:
    session.expire_all()
    return session.scalar(select(PartnerDigest))


def test_mailer_digest_send_sends_it_to_the_outbox_and_records_it(
    mailed: Mailed, session: Session, settings: Settings
) -> None:
    cid = read(session, settings)
    out = mailer("digest", "send", str(cid))
    assert f"digest of campaign {cid} sent to fausto-carbajal-glass (4 readers)" in out
    [got] = outbox_digests()
    assert got["To"].addresses[0].addr_spec == PARTNER
    body = text_part(got)
    assert "Ferrocarriles del Golfo" in body and f"{BASE}/admin/campaigns/{cid}" in body
    row = digest_row(session)
    assert row is not None and row.status == DigestStatus.SENT and row.readers == 4
    assert row.message_id == got["Message-ID"]
    again = mailer("digest", "send", str(cid))  # exit 0: what was asked is done
    assert "not sent: already sent to fausto-carbajal-glass on " in again
    assert len(outbox_digests()) == 1


def test_a_digest_that_fails_before_the_relay_gives_its_claim_back(
    mailed: Mailed, session: Session, settings: Settings
) -> None:
    """An error between the claim and the relay's answer (here the partner's address cannot be
    written in a header) leaves no claim: fixed, the digest goes at once, by hand or by tick."""
    cid = read(session, settings)
    campaign = session.get(Campaign, cid)
    assert campaign is not None
    partner = campaign.issue.partner
    partner.email = "fausto carbajal at miranda-partners.com"
    session.commit()
    result = runner.invoke(app, ["digest", "send", str(cid)])
    assert result.exit_code == 1 and isinstance(result.exception, MailerError)
    assert "not a usable email address" in str(result.exception)
    assert digest_row(session) is None
    session.execute(update(Campaign).values(finished_at=utcnow() - timedelta(hours=49)))
    session.commit()
    assert send_due() == 0 and digest_row(session) is None  # logged; the next tick tries again
    assert digest.due_campaigns(session, settings) == [cid]
    partner.email = PARTNER
    session.commit()
    assert send_due() == 1
    assert [m["To"].addresses[0].addr_spec for m in outbox_digests()] == [PARTNER]


def test_a_claim_left_by_a_killed_process_is_explained_then_taken_over_alike(
    mailed: Mailed, session: Session, settings: Settings
) -> None:
    """A process killed between the claim and the answer: the CLI says whose claim it is and
    from when it can be sent; the tick waits the same MAILER_STALE_AFTER, then either sends it."""
    cid = read(session, settings)
    campaign = session.get(Campaign, cid)
    assert campaign is not None
    session.execute(update(Campaign).values(finished_at=utcnow() - timedelta(hours=49)))
    claimed_at = utcnow()
    assert digest.claim(session, cid, campaign.issue.partner_id, "killed", stale_after=120)
    result = runner.invoke(app, ["digest", "send", str(cid)])
    assert result.exit_code == 1, result.output
    free_at = claimed_at + timedelta(seconds=settings.stale_after)
    assert "another mailer process has been sending it since" in result.output
    assert f"`mailer digest send {cid}` again from {free_at:%Y-%m-%d %H:%M}" in result.output
    assert "MAILER_STALE_AFTER=120 s" in result.output
    assert digest.due_campaigns(session, settings) == [] and send_due() == 0
    assert outbox_digests() == []
    session.execute(update(PartnerDigest).values(claimed_at=utcnow() - timedelta(seconds=121)))
    session.commit()
    assert digest.due_campaigns(session, settings) == [cid]
    assert "sent to fausto-carbajal-glass" in mailer("digest", "send", str(cid))
    assert len(outbox_digests()) == 1 and send_due() == 0


def test_a_refused_digest_is_not_retried_by_the_tick_but_by_hand(
    mailed: Mailed, session: Session, settings: Settings, relay: SMTPServer
) -> None:
    cid = read(session, settings)
    session.execute(update(Campaign).values(finished_at=utcnow() - timedelta(hours=49)))
    session.commit()
    relay.sink.refuse_all = "550 5.1.1 no such user"
    assert send_due() == 0
    row = digest_row(session)
    assert row is not None and row.status == DigestStatus.FAILED and "5.1.1" in row.last_reply
    assert digest.due_campaigns(session, settings) == []
    relay.sink.refuse_all = None
    assert send_due() == 0 and relay.sink.received == []
    assert "sent to fausto-carbajal-glass" in mailer("digest", "send", str(cid))
    assert relay.sink.to(PARTNER) and digest_row(session).status == DigestStatus.SENT  # type: ignore[union-attr]


def test_subscribers_show_and_the_gdpr_export_and_erasure(
    mailed: Mailed, session: Session, settings: Settings
) -> None:
    read(session, settings)
    email = READS[0][0]
    shown = mailer("subscribers", "show", email)
    assert "history:" in shown and "clicked: Item 1:" in shown
    # Each click on a line of its own words, not a Python dict ("{'campaign': 1, …}").
    clicks = shown.split("\nclicks:\n", 1)[1].splitlines()
    assert clicks and all(line.startswith("  campaign ") for line in clicks[:2]), clicks
    assert "{" not in shown and "'url'" not in shown
    assert " · url https://" in shown and " UTC · clicks 1" in shown
    exported = json.loads(mailer("subscribers", "export-data", email))
    assert {c["url"] for c in exported["clicks"]} >= {
        "https://elpais.com/mexico/2025-03-28/secretaria-de-seguridad-de-trump.html"
    }
    subscriber_id = exported["subscriber"]["id"]
    mailer("subscribers", "forget", email, "--yes")
    session.expire_all()
    assert session.scalar(select(func.count()).where(Click.subscriber_id == subscriber_id)) == 0
    assert session.scalar(select(func.count()).select_from(Click)) == 3  # the others' stay


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    from tests.web_support import web_app

    with TestClient(web_app(), base_url=BASE, follow_redirects=False) as c:
        yield c


def test_the_preferences_page_turns_tracking_off_and_forgets_clicks(
    mailed: Mailed, session: Session, settings: Settings, client: TestClient
) -> None:
    read(session, settings)
    email = READS[0][0]
    page = client.get(unsubscribe_url(mailed.by_rcpt[email]).removeprefix(BASE))
    assert 'name="tracking" value="yes" checked' in page.text
    saved = client.post(
        unsubscribe_url(mailed.by_rcpt[email]).removeprefix(BASE) + "/preferences",
        data={"form": "preferences", "keep": "briefing", "language": "en"},
        headers={"Origin": BASE},
    )
    assert saved.status_code == 200 and "Your clicks will not be tracked." in saved.text
    session.expire_all()
    subscriber = get_subscriber(session, email)
    assert subscriber is not None and subscriber.tracking_opt_out
    assert session.scalar(select(func.count()).where(Click.subscriber_id == subscriber.id)) == 0
    again = client.post(
        unsubscribe_url(mailed.by_rcpt[email]).removeprefix(BASE) + "/preferences",
        data={"form": "preferences", "keep": "briefing", "language": "en", "tracking": "yes"},
        headers={"Origin": BASE},
    )
    assert "Link tracking turned on." in again.text


def test_the_api_reports_engagement_and_history(
    mailed: Mailed, session: Session, settings: Settings, client: TestClient
) -> None:
    from mailer.accounts import create_token

    cid = read(session, settings)
    token, _row = create_token(session, "reporting", scopes=("read",))
    session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    got = client.get(f"/api/v1/campaigns/{cid}/engagement", headers=auth)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["unique_clickers"] == 4 and body["links"][1]["clickers"] == 2
    history = client.get(f"/api/v1/subscribers/{READS[0][0]}/history", headers=auth).json()
    assert history[0]["campaign_id"] == cid and len(history[0]["clicked"]) == 2
    assert client.get(f"/api/v1/campaigns/{cid}/engagement").status_code == 401


def test_opens_are_off_by_default_and_approximate_when_on(
    session: Session, settings: Settings, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_TRACK_OPENS", "true")
    reset_settings()
    mailed = send_linked_issue(session, settings)
    msg = mailed.by_rcpt[READS[0][0]]
    html = html_part(msg)
    pixel = html[html.index('<img src="https://news.example.com/o/') :].split('"')[1]
    assert "/o/" not in text_part(msg)
    got = client.get(pixel.removeprefix(BASE))
    assert got.status_code == 200 and got.headers["content-type"] == "image/gif"
    assert client.get(pixel.removeprefix(BASE)[:-1] + "x").status_code == 404
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Open)) == 1
    cid = delivery_of(session, READS[0][0]).campaign_id
    assert reports.campaign_engagement(session, cid).opens == 1
    assert "opens (approximate: mail clients prefetch images): 1" in mailer("report", str(cid))


def test_a_message_that_bounced_after_the_relay_took_it_is_sent_but_not_delivered(
    mailed: Mailed, session: Session, settings: Settings
) -> None:
    """The relay's 250 is not delivery: a reader whose mailbox turned out not to exist (a DSN
    returning our message, its headers included) was still counted "delivered" in the report,
    the campaign page and the API. It is sent, not delivered; a delay warning changes nothing."""
    from mailer.inbound.models import BounceEvent
    from tests.inbound_support import InboundServer, address, dsn

    gone, late = READS[0][0], READS[1][0]
    sent = len(mailed.by_rcpt)
    with InboundServer(settings) as server:
        for email, status in ((gone, "5.1.1"), (late, "4.4.7")):
            d = delivery_of(session, email)
            original = mailed.by_rcpt[email].as_bytes()
            server.send(
                "", [address("bounces", d.id, settings)], dsn(email, status, original=original)
            )
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(BounceEvent)) == 2
    cid = delivery_of(session, gone).campaign_id
    e = reports.campaign_engagement(session, cid)
    assert (e.sent, e.delivered) == (sent, sent - 1)
    out = mailer("report", str(cid))
    assert f"delivered {sent - 1} of {sent} sent (1 bounced after the relay took them)" in out
    campaign = session.get(Campaign, cid)
    assert campaign is not None
    built = digest.build_digest(session, cid, campaign.issue.partner, settings.public_url)
    assert built.delivered == sent - 1


def test_no_digest_for_a_campaign_that_sent_nothing(
    mailed: Mailed, session: Session, settings: Settings
) -> None:
    """Cancelled before its first message (every row skipped): the partner gets no digest, from
    the tick or by hand, since their issue reached no one."""
    cid = read(session, settings)
    session.execute(
        update(Delivery)
        .where(Delivery.campaign_id == cid)
        .values(status=DeliveryStatus.SKIPPED, sent_at=None, last_reply="campaign cancelled")
    )
    session.execute(update(Campaign).values(finished_at=utcnow() - timedelta(hours=49)))
    session.commit()
    assert digest.due_campaigns(session, settings) == []
    assert send_due() == 0
    out = mailer("digest", "send", str(cid))
    assert f"digest of campaign {cid} not sent: no message of campaign {cid} went out" in out
    assert outbox_digests() == [] and digest_row(session) is None
