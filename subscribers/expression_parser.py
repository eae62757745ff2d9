"""The parser of segment expressions (their language: `subscribers.expressions`): text to tree,
or a SegmentSyntaxError that points at the line and column and says what was expected.

Lark builds an LALR parser from the grammar below, once per process (`_parser`); this module is
imported only by `expressions.parse`, so that commands that never parse an expression do not
import Lark.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from subscribers.errors import SegmentSyntaxError, quoted
from subscribers.expressions import (
    FIELD_ALIASES,
    FIELDS,
    KEYWORDS,
    MAX_CONDITIONS,
    MAX_DEPTH,
    And,
    Condition,
    Node,
    Not,
    Or,
)

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
_FIELD_LIST = "tag, lang (or language), company, domain, email, name or attr.KEY"
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
        found = quoted(str(previous.value))
        message = f'expected a condition such as tag:client, "not" or "(", found {found}'
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
    message = f"expected {wanted}, found {quoted(str(token.value))}"
    hint = _did_you_mean(token)
    if hint:
        message += hint
    elif token.type in {"FIELD", "BARE"} and "_AND" in expected:
        message += f" ({_QUOTE_HINT})"
    return _error(expr, where, message)


def _is_field(word: str) -> bool:
    word = word.lower()
    return word in FIELDS or word in FIELD_ALIASES or word.startswith("attr.")


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
    if lowered in FIELDS or lowered in FIELD_ALIASES:
        field = FIELD_ALIASES.get(lowered, lowered)
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
            f"unknown field {quoted(name)}: use {_FIELD_LIST}",
        )
    value = _value(value_token, expr)
    if field == "lang" and not _LANG.fullmatch(value):
        raise _error(
            expr,
            _position(expr, value_token.start_pos),
            f"{lowered} takes a two-letter ISO 639-1 code such as es or en, not {quoted(value)}",
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
