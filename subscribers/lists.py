"""Mailing lists: create, look up by slug, and list with per-status subscription counts."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, delete, func, select
from sqlalchemy.orm import Session

from subscribers.db import rowcount
from subscribers.errors import AlreadyExists, InvalidInput, NotFound, quoted
from subscribers.models import (
    MailingList,
    Segment,
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
)
from subscribers.suppression import not_suppressed
from subscribers.text import CONTROL_CHARACTERS, without_format_characters

# Slugs appear in URLs (/subscribe/{slug}), List-Id headers and shell commands: keep them to
# lower-case ASCII letters, digits and inner hyphens.
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def validate_slug(slug: str) -> str:
    """The slug if usable in a URL and a List-Id header; InvalidInput saying what is allowed."""
    if not SLUG_RE.fullmatch(slug):
        raise InvalidInput(
            f"invalid list slug {slug!r}: use 1-64 lower-case letters, digits and hyphens, "
            "starting and ending with a letter or digit (e.g. weekly-briefing)"
        )
    return slug


# A list's name is shown in List-Id headers, confirmation emails, the subscribe form and every
# admin table: one line of visible text, as long as a name is (subscribers' names: 200 too).
NAME_MAX = 200


def _unseen_character(name: str) -> tuple[str, str] | None:
    """The first character of `name` that is not visible text, with what it is: a control
    character (CR, LF, TAB, NUL, ESC, U+2028…), an invisible format character (zero-width space,
    bidi marks, U+FEFF; a joiner between two non-ASCII characters, which emoji and some scripts
    need, is visible text) or half of a surrogate pair. None when there is none."""
    control = CONTROL_CHARACTERS.search(name)
    if control is not None:
        return control.group(), "control character"
    kept = without_format_characters(name)
    if kept != name:
        at = next(i for i, (a, b) in enumerate(zip(name, kept + "\n", strict=False)) if a != b)
        return name[at], "invisible character"
    half = next((c for c in name if unicodedata.category(c) == "Cs"), None)
    return (half, "half surrogate pair") if half is not None else None


def validate_name(name: str) -> str:
    """A list's name as stored: stripped, not empty, one line of visible text, at most NAME_MAX
    characters; InvalidInput naming the field (`--name`, or `{name}` for the web) and what to do.
    Every door (CLI, admin forms, API) reaches it through `create_list` and `update_list`."""
    unseen = _unseen_character(name)
    if unseen is not None:
        char, kind = unseen
        problem = (
            f"the list name {quoted(name)} holds the {kind} U+{ord(char):04X}: a name is one "
            "line of visible text; type it again without line breaks or pasted invisible "
            "characters"
        )
        raise InvalidInput(f"{problem} (--name)", web=f"{problem} ({{name}})")
    name = name.strip()
    if not name:
        raise InvalidInput("a list needs a name (--name)", web="a list needs a name ({name})")
    if len(name) > NAME_MAX:
        problem = (
            f"the list name is {len(name)} characters long: shorten it to at most {NAME_MAX} "
            "(put the rest in the description)"
        )
        raise InvalidInput(f"{problem} (--name)", web=f"{problem} ({{name}})")
    return name


def create_list(
    session: Session, slug: str, name: str, description: str = "", *, private: bool = False
) -> MailingList:
    """Create a list; AlreadyExists if the slug is taken. A `private` list (a client-only
    briefing) has no public subscribe form and nothing sent to it is in the public archive."""
    validate_slug(slug)
    name = validate_name(name)
    if session.scalar(select(MailingList.id).where(MailingList.slug == slug)) is not None:
        raise AlreadyExists(f"a list with slug {slug!r} exists already")
    mlist = MailingList(slug=slug, name=name, description=description, private=private)
    session.add(mlist)
    session.flush()
    return mlist


def get_list(session: Session, slug: str) -> MailingList:
    """The list with that slug, or NotFound naming the lists that do exist."""
    mlist = session.scalar(select(MailingList).where(MailingList.slug == slug))
    if mlist is None:
        known = session.scalars(select(MailingList.slug).order_by(MailingList.slug)).all()
        hint = (
            f"known lists: {', '.join(known)}"
            if known
            else "there are no lists yet: create one with `mailer list create SLUG --name NAME`"
        )
        raise NotFound(
            f"no list with slug {slug!r} ({hint})",
            web=f"no list with slug {slug!r} ({hint if known else 'there are no lists yet'})",
        )
    return mlist


@dataclass(frozen=True)
class ListSummary:
    """A list's subscriptions by state. `active` counts active subscriptions, whoever holds them;
    `mailable` only those a send to the whole list reaches (see `mailable`): a hard-bounced,
    complained or erased person keeps an active subscription but is mailed no more."""

    slug: str
    name: str
    active: int
    pending: int
    unsubscribed: int
    private: bool = False
    mailable: int = 0


def mailable() -> list[ColumnElement[bool]]:
    """The WHERE conditions, over Subscription joined to Subscriber, of a subscription a send
    reaches: the subscription is active, the person is active and has an address, and the
    address is not suppressed. The audience of every send and the lists' MAILABLE count both
    use it, so the two never disagree."""
    return [
        Subscription.status == SubscriptionStatus.ACTIVE,
        Subscriber.status == SubscriberStatus.ACTIVE,
        Subscriber.email.is_not(None),
        not_suppressed(),
    ]


def list_lists(session: Session) -> list[ListSummary]:
    """Every list with how many subscriptions it has in each state, in one query."""

    def count(status: SubscriptionStatus) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((Subscription.status == status, 1), else_=0)), 0)

    rows = session.execute(
        select(
            MailingList.slug,
            MailingList.name,
            count(SubscriptionStatus.ACTIVE),
            count(SubscriptionStatus.PENDING),
            count(SubscriptionStatus.UNSUBSCRIBED),
            MailingList.private,
            MailingList.id,
        )
        .outerjoin(Subscription, Subscription.list_id == MailingList.id)
        .group_by(MailingList.id, MailingList.slug, MailingList.name, MailingList.private)
        .order_by(MailingList.slug)
    ).all()
    reached = dict(
        session.execute(
            select(Subscription.list_id, func.count())
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(*mailable())
            .group_by(Subscription.list_id)
        ).all()
    )
    return [
        ListSummary(
            r[0], r[1], int(r[2]), int(r[3]), int(r[4]), bool(r[5]), int(reached.get(r[6], 0))
        )
        for r in rows
    ]


def visibility(private: bool) -> str:
    """How a list's visibility is shown (CLI column, admin pages): "private" or "public"."""
    return "private" if private else "public"


