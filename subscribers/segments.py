"""Segments: who on a list a segment expression picks, in SQL, and the saved segments.

The language itself (grammar, fields, limits, the Python reference `evaluate`) is in
`subscribers.expressions`, its parser in `subscribers.expression_parser`; the names callers use
(`parse`, `unparse`, `evaluate`, the tree) are here, so `segments.parse(...)` keeps working.

The SQL is built from SQLAlchemy expressions only: values are bound parameters, never SQL text.
Every condition is NULL-safe (COALESCE), so `not` keeps two-valued logic and `not lang:es` includes
subscribers without a language, as it does in `evaluate`. Text compares ASCII-case-insensitively
with the one folding SQLite's `lower()` and PostgreSQL's `lower(… COLLATE "C")` both implement
identically (`expressions.fold`), so a segment counts the same on either backend.
"""

from __future__ import annotations

import re
from typing import Any, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from subscribers.errors import AlreadyExists, InvalidInput, NotFound, quoted
from subscribers.expressions import (
    FIELDS,
    And,
    Condition,
    Node,
    Not,
    Or,
    domain_value,
    evaluate,
    fold,
    unparse,
)
from subscribers.lists import mailable
from subscribers.models import (
    MailingList,
    Segment,
    Subscriber,
    SubscriberTag,
    Subscription,
)
from subscribers.suppression import not_suppressed

# A saved segment's name: what `resolve` tells apart from an expression.
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}")

__all__ = [
    "FIELDS",
    "And",
    "Condition",
    "Node",
    "Not",
    "Or",
    "compile_expr",
    "count",
    "create_segment",
    "delete_segment",
    "get_segment",
    "evaluate",
    "list_segments",
    "matching_subscriber_ids",
    "not_suppressed",
    "parse",
    "resolve",
    "unparse",
    "update_segment",
]


def parse(expr: str) -> Node:
    """Parse an expression into a tree, or raise SegmentSyntaxError pointing at the column.

    Lark and the grammar load with the first call (`subscribers.expression_parser`): most
    commands, and a send to a whole list, never parse an expression and do not import them
    (~25 ms of CPU in a command). The parser is built once per process, on that first call."""
    from subscribers import expression_parser

    return expression_parser.parse(expr)


# ---------------------------------------------------------------------------------------------
# Compilation to SQLAlchemy


_Column: TypeAlias = ColumnElement[Any] | QueryableAttribute[Any]


class _PerDialect(FunctionElement[str]):
    """A string expression written once for SQLite (first clause) and once for PostgreSQL.

    Both variants are ordinary SQLAlchemy expressions with bound parameters; the compiler renders
    the one for the dialect at hand, so a Select built here runs on either backend unchanged.
    """

    type = String()
    inherit_cache = True
    name = "per_dialect"


