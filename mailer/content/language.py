"""The language an issue (or a line of it) is written in, for `lang` attributes and hyphenation.

An issue may say its language (`lang:` in the Markdown front matter, kept in `IssueContent.extra`);
the firm's plain-text briefing format has no such field, so the language is then recognised from
the text: the share of each language's most frequent function words among the words, which tells
the languages the briefings are written in apart within a sentence or two. Text too short or too
mixed to tell returns None, and the caller keeps its default.
"""

from __future__ import annotations

import re

from subscribers.languages import ISO_639_1

# The most frequent function words of each language (articles, prepositions, conjunctions,
# pronouns). A word only one of them uses counts double; a word they share counts once for each.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the of and to in is that for it with as was on be by this are from at or which "
        "have has an not but were their its been would they there will after than who",
        "es": "el la los las de del y en que por para con una es se al lo como más pero sus su "
        "ha fue son está entre sobre también sin hay muy ya",
        "pt": "o os as do da dos das e em que para com uma é um não mais ao pelo pela foi são "
        "está entre sobre também sem há muito já nos",
        "fr": "le la les de des du et en que pour avec une est au aux ce qui dans sur par pas "
        "plus sont été aussi sans très ont",
        "de": "der die das und in den von zu mit sich des auf für ist im dem nicht ein eine als "
        "auch es an werden aus er hat dass sie nach wird bei",
        "it": "il lo la gli le di del della e che per con una è non più sono anche nel nella "
        "dei delle alla al ha come ma tra",
    }.items()
}
_WEIGHTS: dict[str, dict[str, int]] = {
    lang: {
        w: 1 if any(w in other for o, other in _FUNCTION_WORDS.items() if o != lang) else 2
        for w in vocabulary
    }
    for lang, vocabulary in _FUNCTION_WORDS.items()
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
MIN_WORDS = 4
MIN_MARGIN = 1.5  # the best language must score this many times the runner-up


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of `text`'s language among en, es, pt, fr, de, it; None if unclear."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < MIN_WORDS:
        return None
    scores = {lang: sum(_WEIGHTS[lang].get(w, 0) for w in words) for lang in _FUNCTION_WORDS}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 3 or top < second * MIN_MARGIN:
        return None
    return best


def normal_language(code: str | None) -> str | None:
    """`code` as a lower-case ISO 639-1 code (a region such as es-MX is dropped), else None."""
    primary = (code or "").strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in ISO_639_1 else None


def written_in(said: str | None, texts: list[str]) -> str:
    """An issue's language: as it says (`lang:`), else recognised from its `texts` (summary and
    paragraphs), else English. The editions' wording and the default call to action follow it."""
    return normal_language(said) or detect_language(" ".join(texts)) or "en"
