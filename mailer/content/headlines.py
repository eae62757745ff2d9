"""Which line of a plain-text briefing is a headline: pure judgements on a line's shape.

The briefing has no markup, so where the executive summary ends and the first item begins is a
judgement on the lines themselves: how long, how many sentences, in Title Case or not, and whether
a well-formed item body follows. Kept apart from the line-by-line parser (briefing.py) so the
judgement can be read and tested on its own.
"""

from __future__ import annotations

import re

# A line longer than this (in words) is a paragraph, never a headline or a source line.
HEADLINE_MAX_WORDS = 40

# Words after which a full stop does not end a sentence (`U.S.` and initials are caught by shape).
_ABBREVIATIONS = frozenset(
    ("mr", "mrs", "ms", "dr", "st", "gen", "sen", "rep", "gov", "lt", "col", "sgt", "jr", "sr")
    + ("sra", "srta", "lic", "ing", "no", "vs", "etc", "approx", "dept")
)
_SENTENCE_END = re.compile(r"(?P<word>\S*?)(?P<mark>[.!?…])[\"”’»)\]]*\s+[\"“‘«(¿¡]*(?P<next>\w)")


def words(text: str) -> int:
    return len(text.split())


def sentences(text: str) -> int:
    """How many sentences a line holds: a headline is one, a summary paragraph usually more.

    A full stop after an initial (`A. Ruiz`), inside an abbreviation (`U.S.`) or after a title
    (`Gen.`) ends nothing, nor does one followed by a lower-case word."""
    count = 1
    for match in _SENTENCE_END.finditer(text):
        word = match["word"].lstrip('"“‘«(¿¡')
        if not match["next"].isupper():
            continue
        if match["mark"] == "." and (
            len(word) <= 1 or "." in word or word.casefold() in _ABBREVIATIONS
        ):
            continue
        count += 1
    return count


def reads_as_headline(text: str) -> bool:
    """One short sentence: the shape of a headline (and of a one-sentence paragraph)."""
    return words(text) <= HEADLINE_MAX_WORDS and sentences(clean_headline(text)) == 1


def _title_case(text: str) -> bool:
    """`Sheinbaum Takes a New Direction`: most words of four letters or more are capitalised."""
    long = [w for w in re.findall(r"[^\W\d_]{4,}", text)]
    return len(long) >= 3 and sum(w[0].isupper() for w in long) >= 0.8 * len(long)


def first_headline(block: list[str]) -> int:
    """Which of the lines between the summary's first paragraph and the first source line is the
    first item's headline; the lines before it are more paragraphs of the summary.

    Why: the summary may run to several paragraphs, some short, and nothing marks where it ends.
    The headline is one of the first run of short lines (a long line after a short one is an
    item's paragraph, as before), chosen among those after which a valid item body follows (at
    least one paragraph, every paragraph but the first and last longer than HEADLINE_MAX_WORDS),
    preferring a line of one sentence (a summary paragraph usually has several), in Title Case
    when any is, and among those the last one directly followed by a real paragraph: a short
    one-sentence summary paragraph is followed by the headline, a headline by its paragraph.
    """

    def body_follows(index: int) -> bool:
        tail = block[index + 1 :]
        return bool(tail) and all(words(t) > HEADLINE_MAX_WORDS for t in tail[1:-1])

    first = next((i for i, t in enumerate(block) if words(t) <= HEADLINE_MAX_WORDS), len(block))
    run = first
    while run < len(block) and words(block[run]) <= HEADLINE_MAX_WORDS:
        run += 1
    candidates = [i for i in range(first, run) if body_follows(i)]
    if not candidates:
        return first
    pool = [i for i in candidates if reads_as_headline(block[i])] or candidates
    pool = [i for i in pool if _title_case(block[i])] or pool
    followed = [i for i in pool if not reads_as_headline(block[i + 1])]
    return followed[-1] if followed else pool[0]


# What an editor puts before a headline to number or mark it: `1.`, `2)`, `3 -`, `#4`, `•`, `-`.
_HEADLINE_MARK = re.compile(r"^(?:#?\d{1,3}\s*[.):\-–—]|#\d{1,3}|[•·▪►*\-–—])\s+(?=\S)")
_BOLD = re.compile(r"^(\*\*|__)(?P<text>\S.*?\S)\1$")
# A line that only labels the summary (`Executive summary`, `Resumen ejecutivo:`), or the label
# at the start of its first paragraph.
SUMMARY_LABEL = re.compile(
    r"^(?:executive\s+summary|summary|resumen\s+ejecutivo|resumen)\s*(?::\s*|$)", re.IGNORECASE
)


def clean_headline(text: str) -> str:
    """A headline without the number or bullet an editor typed before it (every edition numbers
    its items itself: `1. 1. Sheinbaum…` otherwise), nor Markdown bold around it (the briefing
    has no markup, so the asterisks would show)."""
    bold = _BOLD.match(text)
    if bold is not None:
        text = bold["text"]
    return _HEADLINE_MARK.sub("", text, count=1)
