"""An issue's fixed wording (its "chrome") is in the issue's language in every edition.

The Spanish sample issue is rendered for real (email HTML and text part, PDF edition, the public
web edition) and read as a reader reads it: every label, button and footer line in Spanish, not
one English one left; a French issue reads in French; an issue in a language without a table
reads in English.
"""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import date
from pathlib import Path

import pytest

from mailer.content.briefing import parse_briefing
from mailer.content.document import IssueContent
from mailer.content.markdown import parse_markdown
from mailer.rendering.chrome import CHROME, chrome_for, long_date_in
from mailer.rendering.context import issue_context
from mailer.rendering.email_edition import (
    Personal,
    Personalizer,
    RenderedIssue,
    html_visible_text,
    render_email_parts,
    render_issue,
)
from mailer.rendering.web_edition import web_edition
from mailer.settings import Settings
from tests.edition_images import sample_settings

SPANISH = Path(__file__).parent.parent / "data" / "issues" / "seguridad-es.md"
# The same issue as the firm's plain-text briefing ("Por …", "Descargar PDF: …"): no `lang:`
# and no title line, so both the language and the title are the parser's.
SPANISH_BRIEFING = SPANISH.with_name("panorama-seguridad-es.txt")
READER = Personal(
    email="ana.perez@client.example.com",
    name="Ana Pérez",
    unsubscribe_url="https://news.example.com/u/abc123",
    preferences_url="https://news.example.com/u/abc123/preferences",
    links=(),
)

# The English edition's fixed wording: none of it may reach a reader of a Spanish issue.
ENGLISH_CHROME = (
    "Executive summary",
    "In this issue",
    "Intelligence briefing",
    "Talk to the author",
    "Talk to Fausto",
    "Or simply reply to this email",
    "Download the PDF",
    "PDF edition",
    "More information",
    "You receive this briefing",
    "This copy was sent to",
    "Manage preferences",
    "Unsubscribe",
    "View in browser",
    "Source:",
    " of 2",
    "By Fausto",
    "April",
    "Online edition",
    "Page ",
    "Subscribe",
    "Past issues",
    "All issues",
    "You are reading the web edition",
    "Links in this email are tracked",
)

SPANISH_CHROME = (
    "Resumen ejecutivo",
    "En este número",
    "Informe de inteligencia · 9 de abril de 2025",
    "Por Fausto Carbajal Glass, Socio, Miranda Delphi Solutions",
    "1 de 2",
    "Fuente: La Razón, 4 de abril de 2025, Redacción:",
)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "edition.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
    )
    return " ".join(out.stdout.decode("utf-8").split())


def flat(text: str) -> str:
    return " ".join(text.split())


def english_left(text: str, content: IssueContent) -> list[str]:
    """The English chrome strings in `text`, outside the issue's own words."""
    own = flat(" ".join([content.call_to_action, content.summary]))
    return [s for s in ENGLISH_CHROME if s in text and s not in own]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return sample_settings("A4")


@pytest.fixture(scope="module")
def spanish() -> IssueContent:
    return parse_markdown(SPANISH.read_text(encoding="utf-8"), path=str(SPANISH))


@pytest.fixture(scope="module")
def rendered(spanish: IssueContent, settings: Settings) -> RenderedIssue:
    return render_issue(spanish, settings)


@pytest.fixture(scope="module")
def mailed(rendered: RenderedIssue) -> tuple[str, str]:
    """The issue as a reader whose links are tracked gets it (the footer says so)."""
    links = tuple(f"https://news.example.com/r/{n}" for n in range(len(rendered.links)))
    return Personalizer(rendered).render(dataclasses.replace(READER, links=links))


def test_the_spanish_email_reads_in_spanish(spanish: IssueContent, mailed: tuple[str, str]) -> None:
    text = html_visible_text(mailed[0])
    for expected in (
        *SPANISH_CHROME,
        "Hable con quien firma",
        "Hable con Fausto",
        "Descargar la edición en PDF",
        "Más información",
        "Recibe este informe porque se suscribió a Panorama de Seguridad de Miranda Delphi",
        "Gestionar preferencias",
        "Cancelar suscripción",
        "Ver en el navegador",
        "Los enlaces de este correo se registran para que Fausto sepa qué temas le interesan",
    ):
        assert expected in text, expected
    assert english_left(text, spanish) == []


def test_the_spanish_text_part_reads_in_spanish(
    spanish: IssueContent, mailed: tuple[str, str]
) -> None:
    text = flat(mailed[1])
    for expected in (
        *SPANISH_CHROME,
        "Hable con Fausto",
        "O simplemente responda a este correo: su mensaje le llega a Fausto.",
        "Descargar la edición en PDF:",
        "Esta copia se envió a: Ana Pérez (ana.perez@client.example.com)",
        "Gestionar preferencias: https://news.example.com/u/abc123/preferences",
        "Cancelar suscripción: https://news.example.com/u/abc123",
        "Ver en el navegador:",
        "puede desactivarlo en Gestionar preferencias.",
    ):
        assert expected in text, expected
    assert english_left(text, spanish) == []


