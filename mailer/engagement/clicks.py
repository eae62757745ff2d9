"""Following a tracked link: verify the token, find the link in the issue, record the click.

A click token (`PUBLIC_URL/r/TOKEN`, mailer/tokens.py) names a delivery and an index into the
link table stored with that campaign's rendering; the redirect goes to that table's URL and
nowhere else, so no token, forged or genuine, can make us an open redirect. A token that fails
its MAC, names no delivery or an index past the table is `LinkNotFound` and records nothing.

Who clicked: mail security gateways fetch links before the reader sees the message. A hit counts
as a person's only when it is a GET that is not part of a scanner's pattern: within a second of
the message's delivery, or within a second of another link of the same message (a scanner opens
every link at once; a person reads between two clicks). Such hits, and HEADs, are recorded apart
(`machine_hits`); when a burst is recognised, the links of that message already counted within
the same second are moved to the machine side too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailer import tokens
from mailer.db import utcnow
from mailer.engagement.models import Click, Open
from mailer.errors import NotFound, TokenError
from mailer.rendering.context import web_url
from mailer.sending.models import CampaignRender, Delivery
from subscribers.models import Subscriber

SCANNER_WINDOW = timedelta(seconds=1)
MAX_DB_ID = 2**63 - 1
_AT = Click.__table__.c.human_at.type


class LinkNotFound(NotFound):
    """The token is not one of ours, or names no link of a message we sent."""


@dataclass(frozen=True)
class Followed:
    """Where a tracked link leads, and how the hit was counted."""

    url: str
    human: bool
    recorded: bool  # False when the reader opted out of tracking (or was erased)


def _insert(session: Session, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _delivery(session: Session, delivery_id: int) -> Delivery:
    delivery = session.get(Delivery, delivery_id) if delivery_id <= MAX_DB_ID else None
    if delivery is None:
        raise LinkNotFound("no message of ours has this link")
    return delivery


def _tracked(session: Session, delivery: Delivery) -> bool:
    """Record only readers who still exist and have not opted out of tracking."""
    if delivery.subscriber_id is None:
        return False
    opted_out = session.scalar(
        select(Subscriber.tracking_opt_out).where(Subscriber.id == delivery.subscriber_id)
    )
    return opted_out is False


def resolve(session: Session, token: str, secrets: list[str]) -> tuple[Delivery, int, str]:
    """(delivery, link index, URL) of a click token; LinkNotFound for anything else."""
    try:
        delivery_id, index = tokens.parse_click_token(token, secrets)
    except TokenError:
        raise LinkNotFound("this link is not valid") from None
    delivery = _delivery(session, delivery_id)
    links = session.scalar(
        select(CampaignRender.links).where(CampaignRender.campaign_id == delivery.campaign_id)
    )
    if not links or index >= len(links):
        raise LinkNotFound("no link of this message has that number")
    url = web_url(str(links[index].get("url", "")))
    if not url:  # the renderer only stores http(s) URLs; a table edited by hand is refused
        raise LinkNotFound("the link's address is not a web address")
    return delivery, index, url


def is_scanner(
    session: Session, delivery: Delivery, index: int, now: datetime, *, head: bool
) -> bool:
    """A HEAD, a hit within a second of delivery, or within a second of another link."""
    if head:
        return True
    since = now - SCANNER_WINDOW
    if delivery.sent_at is not None and delivery.sent_at >= since:
        return True
    return bool(
        session.scalar(
            select(
                exists().where(
                    Click.delivery_id == delivery.id,
                    Click.link_index != index,
                    Click.last_at >= since,
                )
            )
        )
    )


def follow(
    session: Session,
    token: str,
    secrets: list[str],
    *,
    head: bool = False,
    now: datetime | None = None,
) -> Followed:
    """Resolve a tracked link and record the hit (the caller commits). Raises LinkNotFound."""
    delivery, index, url = resolve(session, token, secrets)
    if not _tracked(session, delivery):
        return Followed(url, human=not head, recorded=False)
    now = now or utcnow()
    scanner = is_scanner(session, delivery, index, now, head=head)
    session.execute(
        _insert(session, Click)
        .values(
            delivery_id=delivery.id,
            campaign_id=delivery.campaign_id,
            subscriber_id=delivery.subscriber_id,
            link_index=index,
            first_at=now,
            last_at=now,
            human_hits=0,
            machine_hits=0,
        )
        .on_conflict_do_nothing(index_elements=["delivery_id", "link_index"])
    )
    mine = (Click.delivery_id == delivery.id, Click.link_index == index)
    if scanner:
        session.execute(
            update(Click)
            .where(*mine)
            .values(machine_hits=Click.machine_hits + 1, last_at=now)
            .execution_options(synchronize_session=False)
        )
        if not head:
            # The burst's earlier links were counted as a person's: they were the scanner too.
            session.execute(
                update(Click)
                .where(
                    Click.delivery_id == delivery.id,
                    Click.link_index != index,
                    Click.human_at >= now - SCANNER_WINDOW,
                )
                .values(
                    machine_hits=Click.machine_hits + Click.human_hits,
                    human_hits=0,
                    human_at=None,
                )
                .execution_options(synchronize_session=False)
            )
    else:
        session.execute(
            update(Click)
            .where(*mine)
            .values(
                human_hits=Click.human_hits + 1,
                last_at=now,
                human_at=func.coalesce(Click.human_at, literal(now, type_=_AT)),
            )
            .execution_options(synchronize_session=False)
        )
    return Followed(url, human=not scanner, recorded=True)


def record_open(session: Session, token: str, secrets: list[str]) -> bool:
    """Record that a message's open pixel was fetched; False if not recorded (opted out).

    Raises LinkNotFound for a token that is not one of ours."""
    try:
        delivery_id = tokens.verify(tokens.OPEN, token, secrets, "int")
    except TokenError:
        raise LinkNotFound("this image is not one of ours") from None
    delivery = _delivery(session, delivery_id)
    if not _tracked(session, delivery):
        return False
    now = utcnow()
    session.execute(
        _insert(session, Open)
        .values(
            delivery_id=delivery.id,
            campaign_id=delivery.campaign_id,
            subscriber_id=delivery.subscriber_id,
            first_at=now,
            hits=0,
        )
        .on_conflict_do_nothing(index_elements=["delivery_id"])
    )
    session.execute(
        update(Open)
        .where(Open.delivery_id == delivery.id)
        .values(hits=Open.hits + 1)
        .execution_options(synchronize_session=False)
    )
    return True
