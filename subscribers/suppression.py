"""The suppression list: addresses that must never be mailed, whatever list they are on.

Entries are keyed by a keyed hash of the canonical address (`addresses.address_hash`), so a GDPR
erasure can drop the plaintext and still refuse the address later. Non-erased entries also keep
the plaintext, which is what the audience query joins on (see `not_suppressed`): SQL cannot
compute the HMAC, and every subscriber that exists has, by construction, a plaintext address.
Adding a suppression never deletes or changes the subscriber: it only stops mail.

Every change is also written to `suppression_event` (added, lifted, with the reason and who did
it), which outlives the entry: lifting deletes the entry but not its history.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam, exists, func, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import QueryableAttribute, Session

from subscribers.addresses import hash_canonical, normalize
from subscribers.errors import NotFound
from subscribers.models import Subscriber, Suppression, SuppressionEvent, SuppressionReason


def get_suppression(session: Session, email: str, secret: str) -> Suppression | None:
    """The suppression entry for an address, found by its keyed hash (works after erasure)."""
    digest = hash_canonical(normalize(email), secret)
    return session.scalar(select(Suppression).where(Suppression.address_hash == digest))


def is_suppressed(session: Session, email: str, secret: str) -> bool:
    """Whether the address must not be mailed or (re)subscribed."""
    return get_suppression(session, email, secret) is not None


def suppressed_hashes(session: Session, hashes: Iterable[str]) -> set[str]:
    """Which of these keyed hashes are suppressed: one query for a whole import batch."""
    wanted = list(hashes)
    if not wanted:
        return set()
    return set(
        session.scalars(
            select(Suppression.address_hash).where(
                one_of(session, Suppression.address_hash, wanted)
            )
        )
    )


def one_of(
    session: Session, column: QueryableAttribute[Any] | ColumnElement[Any], values: list[Any]
) -> ColumnElement[bool]:
    """`column IN values` that stays fast for a batch of a thousand values on both backends.

    On PostgreSQL the values go as one array parameter (`= ANY($1)`): psycopg prepares a
    statement it runs repeatedly, and the generic plan of `IN ($1 … $1000)` compares every row
    with every parameter, which made a 100,000-row import quadratic (110 s instead of ~25 s).
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def not_suppressed() -> ColumnElement[bool]:
    """A WHERE clause for any query over `Subscriber`: leaves out suppressed addresses.

    Use it in the audience query (`... .where(not_suppressed())`). It compares plaintext
    addresses, which is complete: erased entries have no subscriber left to exclude, and every
    other entry stores the same canonical address the subscriber row has.
    """
    return ~exists().where(Suppression.email == Subscriber.email)


def record_event(
    session: Session, entry: Suppression, action: str, detail: str = "", actor: str = ""
) -> None:
    """One line of the suppression history (the caller flushes or commits)."""
    session.add(
        SuppressionEvent(
            address_hash=entry.address_hash,
            email=entry.email,
            action=action,
            reason=entry.reason.value,
            detail=detail,
            actor=actor[:320],
        )
    )


def add_suppression(
    session: Session,
    email: str,
    secret: str,
    reason: SuppressionReason = SuppressionReason.MANUAL,
    detail: str = "",
    *,
    actor: str = "",
) -> tuple[Suppression, bool]:
    """Suppress an address; returns (entry, created). Idempotent.

    An existing entry keeps its first date and takes the new reason (and `detail`; an empty
    one with the same reason keeps the note it has), except that an erased entry stays erased
    (no plaintext comes back). `actor` (an admin's address, "cli"…) goes to
    the history with the reason.
    """
    canonical = normalize(email)
    digest = hash_canonical(canonical, secret)
    entry = session.scalar(select(Suppression).where(Suppression.address_hash == digest))
    if entry is not None:
        if entry.reason != SuppressionReason.ERASED:
            # Suppressing again for the same reason without a note keeps the note there is
            # (`suppression add x` after `--reason "asked by phone"` wiped the phone call).
            if reason == entry.reason and not detail:
                detail = entry.detail
            changed = (entry.reason, entry.detail) != (reason, detail)
            entry.reason = reason
            entry.detail = detail
            if changed:
                record_event(session, entry, "updated", detail, actor)
        return entry, False
    entry = Suppression(address_hash=digest, email=canonical, reason=reason, detail=detail)
    session.add(entry)
    record_event(session, entry, "added", detail, actor)
    session.flush()
    return entry, True


def remove_suppression(
    session: Session, email: str, secret: str, *, reason: str = "", actor: str = ""
) -> Suppression:
    """Lift a suppression (the address may be mailed again); NotFound if there is none.

    The entry is deleted; the history keeps a "lifted" line with `reason` and `actor`.
    """
    entry = get_suppression(session, email, secret)
    if entry is None:
        raise NotFound(f"{normalize(email)} is not on the suppression list")
    record_event(session, entry, "lifted", reason, actor)
    session.delete(entry)
    session.flush()
    return entry


def search_suppressions(
    session: Session, text: str = "", *, limit: int = 50, offset: int = 0
) -> tuple[int, list[Suppression]]:
    """(how many match, one page newest first) by address, reason or note (literal,
    case-insensitive); erased entries match only by reason."""
    query = select(Suppression)
    needle = text.strip().lower()
    if needle:
        matches = [
            func.lower(Suppression.email).contains(needle, autoescape=True),
            func.lower(Suppression.detail).contains(needle, autoescape=True),
        ]
        if needle in {r.value for r in SuppressionReason}:
            matches.append(Suppression.reason == SuppressionReason(needle))
        query = query.where(or_(*matches))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Suppression.created_at.desc(), Suppression.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return int(total), list(rows)


def history(session: Session, text: str = "", limit: int = 100) -> list[SuppressionEvent]:
    """Suppression events newest first, all or those whose address contains `text`."""
    query = select(SuppressionEvent).order_by(
        SuppressionEvent.created_at.desc(), SuppressionEvent.id.desc()
    )
    needle = text.strip().lower()
    if needle:
        query = query.where(func.lower(SuppressionEvent.email).contains(needle, autoescape=True))
    return list(session.scalars(query.limit(limit)))


def list_suppressions(session: Session) -> list[Suppression]:
    """Every entry, newest first (erased ones show no address)."""
    return list(
        session.scalars(select(Suppression).order_by(Suppression.created_at.desc(), Suppression.id))
    )


def describe_suppression(entry: Suppression | None) -> dict[str, Any] | None:
    """Plain data for `show` and the GDPR export."""
    if entry is None:
        return None
    return {
        "reason": entry.reason.value,
        "detail": entry.detail,
        "since": entry.created_at.isoformat(),
    }