def update_list(
    session: Session,
    slug: str,
    *,
    name: str | None = None,
    description: str | None = None,
    private: bool | None = None,
) -> MailingList:
    """Change what is given (None: kept) of a list's name, description and visibility. The slug
    stays: it is in every List-Id header already sent, in subscribe links and in scripts.
    InvalidInput when nothing is given or for a name `validate_name` refuses; NotFound for the
    slug.

    Making a list private closes its subscribe form at once and hides from the public archive
    every issue sent to no public list; confirmation links already mailed for it are refused."""
    if name is None and description is None and private is None:
        raise InvalidInput(
            f"nothing to change for list {slug!r}: give --name, --description, --private or "
            "--public",
            web=f"nothing to change for list {slug!r}: give at least one of {{name}}, "
            "{description} or {private} (the slug never changes)",
        )
    if name is not None:
        name = validate_name(name)
    mlist = get_list(session, slug)
    if name is not None:
        mlist.name = name
    if description is not None:
        mlist.description = description.strip()
    if private is not None:
        mlist.private = private
    session.flush()
    return mlist


def edit_list(
    session: Session, slug: str, name: str, description: str, *, private: bool | None = None
) -> MailingList:
    """Rename and describe a list (and, when given, make it public or private): the admin's
    form, which sends every field. See `update_list`."""
    return update_list(session, slug, name=name, description=description, private=private)


@dataclass(frozen=True)
class ListDeletion:
    slug: str
    subscriptions: int  # deleted with the list (the people are kept)
    segments: int


def delete_list(session: Session, slug: str) -> ListDeletion:
    """Delete a list with its subscriptions and saved segments; the subscribers themselves stay
    (they may be on other lists; erase them separately if they must go). The caller checks
    that nothing outside this package still refers to the list (campaigns)."""
    mlist = get_list(session, slug)
    n_subs = session.execute(delete(Subscription).where(Subscription.list_id == mlist.id))
    n_segs = session.execute(delete(Segment).where(Segment.list_id == mlist.id))
    session.delete(mlist)
    session.flush()
    return ListDeletion(slug, rowcount(n_subs), rowcount(n_segs))