def test_the_spanish_pdf_reads_in_spanish(
    spanish: IssueContent, rendered: RenderedIssue, tmp_path: Path
) -> None:
    text = pdf_text(rendered.pdf, tmp_path)
    for expected in (*SPANISH_CHROME, "Hable con Fausto", "Página 1 de 2", "Edición en línea:"):
        assert expected.casefold() in text.casefold(), expected  # labels print in capitals
    left = [s for s in ENGLISH_CHROME if s.casefold() in text.casefold()]
    assert left == []


def test_the_spanish_web_edition_reads_in_spanish(
    spanish: IssueContent, rendered: RenderedIssue
) -> None:
    page = web_edition(
        rendered.html_template,
        archive_url="https://news.example.com/archive/panorama-de-seguridad-2025-04-09",
        subscribe_url="/subscribe/seguridad",
        pdf_url="/archive/panorama-de-seguridad-2025-04-09.pdf",
        newsletter=spanish.newsletter,
        firm="Miranda Delphi Solutions",
    )
    text = html_visible_text(page)
    for expected in (
        "Suscribirse",
        "Números anteriores",
        "Todos los números",
        "Edición en PDF",
        "Está leyendo la edición web de Panorama de Seguridad, de Miranda Delphi Solutions.",
    ):
        assert expected in text, expected
    assert english_left(text, spanish) == []


def test_a_french_issue_reads_in_french_and_an_untabled_language_in_english(
    spanish: IssueContent, settings: Settings
) -> None:
    french = dataclasses.replace(spanish, extra={**spanish.extra, "lang": "fr"})
    html, text = Personalizer(render_issue(french, settings)).render(READER)
    assert "Résumé" in html_visible_text(html)
    assert "Se désabonner" in text
    german = dataclasses.replace(spanish, extra={**spanish.extra, "lang": "de"})
    html, text = Personalizer(render_issue(german, settings)).render(READER)
    assert "Executive summary" in html_visible_text(html)
    assert "Unsubscribe:" in text


def test_every_language_has_every_string_with_the_same_placeholders() -> None:
    english = CHROME["en"]
    for lang, table in CHROME.items():
        assert table.keys() == english.keys(), lang
        for key, value in table.items():
            assert sorted(_fields(value)) == sorted(_fields(english[key])), (lang, key)
    assert chrome_for("zz") == english


def _fields(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


@pytest.mark.parametrize(
    ("lang", "written"),
    [
        ("en", "9 April 2025"),
        ("es", "9 de abril de 2025"),
        ("pt", "9 de abril de 2025"),
        ("fr", "9 avril 2025"),
        ("de", "9 April 2025"),
    ],
)
def test_dates_are_written_in_the_issue_language(lang: str, written: str) -> None:
    assert long_date_in(date(2025, 4, 9), lang) == written


def test_a_derived_title_takes_the_date_in_the_issue_language(
    spanish: IssueContent, settings: Settings
) -> None:
    """A plain-text briefing has no title line: the parser derives `Name — 9 April 2025`, which
    a Spanish edition's subject and page titles show as `Name — 9 de abril de 2025`."""
    derived = dataclasses.replace(spanish, title="Panorama de Seguridad — 9 April 2025")
    assert (
        issue_context(derived, settings)["subject"] == "Panorama de Seguridad — 9 de abril de 2025"
    )
    written = dataclasses.replace(spanish, title="Seguridad: el giro civil")
    assert issue_context(written, settings)["subject"] == "Seguridad: el giro civil"


def test_a_spanish_plain_text_briefing_reads_in_spanish(settings: Settings) -> None:
    text = SPANISH_BRIEFING.read_text(encoding="utf-8")
    briefing = parse_briefing(text, path=str(SPANISH_BRIEFING))
    html, plain, context = render_email_parts(briefing, settings)
    assert context["subject"] == "Panorama Seguridad — 9 de abril de 2025"
    filled = Personalizer(RenderedIssue(context["subject"], "", html, plain, b"", "x.pdf")).render(
        READER
    )
    for part in (html_visible_text(filled[0]), flat(filled[1])):
        assert "Resumen ejecutivo" in part and "Hable con Fausto" in part
        assert "Fuente: DW, 6 de abril de 2025, Redacción:" in part
        assert english_left(part, briefing) == []


def test_the_french_edition_assumes_no_gender_of_the_author_or_the_reader(
    spanish: IssueContent, settings: Settings
) -> None:
    """The label over the call to action names whoever signs, like the Spanish `Hable con quien
    firma` (not `l’auteur`, a man); the footer speaks of the reader's inscription (not of an
    `abonné`, a man either)."""
    french = dataclasses.replace(spanish, extra={**spanish.extra, "lang": "fr"})
    html, text = Personalizer(render_issue(french, settings)).render(READER)
    assert "Contacter la personne qui signe" in html_visible_text(html)  # the HTML's label
    for part in (html_visible_text(html), flat(text)):
        assert "l’auteur" not in part and "abonné" not in part
        assert "Vous recevez ce bulletin" in part and "suite à votre inscription à" in part
