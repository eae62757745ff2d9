"""Segment expressions: a small filter language over subscribers — its tree, parser, printer and
reference evaluation in Python (compiled to SQL by `subscribers.segments`). The parser itself
(Lark, and the grammar) is `subscribers.expression_parser`, which `segments.parse` imports on its
first call: what never parses an expression (`mailer send` to a whole list, `mailer segment list`
of a list without segments) does not import Lark. The users' reference is docs/SEGMENTS.md,
whose examples tests/subscribers/test_segment_docs.py runs: change both together.

    tag:client and lang:es and not tag:press
    company:"Acme Corp" or domain:gob.mx
    attr.sector:energy

Grammar (lark, LALR, positions kept so errors can point at a column):
- a condition is `FIELD:VALUE`; the value follows the colon directly (`tag: x` is refused: the
  space almost always means a value was forgotten, and guessing would silently change the segment);
- a value is bare (letters, digits, `. - _ @ +`, non-ASCII letters included) or double-quoted with
  `\\"` and `\\\\` as the only escapes (anything else after a backslash is refused, not guessed);
- `not` binds tighter than `and`, which binds tighter than `or`; keywords and field names are
  case-insensitive; parentheses group.

Fields and what they compare (every comparison is "equals", never "contains": a segment decides who
receives mail, and substring matches surprise people — `company:Acme` must not pick "Acme Tools"):
- `tag:T`       the subscriber has the tag T (an EXISTS over subscriber_tag);
- `lang:xx`     the subscriber's ISO 639-1 language (a two-letter code, anything else is an error);
                `language:xx` is the same condition (the CSV column's and the API's name);
- `company:C`, `name:N`   the whole company / name;
- `domain:D`    the address's domain, exactly (`domain:gob.mx` does not match `sat.gob.mx`); the
                value is lower-cased and a punycode (`xn--`) spelling is decoded, because stored
                domains are lower-case Unicode;
- `email:E`     the whole address (canonical addresses are lower-case; so is the value);
- `attr.KEY:V`  the free attribute KEY is a JSON *string* equal to V. Numbers, booleans, lists and
                objects never match: SQLite and PostgreSQL render them differently as text (`true`
                vs `1`, `1.50` vs `1.5`), and an equality that depends on the backend is a bug.

Tags, languages, companies, names and attributes compare ASCII-case-insensitively: `A-Z` fold to
`a-z`, other letters must match exactly (`company:pemex` matches "PEMEX" but `pémex` does not match
"PÉMEX"). That is the one folding SQLite's `lower()` and PostgreSQL's `lower(… COLLATE "C")` both
implement identically whatever the server's locale, so a segment counts the same on either
backend and `evaluate` (the Python reference) agrees with the SQL.

An expression holds at most 200 conditions and nests at most 24 levels (SQLite's parser gives
out near 32); beyond that parse() refuses it with the column, rather than the database failing.

The SQL is built from SQLAlchemy expressions only: values are bound parameters, never SQL text.
Every condition is NULL-safe (COALESCE), so `not` keeps two-valued logic and `not lang:es` includes
subscribers without a language, as it does in `evaluate`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

# ---------------------------------------------------------------------------------------------
# The tree


@dataclass(frozen=True)
class Condition:
    """`field:value`; for `attr.KEY:value`, field is "attr" and key is KEY."""

    field: str
    value: str
    key: str | None = None

    def __str__(self) -> str:
        return unparse(self)


@dataclass(frozen=True)
class Not:
    operand: Node

    def __str__(self) -> str:
        return unparse(self)


@dataclass(frozen=True)
class And:
    left: Node
    right: Node

    def __str__(self) -> str:
        return unparse(self)


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node

    def __str__(self) -> str:
        return unparse(self)


Node: TypeAlias = Condition | Not | And | Or

# Plain fields; `attr.KEY` is handled apart.
FIELDS: tuple[str, ...] = ("tag", "lang", "company", "domain", "email", "name")
# Other names a user types for a field: the CSV column and the API call the language `language`,
# so `language:es` is `lang:es` (parsed to the same condition, printed as `lang:es`).
FIELD_ALIASES: dict[str, str] = {"language": "lang"}
KEYWORDS = frozenset({"and", "or", "not"})
MAX_CONDITIONS = 200
# SQLite's parser stack (100 entries) overflows near 32 levels of alternating and/or brackets.
MAX_DEPTH = 24

# ---------------------------------------------------------------------------------------------
# Printing (the parser is `subscribers.expression_parser`)

# A value printed without quotes: the grammar's BARE terminal.
_BARE = re.compile(r"[\w.@+\-]+")


def unparse(node: Node) -> str:
    """The canonical text of a tree; `parse(unparse(t)) == t` for any tree `parse` returns.

    Parentheses appear only where the tree needs them: `and`/`or` associate to the left, so a
    right-nested operand of the same operator is bracketed to keep its shape.
    """
    if isinstance(node, Condition):
        field = f"attr.{node.key}" if node.field == "attr" else node.field
        return f"{field}:{_quote(node.value)}"
    if isinstance(node, Not):
        return f"not {_group(node.operand, (And, Or))}"
    if isinstance(node, And):
        return f"{_group(node.left, (Or,))} and {_group(node.right, (And, Or))}"
    return f"{unparse(node.left)} or {_group(node.right, (Or,))}"


def _group(node: Node, bracket: tuple[type, ...]) -> str:
    text = unparse(node)
    return f"({text})" if isinstance(node, bracket) else text


def _quote(value: str) -> str:
    if _BARE.fullmatch(value) and value.lower() not in KEYWORDS:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------------------
# Reference semantics, in Python

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """ASCII-only lower-casing: what both databases' lower() do the same way (see module doc)."""
    return text.translate(_ASCII_LOWER)


def domain_value(value: str) -> str:
    domain = value.strip().lower()
    if "xn--" in domain:
        # Not valid punycode: compare as written; it simply matches nothing.
        with contextlib.suppress(UnicodeError):
            domain = domain.encode("ascii").decode("idna").lower()
    return domain


class SubscriberLike(Protocol):
    """What `evaluate` reads: a Subscriber, or any object with these attributes."""

    email: str | None
    domain: str | None
    name: str
    company: str
    language: str | None
    attributes: Mapping[str, Any]

    @property
    def tags(self) -> Iterable[str]: ...


def evaluate(node: Node, subscriber: SubscriberLike | Any) -> bool:
    """Whether one subscriber matches: the reference the SQL compilation must agree with."""
    if isinstance(node, And):
        return evaluate(node.left, subscriber) and evaluate(node.right, subscriber)
    if isinstance(node, Or):
        return evaluate(node.left, subscriber) or evaluate(node.right, subscriber)
    if isinstance(node, Not):
        return not evaluate(node.operand, subscriber)
    value = node.value
    if node.field == "tag":
        wanted = fold(value)
        return any(fold(tag) == wanted for tag in getattr(subscriber, "tags", None) or ())
    if node.field == "domain":
        return (getattr(subscriber, "domain", None) or "") == domain_value(value)
    if node.field == "email":
        return (getattr(subscriber, "email", None) or "") == value.lower()
    if node.field == "attr":
        attributes = getattr(subscriber, "attributes", None) or {}
        found = attributes.get(node.key)
        return isinstance(found, str) and fold(found) == fold(value)
    column = {"lang": "language", "company": "company", "name": "name"}[node.field]
    return fold(getattr(subscriber, column, None) or "") == fold(value)
