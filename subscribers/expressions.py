"""Segment expressions: a small filter language over subscribers — its tree, parser, printer and
reference evaluation in Python (compiled to SQL by `subscribers.segments`).

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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, TypeAlias

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from subscribers.errors import SegmentSyntaxError

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
KEYWORDS = frozenset({"and", "or", "not"})
MAX_CONDITIONS = 200
# SQLite's parser stack (100 entries) overflows near 32 levels of alternating and/or brackets.
MAX_DEPTH = 24

# ---------------------------------------------------------------------------------------------
# Parsing

# The lookahead after each keyword keeps `android:` or `notes` from being read as a keyword, and
# the priority makes `not` a keyword rather than a field name. The colon refuses a following space
# so that `tag: client` is reported as an empty value instead of being parsed some other way.
_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> negation
         | atom
?atom: condition
     | "(" or_expr ")"
condition: FIELD COLON (BARE | STRING)

_AND.2: /and(?![\w.@+\-])/i
_OR.2: /or(?![\w.@+\-])/i
_NOT.2: /not(?![\w.@+\-])/i
FIELD: /[^\W\d][\w.\-]*/
COLON: /:(?!\s)/
STRING: /"(?:[^"\\\n]|\\.)*"/
BARE: /[\w.@+\-]+/
%ignore /\s+/
"""

_BARE = re.compile(r"[\w.@+\-]+")
_LANG = re.compile(r"[A-Za-z]{2}")

# How the parser's terminal names read in an error message, in the order they are listed.
_EXPECTED_WORDS = {
    "FIELD": "a condition such as tag:client",
    "_NOT": '"not"',
    "LPAR": '"("',
    "COLON": '":"',
    "BARE": "a value",
    "STRING": "a value",
    "_AND": '"and"',
    "_OR": '"or"',
    "RPAR": '")"',
    "$END": "the end of the expression",
}
_FIELD_LIST = "tag, lang, company, domain, email, name or attr.KEY"
_QUOTE_HINT = 'put values with spaces or symbols in double quotes, e.g. company:"Acme Corp"'


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def parse(expr: str) -> Node:
    """Parse an expression into a tree, or raise SegmentSyntaxError pointing at the column."""
    if not expr.strip():
        raise SegmentSyntaxError(
            "the expression is empty (leave it out to select the whole list)",
            expression=expr,
            column=1,
        )
    try:
        tree = _parser().parse(expr)
    except UnexpectedCharacters as exc:
        raise _character_error(expr, exc) from None
    except UnexpectedToken as exc:
        raise _token_error(expr, exc) from None
    except UnexpectedInput as exc:  # pragma: no cover - LALR raises the two above
        raise _error(expr, _position(expr, exc.pos_in_stream or 0), str(exc)) from None
    _check_size(tree, expr)
    return _build(tree, expr)


def _check_size(tree: Tree[Token], expr: str) -> None:
    # Bounded so that SQLite's parser stack, its expression-depth limit (1000) and the recursive
    # walks (evaluate, SQLAlchemy's compiler) are never exhausted; far beyond any real segment.
    # Walked with an explicit stack: the point is not to recurse before knowing the depth.
    conditions: list[Tree[Token]] = []
    stack: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _error(
                expr,
                _position(expr, node.meta.start_pos),
                f"the expression is nested too deeply (more than {MAX_DEPTH} levels)",
            )
        if node.data == "condition":
            conditions.append(node)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    if len(conditions) > MAX_CONDITIONS:
        conditions.sort(key=lambda c: c.meta.start_pos)
        raise _error(
            expr,
            _position(expr, conditions[MAX_CONDITIONS].meta.start_pos),
            f"too many conditions ({len(conditions)}; at most {MAX_CONDITIONS}): "
            "tag the subscribers and select the tag instead",
        )


