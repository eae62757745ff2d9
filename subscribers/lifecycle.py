"""A subscriber's life on a list: add (admin), subscribe pending → confirm (double opt-in),
unsubscribe from one list or everywhere, and `describe` for `mailer subscribers show`.

Rules a user relies on:
- nobody on the suppression list is (re)subscribed, by any path;
- a list unsubscribe keeps the row (when and why are kept as evidence) and is never undone by an
  admin add or an import; only the person can come back, through a pending subscription they
  confirm themselves;
- the subscriber's consent fields describe the latest consent event (import, admin add, or a
  confirmed form subscription); each list's own dates are on its Subscription.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.addresses import parse_address
from subscribers.db import utcnow
from subscribers.errors import InvalidInput, NotFound, Suppressed, quoted
from subscribers.languages import parse_language
from subscribers.models import (
    MailingList,
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
    SuppressionReason,
)
from subscribers.suppression import add_suppression, describe_suppression, get_suppression
from subscribers.text import (
    CONTROL_CHARACTERS,
    has_control_characters,
    without_format_characters,
)

NAME_MAX = 200
COMPANY_MAX = 200
TAG_MAX = 64


_LINE_BREAKS = re.compile(r"\s*[\r\n\t\x85\u2028\u2029]+\s*")


def clean_text(value: str | None, field: str, limit: int) -> str:
    """A trimmed one-line text field: line breaks and tabs (a quoted CSV cell may hold them)
    become one space, and invisible format characters (bidi overrides, zero-width spaces:
    `text.without_format_characters`) are dropped; InvalidInput if too long (never silently
    truncated) or holding other control characters (PostgreSQL refuses NUL, escape sequences
    have no place in a name). The one cleaner of names, companies and attributes for import, the
    API, the subscribe form and the admin."""
    text = _LINE_BREAKS.sub(" ", without_format_characters(value or "").strip())
    if len(text) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters ({len(text)})")
    if has_control_characters(text):
        raise InvalidInput(f"{field} contains a control character")
    return text


def refuse_control_characters(value: str | None, field: str, option: str) -> None:
    """Refuse a control character (a line break, TAB, NUL…) in a one-line field a person typed
    (`mailer subscribers add --name`, the admin's form, the API), naming the option and the
    character. Typed, it is a slip or an attempt to add a mail header, and folding it silently
    would store another name than the one given, where the other doors refuse it. A file is
    another matter: a quoted CSV cell may hold a line break nobody sees, and `clean_text` folds
    it. `field` is the API's name for the value (`{name}` in the web wording)."""
    found = CONTROL_CHARACTERS.search(value or "")
    if found is None:
        return
    problem = (
        f"holds the control character U+{ord(found.group()):04X} ({quoted(value or '')}): a "
        f"{field} is one line of text; type it again on one line"
    )
    raise InvalidInput(f"{option} {problem}", web=f"{{{field}}} {problem}")


# What separates tags in one cell of a subscriber file (and the admin's tag field), whatever the
# file's own separator: a semicolon file's `client,vip` is two tags, as is a comma file's
# quoted "client;vip". So no tag may hold one of them.
TAG_SEPARATORS = (";", ",", "|")


def split_tags(cell: str) -> list[str]:
    """The tags of one cell: split at `;`, `,` or `|` (see TAG_SEPARATORS), trimmed, no blanks.

    A tag's surrounding double quotes are not part of it: Mailchimp writes `"client","press"`."""
    tags = (t.strip().strip('"').strip() for t in re.split(r"[;,|]", cell))
    return [t for t in tags if t]


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Trimmed, de-duplicated tags in the order given; InvalidInput for an unusable tag."""
    out: list[str] = []
    for raw in tags:
        tag = without_format_characters(raw).strip()
        if not tag:
            continue
        if has_control_characters(tag):
            raise InvalidInput(f"tag {tag!r} contains a line break or control character")
        for sep in TAG_SEPARATORS:
            if sep in tag:
                raise InvalidInput(
                    f"tag {tag!r} contains {sep!r}, which separates tags in CSV files"
                )
        if len(tag) > TAG_MAX:
            raise InvalidInput(f"tag {tag[:20]!r}… is longer than {TAG_MAX} characters")
        if tag not in out:
            out.append(tag)
    return out


def get_subscriber(session: Session, email: str) -> Subscriber | None:
    """The subscriber with this address (any spelling of it), or None."""
    canonical = parse_address(email, allow_smtputf8=True).email
    return session.scalar(select(Subscriber).where(Subscriber.email == canonical))


def require_subscriber(session: Session, email: str) -> Subscriber:
    subscriber = get_subscriber(session, email)
    if subscriber is None:
        raise NotFound(
            f"no subscriber with address {parse_address(email, allow_smtputf8=True).email}"
        )
    return subscriber


def _subscription(session: Session, subscriber_id: int, list_id: int) -> Subscription | None:
    return session.scalar(
        select(Subscription).where(
            Subscription.subscriber_id == subscriber_id, Subscription.list_id == list_id
        )
    )


def _refuse_suppressed(session: Session, email: str, secret: str) -> None:
    entry = get_suppression(session, email, secret)
    if entry is not None:
        shown = parse_address(email, allow_smtputf8=True).email
        raise Suppressed(
            f"{shown} is on the suppression list ({entry.reason.value}) and "
            "cannot be subscribed; lift the suppression first if the person asked to be mailed "
            "again"
        )


def _get_or_create(
    session: Session,
    email: str,
    *,
    name: str | None,
    company: str | None,
    language: str | None,
    tags: Iterable[str] | None,
    status: SubscriberStatus,
) -> Subscriber:
    address = parse_address(email)
    fields: dict[str, Any] = {}
    if name is not None:
        fields["name"] = clean_text(name, "name", NAME_MAX)
    if company is not None:
        fields["company"] = clean_text(company, "company", COMPANY_MAX)
    if language is not None:
        fields["language"] = parse_language(language)
    cleaned_tags = clean_tags(tags) if tags is not None else None
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == address.email))
    if subscriber is None:
        subscriber = Subscriber(
            email=address.email, domain=address.domain, status=status, attributes={}, **fields
        )
        subscriber.set_tags(cleaned_tags or [])
        session.add(subscriber)
        session.flush()
        return subscriber
    for key, value in fields.items():
        if value:  # an option left empty never wipes what is on record
            setattr(subscriber, key, value)
    if cleaned_tags:
        subscriber.set_tags(list(dict.fromkeys(subscriber.tags + cleaned_tags)))
    return subscriber


@dataclass(frozen=True)
class AddResult:
    subscriber: Subscriber
    subscription: Subscription
    created: bool  # False: the address was already on the list (its details were updated)


def add_subscriber(
    session: Session,
    mlist: MailingList,
    email: str,
    secret: str,
    *,
    name: str | None = None,
    company: str | None = None,
    language: str | None = None,
    tags: Iterable[str] | None = None,
    consent_method: str = "admin",
    consent_source: str = "admin",
) -> AddResult:
    """Add an address to a list as active, recording consent (an admin's or an API's word)."""
    _refuse_suppressed(session, email, secret)
    subscriber = _get_or_create(
        session,
        email,
        name=name,
        company=company,
        language=language,
        tags=tags,
        status=SubscriberStatus.ACTIVE,
    )
    subscription = _subscription(session, subscriber.id, mlist.id)
    if subscription is not None and subscription.status == SubscriptionStatus.UNSUBSCRIBED:
        when = (
            subscription.unsubscribed_at.date().isoformat() if subscription.unsubscribed_at else ""
        )
        left = f"{subscriber.email} unsubscribed from {mlist.slug} {when}".rstrip()
        raise InvalidInput(
            left + "; an admin cannot re-subscribe them: add them with --pending so that they "
            "confirm by email themselves",
            web=left + f"; an admin cannot re-subscribe them: they can sign up again at "
            f"/subscribe/{mlist.slug} and confirm by email themselves",
        )
    if subscriber.status in (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.PENDING):
        subscriber.status = SubscriberStatus.ACTIVE
    now = utcnow()
    created = subscription is None
    if subscription is None:
        subscription = Subscription(
            subscriber_id=subscriber.id,
            list_id=mlist.id,
            status=SubscriptionStatus.ACTIVE,
            created_at=now,
            confirmed_at=now,
        )
        session.add(subscription)
    elif subscription.status == SubscriptionStatus.PENDING:
        subscription.status = SubscriptionStatus.ACTIVE
        subscription.confirmed_at = now
        created = True
    if created:
        _record_consent(subscriber, consent_method, consent_source, None, None)
    session.flush()
    return AddResult(subscriber, subscription, created)


def subscribe_pending(
    session: Session,
    mlist: MailingList,
    email: str,
    secret: str,
    *,
    name: str | None = None,
    company: str | None = None,
    language: str | None = None,
    tags: Iterable[str] | None = None,
) -> Subscription:
    """Start a double opt-in: a pending subscription that mails nothing until `confirm`.

    Returns the subscription (the web layer signs its id into the confirmation link). An active
    subscription is returned unchanged; an unsubscribed one becomes pending again, since the person
    is asking to come back and will confirm it themselves.
    """
    _refuse_suppressed(session, email, secret)
    subscriber = _get_or_create(
        session,
        email,
        name=name,
        company=company,
        language=language,
        tags=tags,
        status=SubscriberStatus.PENDING,
    )
    subscription = _subscription(session, subscriber.id, mlist.id)
    if subscription is None:
        subscription = Subscription(
            subscriber_id=subscriber.id, list_id=mlist.id, status=SubscriptionStatus.PENDING
        )
        session.add(subscription)
    elif subscription.status == SubscriptionStatus.UNSUBSCRIBED:
        subscription.status = SubscriptionStatus.PENDING
    session.flush()
    return subscription


def confirm(
    session: Session,
    subscription_id: int,
    *,
    method: str = "form",
    source: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Subscription:
    """Complete a double opt-in: the subscription becomes active and consent is recorded.

    Idempotent (a second click on the link changes nothing). The caller has verified the token.
    """
    subscription = session.get(Subscription, subscription_id)
    if subscription is None:
        raise NotFound(f"no subscription {subscription_id} (it may have been erased)")
    if subscription.status == SubscriptionStatus.ACTIVE:
        return subscription
    subscriber = subscription.subscriber
    now = utcnow()
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.confirmed_at = now
    subscription.unsubscribed_at = None
    subscription.unsubscribe_reason = None
    if subscriber.status in (SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED):
        subscriber.status = SubscriberStatus.ACTIVE
    _record_consent(subscriber, method, source or subscription.mailing_list.slug, ip, user_agent)
    session.flush()
    return subscription


def _record_consent(
    subscriber: Subscriber, method: str, source: str, ip: str | None, user_agent: str | None
) -> None:
    subscriber.consent_at = utcnow()
    subscriber.consent_method = method[:40]
    subscriber.consent_source = source[:500]
    subscriber.consent_ip = ip
    subscriber.consent_user_agent = user_agent[:500] if user_agent else None


def unsubscribe(
    session: Session, subscription: Subscription, reason: str = "unsubscribed"
) -> Subscription:
    """Unsubscribe from one list; keeps the row and the first time and reason. Idempotent."""
    if subscription.status != SubscriptionStatus.UNSUBSCRIBED:
        subscription.status = SubscriptionStatus.UNSUBSCRIBED
        subscription.unsubscribed_at = utcnow()
        subscription.unsubscribe_reason = reason[:200]
        session.flush()
    return subscription


def unsubscribe_from_list(
    session: Session, mlist: MailingList, email: str, reason: str = "removed by an admin"
) -> Subscription:
    """`mailer subscribers remove`: NotFound if the address was never on that list."""
    subscriber = require_subscriber(session, email)
    subscription = _subscription(session, subscriber.id, mlist.id)
    if subscription is None:
        raise NotFound(f"{subscriber.email} is not on list {mlist.slug}")
    return unsubscribe(session, subscription, reason)


def unsubscribe_everywhere(
    session: Session, email: str, secret: str, reason: str = "unsubscribed from all lists"
) -> Subscriber | None:
    """Global unsubscribe: every list, the subscriber's status, and a suppression entry.

    The suppression is added even when no subscriber exists, so the address is refused later.
    """
    subscriber = get_subscriber(session, email)
    if subscriber is not None:
        for subscription in subscriber.subscriptions:
            unsubscribe(session, subscription, reason)
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
    add_suppression(session, email, secret, SuppressionReason.UNSUBSCRIBE, reason)
    session.flush()
    return subscriber


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def describe_subscriber(subscriber: Subscriber) -> dict[str, Any]:
    """The person's own fields as plain data (shared by `show` and the GDPR export)."""
    return {
        "id": subscriber.id,
        "email": subscriber.email,
        "domain": subscriber.domain,
        "name": subscriber.name,
        "company": subscriber.company,
        "language": subscriber.language,
        "tags": subscriber.tags,
        "attributes": dict(subscriber.attributes or {}),
        "status": subscriber.status.value,
        "tracking_opt_out": bool(subscriber.tracking_opt_out),
        "consent": {
            "at": _iso(subscriber.consent_at),
            "method": subscriber.consent_method,
            "source": subscriber.consent_source,
            "ip": subscriber.consent_ip,
            "user_agent": subscriber.consent_user_agent,
        },
        "created_at": _iso(subscriber.created_at),
        "updated_at": _iso(subscriber.updated_at),
    }


def describe_subscriptions(session: Session, subscriber: Subscriber) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Subscription, MailingList)
        .join(MailingList, MailingList.id == Subscription.list_id)
        .where(Subscription.subscriber_id == subscriber.id)
        .order_by(MailingList.slug)
    ).all()
    return [
        {
            "list": mlist.slug,
            "list_name": mlist.name,
            "status": sub.status.value,
            "subscribed_at": _iso(sub.created_at),
            "confirmed_at": _iso(sub.confirmed_at),
            "unsubscribed_at": _iso(sub.unsubscribed_at),
            "unsubscribe_reason": sub.unsubscribe_reason,
        }
        for sub, mlist in rows
    ]


def describe(session: Session, email: str, secret: str) -> dict[str, Any]:
    """Everything `mailer subscribers show` prints, as plain data.

    Keys: "email", "subscriber" (None if no row), "subscriptions", "suppression" (None if not
    suppressed). The mailer adds its own keys ("bounces", "deliveries", "inquiries") to this dict
    from its tables, keyed by `subscriber["id"]`. NotFound when nothing at all is held.
    """
    canonical = parse_address(email, allow_smtputf8=True).email
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == canonical))
    suppression = describe_suppression(get_suppression(session, canonical, secret))
    if subscriber is None and suppression is None:
        raise NotFound(f"no subscriber with address {canonical}")
    data: dict[str, Any] = {
        "email": canonical,
        "subscriber": None,
        "subscriptions": [],
        "suppression": suppression,
    }
    if subscriber is not None:
        data["subscriber"] = describe_subscriber(subscriber)
        data["subscriptions"] = describe_subscriptions(session, subscriber)
    return data
