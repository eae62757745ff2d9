"""The double opt-in in the reader's language, through a real SMTP server and the app's test
client: the confirmation email (subject, both parts, `lang`) and the pages its link opens are in
the subscriber's own language when we know it, else in the language of the browser that filled
in the form, else English — and an English reader's email reads exactly as before."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from mailer.sending import confirmations
from mailer.settings import Settings
from subscribers.lifecycle import add_subscriber, get_subscriber, subscribe_pending
from subscribers.lists import create_list
from subscribers.models import SubscriptionStatus
from tests.smtpd import SMTPServer
from tests.web_support import html_part, text_part, web_app

BASE = "https://news.example.com"

# What each reader reads: the subject, the greeting, the sentence that says why they got it, the
# button, then the confirm page, its button and the page after it.
READS = {
    "es": (
        "Confirme su suscripción a Security Chatter",
        "Hola, Ana:",
        "Alguien",
        "Confirmar mi suscripción",
        "El enlace es válido durante 7 días.",
        "¿Empezar a enviar Security Chatter a ana@example.org?",
        "Sí, suscribirme",
        "ana@example.org recibirá Security Chatter a partir del próximo número.",
    ),
    "pt": (
        "Confirme sua inscrição em Security Chatter",
        "Olá, Ana,",
        "Alguém",
        "Confirmar minha inscrição",
        "O link é válido por 7 dias.",
        "Começar a enviar Security Chatter para ana@example.org?",
        "Sim, quero me inscrever",
        "ana@example.org receberá Security Chatter a partir da próxima edição.",
    ),
    "fr": (
        "Veuillez confirmer votre abonnement à Security Chatter",
        "Bonjour Ana,",
        "Quelqu’un",
        "Confirmer mon abonnement",
        "Ce lien est valable 7 jours.",
        "Commencer à envoyer Security Chatter à ana@example.org ?",
        "Oui, je m’abonne",
        "ana@example.org recevra Security Chatter à partir du prochain numéro.",
    ),
}
ENGLISH = (
    "Hello",
    "Please confirm",
    "Confirm my",
    "Confirm your",
    "valid for",
    "Past issues",
    "Someone",
    "We will not send",
)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(web_app(), base_url=BASE, follow_redirects=False) as c:
        yield c


def flat(text: str) -> str:
    return " ".join(text.split())


def visible(html: str) -> str:
    inline = re.sub(r"</?(?:strong|em|a|span|wbr)\b[^>]*>", "", html)
    return flat(re.sub(r"<[^>]+>", " ", inline))


def confirm_link(text: str) -> str:
    link = re.search(r"https://news\.example\.com(/confirm/[a-z0-9-]+)", text)
    assert link is not None
    return link.group(1)


@pytest.mark.parametrize(
    ("accept", "lang"), [("es-MX,es;q=0.9", "es"), ("pt-BR", "pt"), ("fr", "fr")]
)
def test_a_browser_in_another_language_gets_the_email_and_pages_in_it(
    client: TestClient, session: Session, relay: SMTPServer, accept: str, lang: str
) -> None:
    create_list(session, "briefing", "Security Chatter")
    session.commit()
    browser = {"Accept-Language": accept}
    answer = client.post(
        "/subscribe/briefing", data={"email": "ana@example.org", "name": "Ana"}, headers=browser
    )
    assert answer.status_code == 200
    (got,) = relay.sink.wait_for(1, timeout=10)
    msg = got.message
    subject, hello, someone, button, valid, question, yes, done_text = READS[lang]
    assert msg["Subject"] == subject
    text, html = flat(text_part(msg)), html_part(msg)
    assert f'lang="{lang}"' in html
    shown = visible(html)
    for part in (text, shown):
        assert hello in part and valid in part and someone in part
        assert "ana@example.org" in part and "Security Chatter" in part
        assert not [w for w in ENGLISH if w in part.replace("Security Chatter", "")], part
    assert button in shown
    link = confirm_link(text)
    assert link in html

    page = client.get(link, headers=browser)
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
    assert question in visible(page.text) and yes in visible(page.text)
    done = client.post(link, headers=browser)
    assert done.status_code == 200 and done_text in visible(done.text)
    subscriber = get_subscriber(session, "ana@example.org")
    assert subscriber is not None
    assert [s.status for s in subscriber.subscriptions] == [SubscriptionStatus.ACTIVE]


def test_a_known_subscribers_own_language_wins_over_the_browser(
    client: TestClient, session: Session, settings: Settings, relay: SMTPServer
) -> None:
    """A French reader on one list subscribes to another from an English browser: the email and
    the page its link opens are French, as all their mail is."""
    other = create_list(session, "alerts", "Security Alerts")
    add_subscriber(session, other, "ana@example.org", settings.secret(), language="fr")
    create_list(session, "briefing", "Security Chatter")
    session.commit()
    english = {"Accept-Language": "en-US,en;q=0.9"}
    client.post("/subscribe/briefing", data={"email": "ana@example.org"}, headers=english)
    (got,) = relay.sink.wait_for(1, timeout=10)
    assert got.message["Subject"] == "Veuillez confirmer votre abonnement à Security Chatter"
    assert "Bonjour," in text_part(got.message)
    page = client.get(confirm_link(text_part(got.message)), headers=english)
    assert '<html lang="fr">' in page.text and "Confirmez votre abonnement" in page.text


def test_an_english_reader_gets_the_email_as_before(
    client: TestClient, session: Session, settings: Settings, relay: SMTPServer
) -> None:
    create_list(session, "briefing", "Security Chatter")
    session.commit()
    client.post("/subscribe/briefing", data={"email": "ana@example.org", "name": "Ana"})
    (got,) = relay.sink.wait_for(1, timeout=10)
    msg = got.message
    assert msg["Subject"] == "Please confirm your subscription to Security Chatter"
    text, shown = flat(text_part(msg)), visible(html_part(msg))
    assert 'lang="en"' in html_part(msg)
    assert "PLEASE CONFIRM YOUR SUBSCRIPTION" in text and "Hello Ana," in text
    assert (
        "Someone (we hope you) asked to receive Security Chatter from "
        f"{settings.firm_name} at ana@example.org." in text
    )
    assert "Someone — we hope you — asked to receive Security Chatter" in shown
    assert "The link is valid for 7 days." in text and "Confirm my subscription" in shown
    page = client.get(confirm_link(text_part(msg)))
    assert '<html lang="en">' in page.text and "Yes, subscribe me" in page.text


@pytest.mark.parametrize(
    ("accept", "lang", "expired"),
    [
        ("pt-BR", "pt", "Os links de confirmação são válidos por 7 dias."),
        ("es", "es", "Los enlaces de confirmación son válidos durante 7 días."),
        ("fr-FR", "fr", "Les liens de confirmation sont valables 7 jours."),
        ("", "en", "Confirmation links are valid for 7 days."),
    ],
)
def test_an_expired_or_altered_confirmation_link_is_explained_in_the_readers_language(
    client: TestClient, session: Session, settings: Settings, accept: str, lang: str, expired: str
) -> None:
    mlist = create_list(session, "briefing", "Security Chatter")
    sub = subscribe_pending(session, mlist, "late@example.org", settings.secret())
    session.commit()
    old = confirmations.confirm_token(
        sub.id, settings.secret(), issued_at=datetime.now(UTC) - timedelta(days=8)
    )
    headers = {"Accept-Language": accept} if accept else {}
    for answer in (
        client.get(f"/confirm/{old}", headers=headers),
        client.post(f"/confirm/{old}", headers=headers),
    ):
        assert answer.status_code == 410
        assert f'<html lang="{lang}">' in answer.text
        assert expired in visible(answer.text)
    good = confirmations.confirm_token(sub.id, settings.secret())
    altered = good[:-1] + ("a" if good[-1] != "a" else "b")
    refused = client.get(f"/confirm/{altered}", headers=headers)
    assert refused.status_code == 400 and f'<html lang="{lang}">' in refused.text
