"""The pages a subscriber opens from an issue speak the subscriber's language, through the app's
real test client against a campaign really sent by `mailer send`: the unsubscribe page and its
answer, the preference centre, the archive index and the error pages a cut or altered link
leads to. Each test reads what a Spanish, Portuguese or French reader sees (the page's text and
its `lang`), and that an English reader's pages are as they were.

Which language: the subscriber's own `language`, else the issue's (the newsletter they read),
else English; a page that knows no reader (a link altered, the archive) follows the browser's
Accept-Language."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from mailer import tokens
from mailer.settings import Settings
from subscribers.lifecycle import get_subscriber
from subscribers.lists import create_list
from tests.web_support import (
    Sent,
    alter_one_char,
    recipient,
    send_fixture_issue,
    unsubscribe_url,
    web_app,
)

BASE = "https://news.example.com"
SAME_ORIGIN = {"Origin": BASE}

# What a reader of each language reads on the unsubscribe page of the fixture issue (Security
# Chatter of 9 April 2025), then after the one-click button, then after saving preferences.
PAGE = {
    "es": (
        "¿Cancelar la suscripción a Security Chatter?",
        "Está a punto de dejar de recibir Security Chatter en la dirección",
        "Abrió esta página desde el número del 9 de abril de 2025",
        "Sus preferencias",
        "Seguimiento de enlaces",
        "Guardar preferencias",
        "Archivo de números anteriores",
    ),
    "pt": (
        "Cancelar a inscrição em Security Chatter?",
        "Você está prestes a deixar de receber Security Chatter no endereço",
        "Você abriu esta página a partir da edição de 9 de abril de 2025",
        "Suas preferências",
        "Rastreamento de links",
        "Salvar preferências",
        "Arquivo de edições anteriores",
    ),
    "fr": (
        "Se désabonner de Security Chatter ?",
        "Vous êtes sur le point de ne plus recevoir Security Chatter à l’adresse",
        "Vous avez ouvert cette page depuis le numéro du 9 avril 2025",
        "Vos préférences",
        "Suivi des liens",
        "Enregistrer mes préférences",
        "Archives des numéros précédents",
    ),
}
UNSUBSCRIBED = {
    "es": ("Su suscripción está cancelada", "ya no recibirá Security Chatter."),
    "pt": ("Sua inscrição foi cancelada", "não receberá mais Security Chatter."),
    "fr": ("Votre désabonnement est enregistré", "ne recevra plus Security Chatter."),
}
SAVED = {
    "es": ("Sus preferencias se han guardado", "No registraremos sus clics."),
    "pt": ("Suas preferências foram salvas", "Seus cliques não serão rastreados."),
    "fr": ("Vos préférences sont enregistrées", "Vos clics ne seront pas suivis."),
}
# The English pages' wording: none of it may reach the readers above.
ENGLISH = (
    "Unsubscribe from",
    "You are about to stop",
    "You opened this page",
    "Your preferences",
    "Save preferences",
    "Archive of past issues",
    "Skip to content",
    "April",
    "You are unsubscribed",
    "will no longer receive",
    "Your clicks will not be tracked",
    "Past issues",
    "PDF edition",
)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(web_app(), base_url=BASE, follow_redirects=False) as c:
        yield c


@pytest.fixture
def sent(session: Session, settings: Settings) -> Sent:
    return send_fixture_issue(session, settings)


def visible(html: str) -> str:
    """The page's text as a reader sees it: inline marks (bold, links) split no words."""
    inline = re.sub(r"</?(?:strong|em|a|span|wbr)\b[^>]*>", "", html)
    return " ".join(re.sub(r"<[^>]+>", " ", inline).split())


def path_of(url: str) -> str:
    assert url.startswith(BASE + "/"), url
    return url.removeprefix(BASE)


def reader_speaking(session: Session, sent: Sent, lang: str | None) -> tuple[str, str]:
    """(address, unsubscribe path) of a reader of the fixture campaign, their language set."""
    msg = sent.messages[0]
    subscriber = get_subscriber(session, recipient(msg))
    assert subscriber is not None
    subscriber.language = lang
    session.commit()
    return recipient(msg), path_of(unsubscribe_url(msg))