def _position(expr: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of a character index."""
    line = expr.count("\n", 0, index) + 1
    column = index - (expr.rfind("\n", 0, index) + 1) + 1
    return line, column


def _error(expr: str, where: tuple[int, int], message: str) -> SegmentSyntaxError:
    line, column = where
    return SegmentSyntaxError(message, expression=expr, column=column, line=line)


def _end(expr: str) -> tuple[int, int]:
    """Where the expression ends: just after its last non-blank character."""
    return _position(expr, len(expr.rstrip()))


def _character_error(expr: str, exc: UnexpectedCharacters) -> SegmentSyntaxError:
    index = exc.pos_in_stream or 0
    char = expr[index]
    allowed = set(exc.allowed or ())
    if char == '"':
        return _error(expr, _position(expr, index), 'unterminated quoted value: add the closing "')
    if char == ":" and "COLON" in allowed:
        return _error(
            expr,
            _position(expr, index + 1),
            "empty value: write the value right after the colon (tag:client)",
        )
    message = f"unexpected character {char!r}"
    if allowed & {"BARE", "STRING", "_AND", "_OR", "RPAR"}:
        message += f"; {_QUOTE_HINT}"
    return _error(expr, _position(expr, index), message)


def _token_error(expr: str, exc: UnexpectedToken) -> SegmentSyntaxError:
    token = exc.token
    expected = set(exc.accepts or exc.expected or ())
    at_end = token.type == "$END"
    where = _end(expr) if at_end else _position(expr, token.start_pos or 0)
    previous = (getattr(exc, "token_history", None) or [None])[-1]
    if previous is None and exc.state is not None and exc.state.value_stack:
        previous = exc.state.value_stack[-1]  # at the end Lark keeps no history: the last value
    if (
        "COLON" in expected
        and isinstance(previous, Token)
        and previous.type == "FIELD"
        and not _is_field(str(previous.value))
    ):
        # A word where a condition belongs (`nto tag:x`, `and and x:y`, `tag:x and nto`) was read
        # as a field name, so the parser stumbles only on what follows: point at the word itself.
        # A real field name (`tag client`) lacks its colon: that is reported below, after it.
        message = f'expected a condition such as tag:client, "not" or "(", found {previous.value!r}'
        return _error(
            expr, _position(expr, previous.start_pos or 0), message + _did_you_mean(previous)
        )
    if expected and expected <= {"BARE", "STRING"}:
        return _error(expr, where, "empty value: write the value right after the colon")
    if at_end and "RPAR" in expected:
        return _error(expr, where, 'expected ")"')
    order = list(_EXPECTED_WORDS)
    names = sorted(expected, key=lambda n: (order.index(n) if n in order else len(order), n))
    words = list(dict.fromkeys(_EXPECTED_WORDS.get(name, name) for name in names))
    wanted = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    if at_end:
        return _error(expr, where, f"expected {wanted}")
    message = f"expected {wanted}, found {str(token.value)!r}"
    hint = _did_you_mean(token)
    if hint:
        message += hint
    elif token.type in {"FIELD", "BARE"} and "_AND" in expected:
        message += f" ({_QUOTE_HINT})"
    return _error(expr, where, message)


def _is_field(word: str) -> bool:
    word = word.lower()
    return word in FIELDS or word.startswith("attr.")


def _did_you_mean(token: Token) -> str:
    """`; did you mean "not"?` when a stray word is a misspelt keyword (`nto`, `adn`), else ""."""
    word = str(token.value).lower()
    if word in KEYWORDS:
        return ""
    for keyword in sorted(KEYWORDS):
        # Same length, and the letters swapped (`nto`) or one of them mistyped (`anf`): a value
        # such as `Corp` in `company:Acme Corp` is no keyword and gets the quoting hint instead.
        if len(word) == len(keyword) and (
            sorted(word) == sorted(keyword)
            or sum(a != b for a, b in zip(word, keyword, strict=True)) == 1
        ):
            return f'; did you mean "{keyword}"?'
    return ""


def _build(tree: Tree[Token] | Token, expr: str) -> Node:
    if isinstance(tree, Token):  # pragma: no cover - the grammar never yields a bare token here
        raise _error(expr, _position(expr, tree.start_pos or 0), "unexpected token")
    kind = tree.data
    if kind == "condition":
        return _condition(tree.children, expr)
    if kind == "negation":
        return Not(_build(tree.children[0], expr))
    nodes = [_build(child, expr) for child in tree.children]
    make: Callable[[Node, Node], Node] = And if kind == "and_expr" else Or
    result = nodes[0]
    for node in nodes[1:]:
        result = make(result, node)
    return result


def _condition(children: list[Any], expr: str) -> Condition:
    field_token, _colon, value_token = children
    name = str(field_token.value)
    lowered = name.lower()
    key: str | None = None
    if lowered in FIELDS:
        field = lowered
    elif lowered.startswith("attr."):
        field, key = "attr", name[5:]
        if not key:
            raise _error(
                expr,
                _position(expr, field_token.start_pos + 5),
                "attr. needs a key, e.g. attr.sector:energy",
            )
    else:
        raise _error(
            expr,
            _position(expr, field_token.start_pos),
            f"unknown field {name!r}: use {_FIELD_LIST}",
        )
    value = _value(value_token, expr)
    if field == "lang" and not _LANG.fullmatch(value):
        raise _error(
            expr,
            _position(expr, value_token.start_pos),
            f"lang takes a two-letter ISO 639-1 code such as es or en, not {value!r}",
        )
    return Condition(field, value, key)


def _value(token: Token, expr: str) -> str:
    raw = str(token.value)
    if token.type == "BARE":
        return raw
    start = token.start_pos or 0
    out: list[str] = []
    i = 1
    while i < len(raw) - 1:
        ch = raw[i]
        if ch == "\\":
            nxt = raw[i + 1]
            if nxt not in '"\\':
                raise _error(
                    expr,
                    _position(expr, start + i),
                    f'unknown escape "\\{nxt}": inside quotes only \\" and \\\\ are escapes',
                )
            out.append(nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    if not out:
        raise _error(expr, _position(expr, start), 'empty value: "" matches nothing')
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Printing


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
