"""The byline of a plain-text briefing: who wrote the issue, and which of them clients write to.

`By NAME, TITLE, FIRM` names one partner; an issue written by two reads `By Ana Ruiz and Tom Lee,
Partners, FIRM`, `BY A. RUIZ & T. LEE`, `Por Ana Ruiz y Tom Lee, …` or `By Ana Ruiz, Partner, and
Tom Lee, Director, FIRM`. The issue has one partner (the reply-to address, the "Talk to …"
button); all are credited in the byline, in its order (IssueContent.extra[AUTHORS]). Splitting the
names here keeps "Ana Ruiz and Tom Lee" from ever becoming one partner's name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# IssueContent.extra key holding every author's name in the byline's order, one a line (stored
# with the issue), when there are several; the partner is one of them.
AUTHORS = "authors"

# `By NAME, …`, in any case, with or without a colon; `Por NAME, …` in the Spanish edition.
_BYLINE = re.compile(r"^(?:by|por)(?:\s*:\s*|\s+)(?P<rest>\S.*)$", re.IGNORECASE)
# Between two names: `and`, `&`, French `et` (any case); Spanish `y` and Portuguese `e` only
# between names of two words or more each, since `José Ortega y Gasset` is one man.
_JOIN = re.compile(r"\s*&\s*|\s+(?:and|et)\s+", re.IGNORECASE)
_JOIN_ROMANCE = re.compile(r"\s+(?:y|e)\s+", re.IGNORECASE)
# `…, and Tom Lee, …`: a second author after the first one's title.
_AND_NEXT = re.compile(r"^(?:and|&|y|e|et)\s+(?P<rest>\S.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Byline:
    names: tuple[str, ...]  # never empty; each one person's name, as written
    title: str  # the (first) partner's title, e.g. "Partner"
    firm: str  # may itself contain commas


def split_names(text: str) -> list[str]:
    """`Ana Ruiz and Tom Lee` → [`Ana Ruiz`, `Tom Lee`]; one name stays one."""
    names = []
    for part in _JOIN.split(text):
        pieces = [p.strip() for p in _JOIN_ROMANCE.split(part) if p.strip()]
        if len(pieces) > 1 and all(len(p.split()) >= 2 for p in pieces):
            names.extend(pieces)
        elif part.strip():
            names.append(part.strip())
    return names


def parse_byline(text: str) -> Byline | None:
    """`By NAME[ and NAME…], TITLE, FIRM` → Byline; None when the line is no byline."""
    match = _BYLINE.match(text)
    if match is None:
        return None
    parts = [p.strip() for p in match["rest"].split(",", 2)]
    names = split_names(parts[0])
    title = parts[1] if len(parts) > 1 else ""
    firm = parts[2] if len(parts) > 2 else ""
    following = _AND_NEXT.match(firm)
    if following is not None:  # `Ana Ruiz, Partner, and Tom Lee, Director, FIRM`
        more = [p.strip() for p in following["rest"].split(",", 2)]
        names.extend(split_names(more[0]))
        firm = more[2] if len(more) > 2 else ""
    if not names:
        return None
    return Byline(tuple(names), title, firm)


def _folded(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return plain.casefold()


# Whom the call to action says to talk to: `talk to Fausto about…`, `speak with Ana Ruiz, …`,
# `hablar con Fausto sobre…`; what follows up to `about`/`sobre` or a comma.
_ADDRESSEE = re.compile(
    r"\b(?:talk|speak|hablar|conversar|platicar)\s+(?:to|with|con)\s+(?P<who>[^,.;:]+?)"
    r"(?=\s+(?:about|regarding|on|sobre|acerca|de\s+nuestros)\b|\s*[,.;:]|$)",
    re.IGNORECASE,
)


def addressee(call_to_action: str) -> str:
    """The person a call to action names (`talk to Fausto about…` → `Fausto`); "" when it names
    none (`talk to us`, `talk to our team`): only capitalised words are a name."""
    match = _ADDRESSEE.search(call_to_action)
    if match is None:
        return ""
    words = [w for w in match["who"].split() if w[:1].isupper()]
    return " ".join(words)


def reply_to_index(names: tuple[str, ...], call_to_action: str) -> int | None:
    """Which author clients write to: the one the call to action names (`talk to Tom`), by first
    or last name, else the first named in the byline when it names no one (`talk to us`).
    None when it names someone the byline does not: the replies and the "Talk to …" button
    would go to a person the issue does not credit (an editor who changed the byline and not
    the call to action)."""
    said = set(re.findall(r"\w+", _folded(addressee(call_to_action))))
    if not said:
        return 0
    for index, name in enumerate(names):
        words = [w for w in re.findall(r"\w+", _folded(name)) if len(w) > 1]
        if words and (words[0] in said or words[-1] in said):
            return index
    return None