@compiles(_PerDialect)
def _render_default(element: _PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(list(element.clauses)[0], **kw)


@compiles(_PerDialect, "postgresql")
def _render_postgresql(element: _PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(list(element.clauses)[1], **kw)


def _ascii_lower(expr: _Column) -> ColumnElement[str]:
    # SQLite's built-in lower() folds ASCII only; PostgreSQL's does so under the "C" collation.
    return _PerDialect(func.lower(expr), func.lower(expr.collate("C")))


def _json_string(key: str) -> ColumnElement[str]:
    """The attribute `key` when it is a JSON string, NULL otherwise (missing, number, bool…)."""
    path = literal('$."' + key + '"', String)  # key holds only [\w.-]: no quote can end it
    sqlite = case(
        (
            func.json_type(Subscriber.attributes, path) == "text",
            func.json_extract(Subscriber.attributes, path, type_=String),
        )
    )
    element = Subscriber.attributes[key]
    postgresql = case((func.jsonb_typeof(element) == "string", element.as_string()))
    return _PerDialect(sqlite, postgresql)


def _equals(expr: _Column, value: str) -> ColumnElement[bool]:
    # COALESCE keeps the result TRUE/FALSE, never NULL, so `not` behaves as in evaluate().
    return func.coalesce(expr, "") == value


def compile_expr(node: Node) -> ColumnElement[bool]:
    """A boolean SQL expression over Subscriber (use it in any select that has Subscriber)."""
    if isinstance(node, And):
        return and_(compile_expr(node.left), compile_expr(node.right))
    if isinstance(node, Or):
        return or_(compile_expr(node.left), compile_expr(node.right))
    if isinstance(node, Not):
        return not_(compile_expr(node.operand))
    value = node.value
    if node.field == "tag":
        return exists().where(
            SubscriberTag.subscriber_id == Subscriber.id,
            _ascii_lower(SubscriberTag.tag) == fold(value),
        )
    if node.field == "domain":
        return _equals(Subscriber.domain, domain_value(value))
    if node.field == "email":
        return _equals(Subscriber.email, value.lower())
    if node.field == "attr":
        assert node.key is not None
        return _equals(_ascii_lower(_json_string(node.key)), fold(value))
    column = {
        "lang": Subscriber.language,
        "company": Subscriber.company,
        "name": Subscriber.name,
    }[node.field]
    return _equals(_ascii_lower(column), fold(value))


# ---------------------------------------------------------------------------------------------
# Audiences


def matching_subscriber_ids(session: Session | None, list_id: int, expr: str | None) -> Select[int]:
    """Ids of the list's mailable subscribers that match `expr` (None: the whole list).

    Mailable: the subscription to this list is active, the subscriber is active and has an
    address, and the address is not suppressed. With a session, `expr` may also be the slug of a
    segment saved on the list. The result is a Select, not rows, so the sender can snapshot it
    set-wise (INSERT … SELECT) and the web UI can count it.
    """
    conditions: list[ColumnElement[bool]] = [Subscription.list_id == list_id, *mailable()]
    if expr is not None:
        text = resolve(session, list_id, expr) if session is not None else expr
        conditions.append(compile_expr(parse(text)))
    return (
        select(Subscriber.id)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(*conditions)
    )


def count(session: Session, list_id: int, expr: str | None) -> int:
    """How many mailable subscribers of the list match (see matching_subscriber_ids)."""
    ids = matching_subscriber_ids(session, list_id, expr).subquery()
    return int(session.scalar(select(func.count()).select_from(ids)) or 0)


# ---------------------------------------------------------------------------------------------
# Saved segments


def create_segment(session: Session, list_id: int, slug: str, expr: str) -> Segment:
    """Save a validated expression under a slug on one list (the caller commits)."""
    mailing_list = session.get(MailingList, list_id)
    if mailing_list is None:
        raise NotFound(f"no mailing list with id {list_id}")
    if not _SLUG.fullmatch(slug):
        raise InvalidInput(
            f"invalid segment slug {quoted(slug)}: use letters, digits, '-' and '_' "
            "(at most 64, starting with a letter or digit)"
        )
    parse(expr)
    if _find(session, list_id, slug) is not None:
        raise AlreadyExists(
            f"list {mailing_list.slug!r} already has a segment {slug!r}; choose another slug"
        )
    segment = Segment(list_id=list_id, slug=slug, expression=expr.strip())
    session.add(segment)
    session.flush()
    return segment


def get_segment(session: Session, list_id: int, slug: str) -> Segment:
    """The segment saved under `slug` on the list, or NotFound naming the list's segments."""
    segment = _find(session, list_id, slug.strip())
    if segment is not None:
        return segment
    mailing_list = session.get(MailingList, list_id)
    where = f"list {mailing_list.slug!r}" if mailing_list else f"list id {list_id}"
    known = [s.slug for s in list_segments(session, list_id)]
    its = f"its segments: {', '.join(known)}" if known else "it has none"
    raise NotFound(f"no saved segment {quoted(slug.strip())} on {where} ({its})")


def update_segment(session: Session, list_id: int, slug: str, expr: str) -> Segment:
    """Give a saved segment a new expression, validated as on create (the caller commits).

    The slug stays: scripts and `mailer send --segment` name it. A campaign already created
    keeps the expression it was created with (`campaign.expression`), so this changes only
    campaigns created from now on."""
    segment = get_segment(session, list_id, slug)
    parse(expr)
    segment.expression = expr.strip()
    session.flush()
    return segment


def delete_segment(session: Session, list_id: int, slug: str) -> Segment:
    """Delete a saved segment (the caller commits); answers the deleted row, detached.

    Campaigns sent to it keep their record: each stores the expression it was sent with, and
    the database sets their `segment_id` to NULL (ON DELETE SET NULL), so their reports show
    that expression instead of the slug. Nobody is unsubscribed: a segment is only a filter."""
    segment = get_segment(session, list_id, slug)
    session.delete(segment)
    session.flush()
    return segment


def list_segments(session: Session, list_id: int) -> list[Segment]:
    """The list's saved segments, by slug."""
    query = select(Segment).where(Segment.list_id == list_id).order_by(Segment.slug)
    return list(session.scalars(query))


def resolve(session: Session, list_id: int, slug_or_expr: str) -> str:
    """The expression saved under a slug on the list, or the argument itself if it is one.

    A slug never contains a colon and every expression does, so the two cannot be confused; a
    word that names no saved segment is reported as such rather than as a syntax error.
    """
    text = slug_or_expr.strip()
    if not _SLUG.fullmatch(text):
        return slug_or_expr
    segment = _find(session, list_id, text)
    if segment is not None:
        return segment.expression
    mailing_list = session.get(MailingList, list_id)
    where = f"list {mailing_list.slug!r}" if mailing_list else f"list id {list_id}"
    raise NotFound(
        f"no saved segment {quoted(text)} on {where}; give a saved segment's slug or an "
        "expression such as tag:client"
    )


def _find(session: Session, list_id: int, slug: str) -> Segment | None:
    query = select(Segment).where(Segment.list_id == list_id, Segment.slug == slug)
    return session.scalars(query).first()
