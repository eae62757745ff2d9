"""The fixed wording of every edition (its "chrome"), in each language the firm writes issues in.

Labels, buttons, the footer, dates: everything a reader sees that is not the issue's own text.
The editions (email HTML and text, PDF, web edition) take it from `CHROME[lang]`, chosen by the
issue's language (rendering/context.py `issue_language`), so a Spanish issue reads in Spanish
throughout; a language without a table here reads in English.

To change a wording, or add a language: edit the table below. Every language has the same keys
(tests/rendering/test_chrome.py checks), and a word in braces (`{name}`) is filled in by the
template and must stay as it is. A plain table rather than gettext catalogs: no compile step,
and one file for an editor to read.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from markupsafe import Markup, escape

from mailer.content.document import long_date

# The English table is the reference: the English edition prints exactly these.
CHROME: dict[str, dict[str, str]] = {
    "en": {
        "intelligence_briefing": "Intelligence briefing",
        "by": "By",
        "executive_summary": "Executive summary",
        "in_this_issue": "In this issue",
        "item_of": "{number} of {count}",
        "source": "Source",
        "talk_to_the_author": "Talk to the author",
        "talk_to": "Talk to {name}",
        "reply_note": "Or simply reply to this email: your message goes to {name}.",
        "download_pdf_edition": "Download the PDF edition",
        "pdf_attached": "The PDF edition is attached to this email ({file}).",
        "more_information": "More information",
        "subscribed_as": "You receive this briefing because you subscribed to {list} from "
        "{firm} as {recipient}.",
        "subscribed": "You receive this briefing because you subscribed to {list} from {firm}",
        "copy_sent_to": "This copy was sent to:",
        "tracked_note": "Links in this email are tracked so that {name} knows which items "
        "interest you; you can turn this off under Manage preferences.",
        "manage_preferences": "Manage preferences",
        "unsubscribe": "Unsubscribe",
        "view_in_browser": "View in browser",
        "online_edition": "Online edition",
        "page": "Page",
        "page_of": "of",
        "subscribe": "Subscribe",
        "download_the_pdf": "Download the PDF",
        "past_issues": "Past issues",
        "all_issues": "All issues",
        "pdf_edition": "PDF edition",
        "reading_web_edition": "You are reading the web edition of {newsletter}, from {firm}",
    },
    "es": {
        "intelligence_briefing": "Informe de inteligencia",
        "by": "Por",
        "executive_summary": "Resumen ejecutivo",
        "in_this_issue": "En este número",
        "item_of": "{number} de {count}",
        "source": "Fuente",
        "talk_to_the_author": "Hable con quien firma",
        "talk_to": "Hable con {name}",
        "reply_note": "O simplemente responda a este correo: su mensaje le llega a {name}.",
        "download_pdf_edition": "Descargar la edición en PDF",
        "pdf_attached": "La edición en PDF va adjunta a este correo ({file}).",
        "more_information": "Más información",
        "subscribed_as": "Recibe este informe porque se suscribió a {list} de {firm} como "
        "{recipient}.",
        "subscribed": "Recibe este informe porque se suscribió a {list} de {firm}",
        "copy_sent_to": "Esta copia se envió a:",
        "tracked_note": "Los enlaces de este correo se registran para que {name} sepa qué temas "
        "le interesan; puede desactivarlo en Gestionar preferencias.",
        "manage_preferences": "Gestionar preferencias",
        "unsubscribe": "Cancelar suscripción",
        "view_in_browser": "Ver en el navegador",
        "online_edition": "Edición en línea",
        "page": "Página",
        "page_of": "de",
        "subscribe": "Suscribirse",
        "download_the_pdf": "Descargar el PDF",
        "past_issues": "Números anteriores",
        "all_issues": "Todos los números",
        "pdf_edition": "Edición en PDF",
        "reading_web_edition": "Está leyendo la edición web de {newsletter}, de {firm}",
    },
    "pt": {
        "intelligence_briefing": "Boletim de inteligência",
        "by": "Por",
        "executive_summary": "Resumo executivo",
        "in_this_issue": "Nesta edição",
        "item_of": "{number} de {count}",
        "source": "Fonte",
        "talk_to_the_author": "Fale com quem assina",
        "talk_to": "Fale com {name}",
        "reply_note": "Ou simplesmente responda a este e-mail: sua mensagem chega a {name}.",
        "download_pdf_edition": "Baixar a edição em PDF",
        "pdf_attached": "A edição em PDF está anexada a este e-mail ({file}).",
        "more_information": "Mais informações",
        "subscribed_as": "Você recebe este boletim porque se inscreveu em {list} de {firm} "
        "como {recipient}.",
        "subscribed": "Você recebe este boletim porque se inscreveu em {list} de {firm}",
        "copy_sent_to": "Esta cópia foi enviada para:",
        "tracked_note": "Os links deste e-mail são rastreados para que {name} saiba quais temas "
        "lhe interessam; você pode desativar isso em Gerenciar preferências.",
        "manage_preferences": "Gerenciar preferências",
        "unsubscribe": "Cancelar inscrição",
        "view_in_browser": "Ver no navegador",
        "online_edition": "Edição online",
        "page": "Página",
        "page_of": "de",
        "subscribe": "Inscrever-se",
        "download_the_pdf": "Baixar o PDF",
        "past_issues": "Edições anteriores",
        "all_issues": "Todas as edições",
        "pdf_edition": "Edição em PDF",
        "reading_web_edition": "Você está lendo a edição web de {newsletter}, de {firm}",
    },
    "fr": {
        "intelligence_briefing": "Bulletin de renseignement",
        "by": "Par",
        "executive_summary": "Résumé",
        "in_this_issue": "Dans ce numéro",
        "item_of": "{number} sur {count}",
        "source": "Source",
        "talk_to_the_author": "Contacter la personne qui signe",
        "talk_to": "Écrire à {name}",
        "reply_note": "Ou répondez simplement à cet e-mail : votre message parvient à {name}.",
        "download_pdf_edition": "Télécharger l’édition PDF",
        "pdf_attached": "L’édition PDF est jointe à cet e-mail ({file}).",
        "more_information": "Plus d’informations",
        "subscribed_as": "Vous recevez ce bulletin en tant que {recipient} suite à votre "
        "inscription à {list} de {firm}.",
        "subscribed": "Vous recevez ce bulletin suite à votre inscription à {list} de {firm}",
        "copy_sent_to": "Cet exemplaire a été envoyé à :",
        "tracked_note": "Les liens de cet e-mail sont suivis pour que {name} sache quels sujets "
        "vous intéressent ; vous pouvez le désactiver dans Gérer mes préférences.",
        "manage_preferences": "Gérer mes préférences",
        "unsubscribe": "Se désabonner",
        "view_in_browser": "Voir dans le navigateur",
        "online_edition": "Édition en ligne",
        "page": "Page",
        "page_of": "sur",
        "subscribe": "S’abonner",
        "download_the_pdf": "Télécharger le PDF",
        "past_issues": "Numéros précédents",
        "all_issues": "Tous les numéros",
        "pdf_edition": "Édition PDF",
        "reading_web_edition": "Vous lisez l’édition web de {newsletter}, de {firm}",
    },
}


def chrome_language(lang: str | None) -> str:
    """`lang` if it has a table, else "en" (the fallback for every other language)."""
    return lang if lang in CHROME else "en"


def chrome_for(lang: str | None) -> dict[str, str]:
    """The wording of an edition in `lang` (English for a language without a table)."""
    return CHROME[chrome_language(lang)]


def long_date_in(d: date | None, lang: str | None = "en") -> str:
    """`9 April 2025` / `9 de abril de 2025`… in `lang`, independent of the process locale."""
    return long_date(d, chrome_language(lang))


def fill(text: str, **values: Any) -> str:
    """A table entry with its `{name}` fields filled in (the templates' `fill` filter)."""
    return text.format(**values)


def fill_marked(text: str, **values: Any) -> Markup:
    """A table entry filled in for HTML where some values are marked up (`<strong>{{ email
    }}</strong>`, built in the template where it was autoescaped): the entry and every plain
    value are escaped, a value already Markup is kept (the templates' `marked` filter)."""
    return escape(text).format(**values)
