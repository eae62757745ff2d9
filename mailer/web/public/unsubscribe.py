"""Unsubscribe and preferences: /u/{token} (RFC 8058 one-click) and the preference centre.

A GET never changes anything (mail scanners follow every link); a bad, altered or forged token
gets a friendly 4xx page and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mailer import tokens
from mailer.content.document import long_date
from mailer.content.issues import content_of
from mailer.content.models import Issue
from mailer.engagement.erasure import forget_tracking
from mailer.errors import TokenError
from mailer.rendering.context import issue_language
from mailer.rendering.wording import reader_language, words_for
from mailer.sending.models import Delivery
from mailer.settings import get_settings
from mailer.web import auth
from mailer.web.pages import SecureRoute, page
from mailer.web.public.forms import (
    MAX_DB_ID,
    PageError,
    error_page,
    first_field,
    open_session,
    read_form,
)
from subscribers import lifecycle
from subscribers.errors import InvalidInput
from subscribers.languages import language_name, parse_language
from subscribers.models import MailingList, Subscriber, Subscription, SubscriptionStatus
from subscribers.text import sentence

router = APIRouter(route_class=SecureRoute)

ONE_CLICK = "One-Click"
LANGUAGES = {
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "de": "Deutsch",
    "pt": "Português",
    "it": "Italiano",
}


@dataclass
class Target:
    """What a delivery token points at."""

    token: str
    delivery: Delivery
    issue: Issue
    mlist: MailingList
    subscriber: Subscriber | None  # None once the person was erased (GDPR)
    subscription: Subscription | None

    @property
    def language(self) -> str:
        """The reader's own language, else the language of the issue the link came from (the
        one they read the newsletter in), else English: whoever opened the link, the page
        speaks to the reader it was mailed to."""
        own = self.subscriber.language if self.subscriber is not None else None
        return reader_language(own, issue_language(content_of(self.issue)))


_BAD_LINK = PageError(400, "bad_link")
_UNKNOWN_LINK = PageError(404, "unknown_link")
# 200, not an error: the editor who tries the link of a test copy did nothing wrong (and a mail
# provider's one-click post of it gets a success it need not retry).
_TEST_COPY_LINK = PageError(200, "test_copy_link")


def load_target(session: Session, token: str) -> Target:
    settings = get_settings()
    try:
        delivery_id = tokens.parse_delivery_token(token, settings.verification_secrets())
    except TokenError:
        if tokens.is_test_copy_token(token, settings.verification_secrets()):
            raise _TEST_COPY_LINK from None
        raise _BAD_LINK from None
    delivery = session.get(Delivery, delivery_id) if delivery_id <= MAX_DB_ID else None
    if delivery is None:
        raise _UNKNOWN_LINK
    campaign = delivery.campaign
    mlist = session.get(MailingList, campaign.list_id)
    issue = session.get(Issue, delivery.issue_id)
    if mlist is None or issue is None:
        raise _UNKNOWN_LINK
    subscriber = session.get(Subscriber, delivery.subscriber_id) if delivery.subscriber_id else None
    subscription = None
    if subscriber is not None:
        subscription = session.scalar(
            select(Subscription).where(
                Subscription.subscriber_id == subscriber.id, Subscription.list_id == mlist.id
            )
        )
    return Target(token.lower(), delivery, issue, mlist, subscriber, subscription)


def _subscriptions(session: Session, target: Target) -> list[tuple[Subscription, Any]]:
    """The reader's subscriptions this link may show and change: every public list, and of the
    private ones only the list this delivery came from.

    The token travels with every forwarded copy of the message, so whoever holds it must not
    learn (from the names) or change the reader's other private lists: a public list's link
    would otherwise tell anyone that its reader is on "Board Briefing (M&A target: Acme)"."""
    assert target.subscriber is not None
    return list(
        session.execute(
            select(Subscription, MailingList)
            .join(MailingList, MailingList.id == Subscription.list_id)
            .where(
                Subscription.subscriber_id == target.subscriber.id,
                (MailingList.private.is_(False)) | (MailingList.id == target.mlist.id),
            )
            .order_by(MailingList.name)
        ).all()
    )


def _unsubscribe_context(session: Session, target: Target, **extra: Any) -> dict[str, Any]:
    subscriber = target.subscriber
    lang = target.language
    lists = []
    if subscriber is not None:
        for sub, mlist in _subscriptions(session, target):
            if sub.status == SubscriptionStatus.ACTIVE:
                lists.append({"slug": mlist.slug, "name": mlist.name})
    languages = dict(LANGUAGES)
    current = subscriber.language if subscriber is not None else None
    if current and current not in languages:
        languages[current] = language_name(current)  # "Chinese", not "zh"
    status = target.subscription.status.value if target.subscription is not None else None
    return {
        "title": words_for(lang)["unsubscribe_from_title"].format(list=target.mlist.name),
        "lang": lang,
        "token": target.token,
        "email": subscriber.email if subscriber is not None else None,
        "list_name": target.mlist.name,
        "list_slug": target.mlist.slug,
        # A private list has no public form to come back through: no "Subscribe again" link.
        "list_public": not target.mlist.private,
        "issue_title": target.issue.title,
        "issue_date": long_date(target.issue.issue_date, lang),
        "status": status,
        "active_lists": lists,
        "languages": languages,
        "language": current or "",
        "tracking": subscriber is not None and not subscriber.tracking_opt_out,
        "errors": [],
        **extra,
    }


@router.get("/u/{token}", include_in_schema=False)
def unsubscribe_page(request: Request, token: str) -> Response:
    """Who is unsubscribing from what, one button, and the preferences. Changes nothing."""
    with open_session() as session:
        try:
            target = load_target(session, token)
        except PageError as err:
            return error_page(request, err)
        return page(request, "unsubscribe.html.j2", _unsubscribe_context(session, target))


def _one_click(token: str, reason: str) -> dict[str, Any]:
    with open_session() as session:
        target = load_target(session, token)
        if target.subscription is not None:
            lifecycle.unsubscribe(session, target.subscription, reason)
        session.commit()
        return {
            "email": target.subscriber.email if target.subscriber is not None else None,
            "list_name": target.mlist.name,
            "list_slug": target.mlist.slug,
            "list_public": not target.mlist.private,
            "token": target.token,
            "lang": target.language,
        }


@router.post("/u/{token}", include_in_schema=False)
async def unsubscribe_post(request: Request, token: str) -> Response:
    """RFC 8058 one-click unsubscribe (and the page's own button): at once, idempotent, 200.

    No CSRF check here on purpose: mail providers post `List-Unsubscribe=One-Click` from their
    servers with no Origin, and the signed token in the URL is itself the credential — only the
    recipient of that message has it. Forging a post for someone else needs their token.
    """
    try:
        form = await read_form(request)
        if first_field(form, "List-Unsubscribe") != ONE_CLICK:
            raise PageError(400, "not_one_click")
        from_page = "origin" in request.headers or "referer" in request.headers
        reason = "unsubscribe page" if from_page else "one-click unsubscribe (RFC 8058)"
        done = await run_in_threadpool(_one_click, token, reason)
    except PageError as err:
        return error_page(request, err)
    title = words_for(done["lang"])["you_are_unsubscribed"]
    return page(request, "unsubscribed.html.j2", {"title": title, **done})


def _save_preferences(
    token: str, keep: set[str], language: str, stop_all: bool, tracking: bool
) -> tuple[dict[str, Any], list[str]]:
    """Apply the preference form; returns the page context and the errors (nothing saved then)."""
    settings = get_settings()
    with open_session() as session:
        target = load_target(session, token)
        subscriber = target.subscriber
        if subscriber is None or subscriber.email is None:
            raise PageError(410, "erased", lang=target.language)
        try:
            code = parse_language(language)
        except InvalidInput:
            errors = [words_for(target.language)["choose_a_language"]]
            ctx = _unsubscribe_context(session, target, errors=errors)
            return ctx, ctx["errors"]
        changed: list[tuple[str, dict[str, str]]] = []  # wording keys, said once all is done
        if stop_all:
            lifecycle.unsubscribe_everywhere(
                session, subscriber.email, settings.secret(), "preferences: stop all email"
            )
            changed.append(("no_more_email", {}))
        else:
            for sub, mlist in _subscriptions(session, target):
                if sub.status == SubscriptionStatus.ACTIVE and mlist.slug not in keep:
                    lifecycle.unsubscribe(session, sub, "preferences centre")
                    changed.append(("unsubscribed_from", {"list": mlist.name}))
            if code != subscriber.language:
                subscriber.language = code
                name = (LANGUAGES.get(code) or language_name(code)) if code else ""
                changed.append(
                    ("language_set", {"language": name}) if code else ("language_removed", {})
                )
        if subscriber.tracking_opt_out == tracking:
            # Opting out takes effect at once: later messages link straight to their URLs, and
            # clicks on links already mailed are no longer recorded (engagement/clicks.py).
            subscriber.tracking_opt_out = not tracking
            if not tracking:  # and what was recorded goes: they never appear in a digest
                forget_tracking(session, subscriber.id)
            changed.append(("tracking_on" if tracking else "tracking_off", {}))
        session.commit()
        # In the language just chosen, if one was: the reader reads the answer in it at once.
        words = words_for(target.language)
        said = [sentence(words[key].format(**values)) for key, values in changed]
        ctx = _unsubscribe_context(session, target, saved=said or [words["nothing_changed"]])
        return ctx, []


@router.post("/u/{token}/preferences", include_in_schema=False)
async def preferences_post(request: Request, token: str) -> Response:
    """The preference centre's form. Unlike the one-click post, this form must come from our own
    page (Origin/Referer check): it can do more than stop mail, so a cross-site page must not be
    able to submit it on a reader's behalf."""
    try:
        if not auth.same_origin(request):
            raise PageError(403, "other_origin")
        form = await read_form(request)
        if first_field(form, "form") != "preferences":
            # Unticked boxes are simply absent, so an empty or mangled body would read as "keep
            # nothing"; the marker field proves the body is our whole form.
            raise PageError(400, "not_our_form")
        keep = set(form.get("keep", []))
        stop_all = first_field(form, "stop_all") == "yes"
        tracking = first_field(form, "tracking") == "yes"
        ctx, errors = await run_in_threadpool(
            _save_preferences, token, keep, first_field(form, "language")[:16], stop_all, tracking
        )
    except PageError as err:
        return error_page(request, err)
    template = "unsubscribe.html.j2" if errors else "preferences_saved.html.j2"
    ctx["title"] = words_for(ctx["lang"])["your_preferences" if errors else "preferences_saved"]
    return page(request, template, ctx, status_code=422 if errors else 200)
