"""The fixed wording of what a subscriber sees outside an edition, in each language the firm
writes issues in: the unsubscribe and preferences pages, the archive index, the double opt-in's
email and landing pages, and the error pages a reader can reach (a link expired, altered or cut).

One module per language (en.py is the reference; es, pt, fr have the same keys and `{name}`
fields, which tests/rendering/test_wording.py checks), for a translator to read whole. Words an
edition already has (Unsubscribe, Past issues, Subscribe…) come from rendering/chrome.py, so
the page and the email a reader just left say them alike. A plain table, like chrome.py, rather
than gettext catalogs: no compile step, and the wording is read where it is written.

Which language: `reader_language` takes what is known of the reader, most specific first (their
own `language`, then the issue or newsletter they came from, then what their browser asks for),
and gives the first that has wording here, else English.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from mailer.rendering.chrome import CHROME, chrome_language
from mailer.rendering.wording import en, es, fr, pt

_MODULES = {"en": en, "es": es, "pt": pt, "fr": fr}
LANGUAGES = tuple(_MODULES)

# A page's words: the edition's chrome, then this package's own (their keys never overlap).
WORDS: dict[str, MappingProxyType[str, str]] = {
    lang: MappingProxyType({**CHROME[chrome_language(lang)], **module.WORDS})
    for lang, module in _MODULES.items()
}
ERRORS: dict[str, dict[str, tuple[str, ...]]] = {
    lang: module.ERRORS for lang, module in _MODULES.items()
}


def reader_language(*known: str | None) -> str:
    """The first of `known` (language codes, most specific first; None where unknown) that
    has wording here, else "en". A region is ignored: `es-MX` reads Spanish."""
    for code in known:
        primary = (code or "").strip().lower().replace("_", "-").split("-")[0]
        if primary in _MODULES:
            return primary
    return "en"


def words_for(lang: str | None) -> MappingProxyType[str, str]:
    """Every fixed word of a page or mail in `lang` (English for a language without wording)."""
    return WORDS[reader_language(lang)]


def error_wording(lang: str | None, key: str, **values: Any) -> tuple[str, list[str]]:
    """(heading, paragraphs) of the error page `key` in `lang`, its `{name}` fields filled."""
    heading, *paragraphs = ERRORS[reader_language(lang)][key]
    return heading.format(**values), [p.format(**values) for p in paragraphs]