def english_left(text: str) -> list[str]:
    """The English page wording in `text`, outside the (English) issue's own title."""
    text = text.replace("Security Chatter — 9 April 2025", "")
    return [s for s in ENGLISH if s in text]


@pytest.mark.parametrize("lang", ["es", "pt", "fr"])
def test_a_reader_unsubscribes_and_sets_preferences_in_their_language(
    client: TestClient, session: Session, sent: Sent, lang: str
) -> None:
    who, url = reader_speaking(session, sent, lang)
    # Their browser asks for English: the page still speaks to the reader the link was mailed to.
    page = client.get(url, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.text
    text = visible(page.text)
    for expected in PAGE[lang]:
        assert expected in text, expected
    assert who in text
    assert english_left(text) == []

    saved = client.post(
        f"{url}/preferences",
        data={"form": "preferences", "keep": ["briefing"], "language": lang},
        headers=SAME_ORIGIN,
    )
    assert saved.status_code == 200
    said = visible(saved.text)
    for expected in SAVED[lang]:
        assert expected in said, expected
    assert english_left(said) == []

    done = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert f'<html lang="{lang}">' in done.text
    answer = visible(done.text)
    for expected in UNSUBSCRIBED[lang]:
        assert expected in answer, expected
    assert english_left(answer) == []


def test_an_english_reader_sees_the_pages_as_before(
    client: TestClient, session: Session, sent: Sent
) -> None:
    """A reader without a language, of an English issue, reads English whatever their browser
    asks for: the pages speak to the reader, not to whoever opened the link."""
    who, url = reader_speaking(session, sent, None)
    page = client.get(url, headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert '<html lang="en">' in page.text
    text = visible(page.text)
    for expected in (
        "Unsubscribe from Security Chatter?",
        "You are about to stop Security Chatter being sent to",
        "You opened this page from the issue of 9 April 2025",
        "Your preferences",
        "Keep receiving",
        "Save preferences",
        "Archive of past issues",
    ):
        assert expected in text, expected
    done = client.post(url, data={"List-Unsubscribe": "One-Click"})
    answer = visible(done.text)
    assert "You are unsubscribed" in answer
    assert f"{who} will no longer receive Security Chatter." in answer


def test_a_translated_page_still_escapes_what_it_repeats(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """A list name with markup is shown as text inside the Spanish sentence, not as markup."""
    sent = send_fixture_issue(session, settings, rename_list="Seguridad <script>x()</script> & Co")
    _, url = reader_speaking(session, sent, "es")
    page = client.get(url)
    assert "<script>x()" not in page.text
    assert "<strong>Seguridad &lt;script&gt;x()&lt;/script&gt; &amp; Co</strong>" in page.text
    shown = html.unescape(visible(page.text))  # what the browser prints
    assert "¿Cancelar la suscripción a Seguridad <script>x()</script> & Co?" in shown


@pytest.mark.parametrize(
    ("accept", "lang", "invalid", "unknown"),
    [
        (
            "es-MX,es;q=0.9,en;q=0.5",
            "es",
            "Este enlace no es válido",
            "No encontramos este mensaje",
        ),
        ("pt-BR, en;q=0.3", "pt", "Este link não é válido", "Não encontramos esta mensagem"),
        ("fr-CA, en;q=0.3", "fr", "Ce lien n’est pas valide", "Nous n’avons pas trouvé ce message"),
        ("", "en", "This link is not valid", "We could not find this message"),
    ],
)
def test_a_cut_or_altered_link_is_explained_in_the_browsers_language(
    client: TestClient,
    sent: Sent,
    settings: Settings,
    accept: str,
    lang: str,
    invalid: str,
    unknown: str,
) -> None:
    token = unsubscribe_url(sent.messages[0]).rsplit("/", 1)[1]
    headers = {"Accept-Language": accept} if accept else {}
    for answer in (
        client.get(f"/u/{alter_one_char(token)}", headers=headers),
        client.post(f"/u/{token[:-3]}", data={"List-Unsubscribe": "One-Click"}, headers=headers),
    ):
        assert answer.status_code == 400
        assert f'<html lang="{lang}">' in answer.text
        assert invalid in visible(answer.text)
    missing = tokens.delivery_token(999_999, settings.secret())
    answer = client.get(f"/u/{missing}", headers=headers)
    assert answer.status_code == 404
    assert unknown in visible(answer.text)
    tracked = client.get(f"/r/{alter_one_char(token)}", headers=headers)
    assert tracked.status_code == 404
    assert f'<html lang="{lang}">' in tracked.text


@pytest.mark.parametrize(
    ("accept", "lang", "expected"),
    [
        ("pt-BR,pt;q=0.9", "pt", ("Edições anteriores", "9 de abril de 2025", "Ler online")),
        ("fr", "fr", ("Numéros précédents", "9 avril 2025", "Lire en ligne", "Édition PDF")),
        ("es", "es", ("Números anteriores", "9 de abril de 2025", "Leer en línea")),
        ("de, en;q=0.5", "en", ("Past issues", "9 April 2025", "Read online", "PDF edition")),
    ],
)
def test_the_archive_index_follows_the_browsers_language(
    client: TestClient, sent: Sent, accept: str, lang: str, expected: tuple[str, ...]
) -> None:
    answer = client.get("/archive", headers={"Accept-Language": accept})
    assert answer.status_code == 200
    assert f'<html lang="{lang}">' in answer.text
    assert "Accept-Language" in answer.headers["Vary"]  # a cache keeps one copy per language
    text = visible(answer.text)
    for words in expected:
        assert words in text, words
    if lang != "en":
        assert english_left(text) == [] and "Read online" not in text


@pytest.mark.parametrize(
    ("accept", "lang", "form", "answer", "refused"),
    [
        (
            "es-419,es;q=0.9",
            "es",
            ("Security Chatter por correo, de", "Correo electrónico", "Nombre (opcional)"),
            ("Revise su bandeja de entrada", "Si ana@example.org puede recibir nuestro correo"),
            "Escriba su dirección de correo.",
        ),
        (
            "pt-PT",
            "pt",
            ("Security Chatter por e-mail, de", "Endereço de e-mail", "Nome (opcional)"),
            ("Verifique sua caixa de entrada", "Se ana@example.org puder receber nossos e-mails"),
            "Informe seu endereço de e-mail.",
        ),
        (
            "fr-BE, en;q=0.2",
            "fr",
            ("Security Chatter par e-mail, de", "Adresse e-mail", "Nom (facultatif)"),
            ("Consultez votre boîte de réception", "Si ana@example.org peut recevoir nos e-mails"),
            "Veuillez saisir votre adresse e-mail.",
        ),
        (
            "",
            "en",
            ("Security Chatter by email, from", "Email address", "Name (optional)"),
            ("Check your inbox", "If ana@example.org can receive our mail"),
            "Please enter your email address.",
        ),
    ],
)
def test_the_subscribe_form_and_its_answer_follow_the_browsers_language(
    client: TestClient,
    session: Session,
    accept: str,
    lang: str,
    form: tuple[str, ...],
    answer: tuple[str, ...],
    refused: str,
) -> None:
    create_list(session, "briefing", "Security Chatter")
    session.commit()
    headers = {"Accept-Language": accept} if accept else {}
    page = client.get("/subscribe/briefing", headers=headers)
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
    assert "Accept-Language" in page.headers["Vary"]
    for words in form:
        assert words in visible(page.text), words
    empty = client.post("/subscribe/briefing", data={"email": ""}, headers=headers)
    assert empty.status_code == 422 and refused in visible(empty.text)
    done = client.post("/subscribe/briefing", data={"email": "ana@example.org"}, headers=headers)
    assert done.status_code == 200 and f'<html lang="{lang}">' in done.text
    for words in answer:
        assert words in visible(done.text), words
