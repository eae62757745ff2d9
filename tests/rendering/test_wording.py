"""The wording of the pages and mails outside an edition (mailer/rendering/wording): every
language says everything English says, with the same `{name}` fields, and never redefines a word
the editions' chrome already has; a reader's language falls back as documented."""

from __future__ import annotations

import string

from mailer.rendering.chrome import CHROME
from mailer.rendering.wording import ERRORS, WORDS, en, error_wording, reader_language, words_for


def _fields(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name)


def test_every_language_has_every_word_with_the_same_fields() -> None:
    english, errors = WORDS["en"], ERRORS["en"]
    for lang in ("es", "pt", "fr"):
        assert WORDS[lang].keys() == english.keys(), lang
        for key, value in WORDS[lang].items():
            assert _fields(value) == _fields(english[key]), (lang, key)
            assert value != english[key] or key in CHROME["en"] or value.startswith("{"), (
                lang,
                key,
            )
        assert ERRORS[lang].keys() == errors.keys(), lang
        for key, parts in ERRORS[lang].items():
            assert [_fields(p) for p in parts] == [_fields(p) for p in errors[key]], (lang, key)


def test_the_pages_take_the_editions_words_from_the_chrome_not_a_copy() -> None:
    assert not set(en.WORDS) & set(CHROME["en"])
    assert words_for("fr")["unsubscribe"] == CHROME["fr"]["unsubscribe"] == "Se désabonner"


def test_the_language_is_the_first_known_one_with_wording_else_english() -> None:
    assert reader_language("es-MX") == "es"
    assert reader_language(None, "pt_BR", "fr") == "pt"
    assert reader_language("de", "fr") == "fr"  # a language without wording is passed over
    assert reader_language(None, "", "zz") == "en"
    assert words_for("de") == WORDS["en"]
    heading, paragraphs = error_wording("pt", "expired_confirm", days=7)
    assert heading == "Este link de confirmação expirou"
    assert paragraphs == [
        "Os links de confirmação são válidos por 7 dias. Inscreva-se novamente e "
        "enviaremos um novo."
    ]
