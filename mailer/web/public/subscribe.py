"""What subscribers and readers see: unsubscribe + preferences, subscribe with double opt-in, and
the archive of sent issues.

Rules every route here keeps:
- a GET never changes anything (mail scanners and link previewers follow every link);
- a bad, altered or forged token gets a friendly 4xx page and changes nothing;
- garbage input (odd bodies, huge fields, unknown slugs) gets a 4xx page, never a 500;
- the subscribe form answers the same neutral page whatever the address's status (active,
  pending, unsubscribed, suppressed, unknown), so it cannot be used to learn who is on a list.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import lxml.html
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mailer import confirmations, tokens
from mailer.db import get_sessionmaker
from mailer.errors import MailerError, TokenError
from mailer.issues import content_of
from mailer.models import Campaign, CampaignRender, CampaignStatus, Delivery, Issue
from mailer.render import Personal, compile_personal_template, first_sentence, long_date
from mailer.settings import get_settings
from mailer.web.pages import SecureRoute, add_security_headers, page, static_path
from mailer.web.ratelimit import (
    CONFIRMATIONS_PER_ADDRESS,
    SUBSCRIBE_PER_IP,
    client_ip,
    limiter_for,
)
from subscribers import lifecycle
from subscribers.addresses import parse_address
from subscribers.errors import InvalidAddress, InvalidInput, Suppressed
from subscribers.languages import parse_language
from subscribers.models import (
    MailingList,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from subscribers.suppression import is_suppressed

log = logging.getLogger(__name__)

router = APIRouter(route_class=SecureRoute)

MAX_BODY = 16 * 1024  # the largest form we accept; real ones are a few hundred bytes
MAX_DB_ID = 2**63 - 1
ONE_CLICK = "One-Click"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
ARCHIVED = (CampaignStatus.DONE, CampaignStatus.SENDING)
LANGUAGES = {
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "de": "Deutsch",
    "pt": "Português",
    "it": "Italiano",
}


class PageError(Exception):
    """A friendly error page: status, heading and what the reader can do about it."""

    def __init__(self, status: int, heading: str, *paragraphs: str) -> None:
        super().__init__(heading)
        self.status = status
        self.heading = heading
        self.paragraphs = list(paragraphs)


def message_page(
    request: Request,
    heading: str,
    paragraphs: list[str],
    *,
    status: int = 200,
    kind: str = "info",
    links: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return page(
        request,
        "message.html.j2",
        {
            "title": heading,
            "heading": heading,
            "paragraphs": paragraphs,
            "kind": kind,
            "links": links or [],
        },
        status_code=status,
        headers=headers,
    )


def error_page(request: Request, err: PageError) -> Response:
    return message_page(
        request,
        err.heading,
        err.paragraphs,
        status=err.status,
        kind="error",
        links=[("Read past issues", "/archive")],
    )


@contextmanager
def _session() -> Iterator[Session]:
    with get_sessionmaker()() as session:
        yield session


async def _form(request: Request) -> dict[str, list[str]]:
    """The posted fields, whatever the encoding; PageError(400/413) for what cannot be a form.

    RFC 8058 senders post `application/x-www-form-urlencoded` or `multipart/form-data`; some
    send no Content-Type at all, so a bare body is read as urlencoded.
    """
    body = await request.body()
    if len(body) > MAX_BODY:
        raise PageError(413, "That request is too large", "Please use the form on this page.")
    ctype = request.headers.get("content-type", "").lower()
    try:
        if ctype.startswith("multipart/form-data"):
            form = await request.form()
            return {k: [v if isinstance(v, str) else "" for v in form.getlist(k)] for k in form}
        return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    except Exception as exc:  # malformed multipart: a client error, never a 500
        log.info("unreadable form body: %s", exc)
        raise PageError(
            400, "We could not read that form", "Please go back and try again."
        ) from exc


def _first(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(request: Request) -> bool:
    """True when a POST comes from one of our own pages (Origin, else Referer, must be ours).

    Browsers send Origin on every POST (our Referrer-Policy `same-origin` keeps it a real origin,
    not "null", for our own forms); a cross-site page posting to us gets a foreign or null Origin.
    A request with neither header is refused: every browser sends one, so only a non-browser (which
    cannot be a forged cross-site post) would lack both, and it has no use for this form.
    """
    allowed = {_origin(get_settings().public_url), _origin(str(request.base_url))}
    source = request.headers.get("origin")
    if source is None:
        referer = request.headers.get("referer")
        if not referer:
            return False
        source = _origin(referer)
    return source.lower() in allowed


# ------------------------------------------------------------------------------------------------
# Static files (the site's stylesheet), served from the package
# ------------------------------------------------------------------------------------------------


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> Response:
    path = static_path(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/", include_in_schema=False)
def home() -> Response:
    return RedirectResponse("/archive", status_code=303)


# ------------------------------------------------------------------------------------------------
# Unsubscribe and preferences: /u/{token}
# ------------------------------------------------------------------------------------------------


@dataclass
class Target:
    """What a delivery token points at."""

    token: str
    delivery: Delivery
    issue: Issue
    mlist: MailingList
    subscriber: Subscriber | None  # None once the person was erased (GDPR)
    subscription: Subscription | None


_BAD_LINK = PageError(
    400,
    "This link is not valid",
    "The address you opened is incomplete or has been changed — perhaps it was split across two "
    "lines in your email. Please open the unsubscribe link from the email again, or use "
    "“Unsubscribe” at the bottom of any issue.",
)
_UNKNOWN_LINK = PageError(
    404,
    "We could not find this message",
    "This link does not belong to any message we sent. If you want to stop receiving our "
    "briefing, use the unsubscribe link at the bottom of a recent issue, or reply to it and we "
    "will take care of it.",
)


def load_target(session: Session, token: str) -> Target:
    settings = get_settings()
    try:
        delivery_id = tokens.parse_delivery_token(token, settings.verification_secrets())
    except TokenError:
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


def _subscriptions(session: Session, subscriber: Subscriber) -> list[tuple[Subscription, Any]]:
    return list(
        session.execute(
            select(Subscription, MailingList)
            .join(MailingList, MailingList.id == Subscription.list_id)
            .where(Subscription.subscriber_id == subscriber.id)
            .order_by(MailingList.name)
        ).all()
    )


def _unsubscribe_context(session: Session, target: Target, **extra: Any) -> dict[str, Any]:
    subscriber = target.subscriber
    lists = []
    if subscriber is not None:
        for sub, mlist in _subscriptions(session, subscriber):
            if sub.status == SubscriptionStatus.ACTIVE:
                lists.append({"slug": mlist.slug, "name": mlist.name})
    languages = dict(LANGUAGES)
    current = subscriber.language if subscriber is not None else None
    if current and current not in languages:
        languages[current] = current
    status = target.subscription.status.value if target.subscription is not None else None
    return {
        "title": f"Unsubscribe from {target.mlist.name}",
        "token": target.token,
        "email": subscriber.email if subscriber is not None else None,
        "list_name": target.mlist.name,
        "list_slug": target.mlist.slug,
        "issue_title": target.issue.title,
        "issue_date": long_date(target.issue.issue_date),
        "status": status,
        "active_lists": lists,
        "languages": languages,
        "language": current or "",
        "errors": [],
        **extra,
    }


@router.get("/u/{token}", include_in_schema=False)
def unsubscribe_page(request: Request, token: str) -> Response:
    """Who is unsubscribing from what, one button, and the preferences. Changes nothing."""
    with _session() as session:
        try:
            target = load_target(session, token)
        except PageError as err:
            return error_page(request, err)
        return page(request, "unsubscribe.html.j2", _unsubscribe_context(session, target))


def _one_click(token: str, reason: str) -> dict[str, Any]:
    with _session() as session:
        target = load_target(session, token)
        if target.subscription is not None:
            lifecycle.unsubscribe(session, target.subscription, reason)
        session.commit()
        return {
            "email": target.subscriber.email if target.subscriber is not None else None,
            "list_name": target.mlist.name,
            "list_slug": target.mlist.slug,
            "token": target.token,
        }


@router.post("/u/{token}", include_in_schema=False)
async def unsubscribe_post(request: Request, token: str) -> Response:
    """RFC 8058 one-click unsubscribe (and the page's own button): at once, idempotent, 200.

    No CSRF check here on purpose: mail providers post `List-Unsubscribe=One-Click` from their
    servers with no Origin, and the signed token in the URL is itself the credential — only the
    recipient of that message has it. Forging a post for someone else needs their token.
    """
    try:
        form = await _form(request)
        if _first(form, "List-Unsubscribe") != ONE_CLICK:
            raise PageError(
                400,
                "Nothing was changed",
                "This request did not ask to unsubscribe. Use the button on the unsubscribe page.",
            )
        from_page = "origin" in request.headers or "referer" in request.headers
        reason = "unsubscribe page" if from_page else "one-click unsubscribe (RFC 8058)"
        done = await run_in_threadpool(_one_click, token, reason)
    except PageError as err:
        return error_page(request, err)
    return page(request, "unsubscribed.html.j2", {"title": "You are unsubscribed", **done})


def _save_preferences(
    token: str, keep: set[str], language: str, stop_all: bool
) -> tuple[dict[str, Any], list[str]]:
    """Apply the preference form; returns the page context and the errors (nothing saved then)."""
    settings = get_settings()
    with _session() as session:
        target = load_target(session, token)
        subscriber = target.subscriber
        if subscriber is None or subscriber.email is None:
            raise PageError(
                410,
                "There is nothing left to change",
                "This address was removed from our records at your request.",
            )
        try:
            code = parse_language(language)
        except InvalidInput:
            ctx = _unsubscribe_context(session, target, errors=["Please choose a language."])
            return ctx, ctx["errors"]
        changed: list[str] = []
        if stop_all:
            lifecycle.unsubscribe_everywhere(
                session, subscriber.email, settings.secret(), "preferences: stop all email"
            )
            changed.append("You will receive no more email from us.")
        else:
            for sub, mlist in _subscriptions(session, subscriber):
                if sub.status == SubscriptionStatus.ACTIVE and mlist.slug not in keep:
                    lifecycle.unsubscribe(session, sub, "preferences centre")
                    changed.append(f"Unsubscribed from {mlist.name}.")
            if code != subscriber.language:
                subscriber.language = code
                changed.append(f"Language set to {LANGUAGES.get(code or '', code or 'none')}.")
        session.commit()
        ctx = _unsubscribe_context(session, target, saved=changed or ["Nothing needed changing."])
        return ctx, []


@router.post("/u/{token}/preferences", include_in_schema=False)
async def preferences_post(request: Request, token: str) -> Response:
    """The preference centre's form. Unlike the one-click post, this form must come from our own
    page (Origin/Referer check): it can do more than stop mail, so a cross-site page must not be
    able to submit it on a reader's behalf."""
    try:
        if not same_origin(request):
            raise PageError(
                403,
                "Please use the form on our page",
                "Your preferences can only be changed from the preferences page itself. "
                "Open the link from your email again.",
            )
        form = await _form(request)
        if _first(form, "form") != "preferences":
            # Unticked boxes are simply absent, so an empty or mangled body would read as "keep
            # nothing"; the marker field proves the body is our whole form.
            raise PageError(
                400, "Nothing was changed", "Please use the form on the preferences page."
            )
        keep = set(form.get("keep", []))
        stop_all = _first(form, "stop_all") == "yes"
        ctx, errors = await run_in_threadpool(
            _save_preferences, token, keep, _first(form, "language")[:16], stop_all
        )
    except PageError as err:
        return error_page(request, err)
    template = "unsubscribe.html.j2" if errors else "preferences_saved.html.j2"
    ctx["title"] = "Your preferences" if errors else "Preferences saved"
    return page(request, template, ctx, status_code=422 if errors else 200)


# ------------------------------------------------------------------------------------------------
# Subscribe with double opt-in: /subscribe/{list}, /confirm/{token}
# ------------------------------------------------------------------------------------------------


def _plain(text: str, limit: int) -> bool:
    """Could this be a stored slug? (Bounded, no control characters: PostgreSQL refuses NUL.)"""
    return 0 < len(text) <= limit and not _CONTROL.search(text)


def _list_or_404(session: Session, slug: str) -> MailingList:
    mlist = (
        session.scalar(select(MailingList).where(MailingList.slug == slug))
        if _plain(slug, 64)
        else None
    )
    if mlist is None:
        raise PageError(
            404,
            "We could not find that newsletter",
            "The subscription page you opened does not exist. Check the address, or read our "
            "past issues below.",
        )
    return mlist


def _subscribe_form(
    request: Request,
    mlist: MailingList,
    *,
    email: str = "",
    name: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        "subscribe.html.j2",
        {
            "title": f"Subscribe to {mlist.name}",
            "list_name": mlist.name,
            "list_slug": mlist.slug,
            "description": mlist.description,
            "email": email,
            "name": name,
            "errors": errors or {},
        },
        status_code=status,
    )


@router.get("/subscribe/{slug}", include_in_schema=False)
def subscribe_page(request: Request, slug: str) -> Response:
    with _session() as session:
        try:
            mlist = _list_or_404(session, slug)
        except PageError as err:
            return error_page(request, err)
        return _subscribe_form(request, mlist)


def _check_inbox(request: Request, email: str, list_name: str) -> Response:
    """The one answer for every accepted form, whatever the address's status."""
    return page(
        request,
        "check_inbox.html.j2",
        {"title": "Check your inbox", "email": email, "list_name": list_name},
    )


@dataclass(frozen=True)
class PendingResult:
    list_name: str
    email: str
    send_to: str | None  # the address to mail a confirmation to; None: mail nothing
    token: str | None


def _start_subscription(slug: str, email: str, name: str) -> PendingResult:
    """Create (or reuse) a pending subscription; decide whether a confirmation email goes out."""
    settings = get_settings()
    with _session() as session:
        mlist = _list_or_404(session, slug)
        existing = lifecycle.get_subscriber(session, email)
        # An anonymous form must not rename someone already on record.
        given_name = name if existing is None or not existing.name else None
        try:
            subscription = lifecycle.subscribe_pending(
                session, mlist, email, settings.secret(), name=given_name
            )
        except Suppressed:
            return PendingResult(mlist.name, email, None, None)
        if subscription.status == SubscriptionStatus.ACTIVE:
            return PendingResult(mlist.name, email, None, None)
        session.commit()
        token = confirmations.confirm_token(subscription.id, settings.secret())
        return PendingResult(mlist.name, email, subscription.subscriber.email, token)


def _send_confirmation(result: PendingResult, address_key: str) -> bool:
    settings = get_settings()
    assert result.send_to is not None and result.token is not None
    message = confirmations.build_confirmation(
        settings,
        email=result.send_to,
        list_name=result.list_name,
        url=confirmations.confirm_url(settings, result.token),
    )
    try:
        reply = confirmations.send_confirmation(settings, message)
    except (OSError, MailerError) as exc:
        log.warning("confirmation email to %s not sent: %s", address_key, exc)
        return False
    if not reply.accepted:
        log.warning("confirmation email to %s refused: %s", address_key, reply)
    return reply.accepted


@router.post("/subscribe/{slug}", include_in_schema=False)
async def subscribe_post(request: Request, slug: str) -> Response:
    """Start a double opt-in. No same-origin check: the firm may embed this form on its main
    website, and nothing happens until the address's owner confirms from their inbox."""
    settings = get_settings()
    limiter = limiter_for(request)
    try:
        with _session() as session:
            mlist = _list_or_404(session, slug)
            list_name, list_slug = mlist.name, mlist.slug
        verdict = limiter.hit(SUBSCRIBE_PER_IP, "subscribe-ip", client_ip(request))
        if not verdict.allowed:
            return message_page(
                request,
                "Too many attempts",
                [
                    "We received several subscription requests from your network in a short "
                    f"time. Please try again in {verdict.retry_after} seconds."
                ],
                status=429,
                kind="error",
                headers={"Retry-After": str(verdict.retry_after)},
            )
        form = await _form(request)
    except PageError as err:
        return error_page(request, err)

    raw_email = _first(form, "email").strip()[:400]
    # Control characters (NUL, CR, LF…) become spaces: they have no place in a name, and
    # PostgreSQL refuses NUL outright.
    name = " ".join(_CONTROL.sub(" ", _first(form, "name")).split())
    if _first(form, "website"):
        # The honeypot: a field people never see. Bots get the usual answer and nothing else.
        return _check_inbox(request, raw_email, list_name)
    errors: dict[str, str] = {}
    try:
        email = parse_address(raw_email).email
    except InvalidAddress as exc:
        errors["email"] = (
            "Please enter your email address."
            if not raw_email
            else f"This does not look like an email address: {exc}."
        )
        email = raw_email
    if len(name) > lifecycle.NAME_MAX:
        errors["name"] = f"Please shorten your name to {lifecycle.NAME_MAX} characters."
    if errors:
        with _session() as session:
            mlist = _list_or_404(session, list_slug)
            return _subscribe_form(
                request, mlist, email=email, name=name[:300], errors=errors, status=422
            )

    address_key = tokens.digest("web-subscribe", email, settings.secret(), chars=16)
    if not limiter.hit(CONFIRMATIONS_PER_ADDRESS, "confirm-mail", address_key).allowed:
        return _check_inbox(request, email, list_name)  # say nothing different: no leak
    try:
        result = await run_in_threadpool(_start_subscription, list_slug, email, name)
    except PageError as err:
        return error_page(request, err)
    except (InvalidInput, InvalidAddress) as exc:
        with _session() as session:
            mlist = _list_or_404(session, list_slug)
            return _subscribe_form(
                request, mlist, email=email, name=name, errors={"email": str(exc)}, status=422
            )
    if result.send_to is not None:
        sent = await run_in_threadpool(_send_confirmation, result, address_key)
        if not sent:
            return message_page(
                request,
                "We could not send the confirmation email",
                [
                    "Our mail server did not accept the message just now. Nothing has been "
                    "activated. Please try again in a few minutes."
                ],
                status=503,
                kind="error",
                links=[("Try again", f"/subscribe/{list_slug}")],
            )
    return _check_inbox(request, email, list_name)


@dataclass(frozen=True)
class Confirmable:
    subscription_id: int
    email: str
    list_name: str
    list_slug: str
    already: bool


_BAD_CONFIRM = PageError(
    400,
    "This confirmation link is not valid",
    "The address you opened is incomplete or has been changed — perhaps it was split across two "
    "lines in your email. Please copy the whole link from the email, or subscribe again to get "
    "a new one.",
)


def _check_confirm(session: Session, token: str) -> tuple[Subscription, Confirmable]:
    settings = get_settings()
    try:
        claim = confirmations.parse_confirm_token(token, settings.verification_secrets())
    except TokenError as exc:
        if "expired" in str(exc):
            raise PageError(
                410,
                "This confirmation link has expired",
                f"Confirmation links are valid for {confirmations.CONFIRM_MAX_AGE.days} days. "
                "Please subscribe again and we will send you a new one.",
            ) from None
        raise _BAD_CONFIRM from None
    subscription = (
        session.get(Subscription, claim.subscription_id)
        if claim.subscription_id <= MAX_DB_ID
        else None
    )
    if subscription is None or subscription.subscriber.email is None:
        raise PageError(
            404,
            "We could not find this subscription",
            "It may have been removed. Please subscribe again.",
        )
    unsubscribed = subscription.unsubscribed_at
    if subscription.status != SubscriptionStatus.ACTIVE and (
        (unsubscribed is not None and claim.issued_at.timestamp() < int(unsubscribed.timestamp()))
        or subscription.status == SubscriptionStatus.UNSUBSCRIBED
    ):
        # A link issued before the person's later "stop" must not undo it.
        raise PageError(
            410,
            "This confirmation link is no longer valid",
            "You unsubscribed after this link was sent. To subscribe again, use the "
            "subscription form and confirm the new email.",
        )
    if is_suppressed(session, subscription.subscriber.email, settings.secret()):
        raise PageError(
            410,
            "This address cannot be subscribed",
            "Please contact us by replying to any of our emails.",
        )
    mlist = subscription.mailing_list
    return subscription, Confirmable(
        subscription.id,
        subscription.subscriber.email,
        mlist.name,
        mlist.slug,
        subscription.status == SubscriptionStatus.ACTIVE,
    )


@router.get("/confirm/{token}", include_in_schema=False)
def confirm_page(request: Request, token: str) -> Response:
    """The confirmation page: one button. A GET confirms nothing, so a link scanner opening the
    email cannot subscribe anyone; the click is the consent we record."""
    with _session() as session:
        try:
            _, info = _check_confirm(session, token)
        except PageError as err:
            return error_page(request, err)
    ctx = {"title": "Confirm your subscription", "token": token.lower(), **asdict(info)}
    return page(request, "confirm.html.j2", ctx)


def _do_confirm(token: str, ip: str, user_agent: str) -> Confirmable:
    settings = get_settings()
    with _session() as session:
        subscription, info = _check_confirm(session, token)
        if not info.already:
            lifecycle.confirm(
                session,
                subscription.id,
                method="form",
                source=f"{settings.public_url}/subscribe/{info.list_slug}",
                ip=ip[:45],
                user_agent=user_agent[:500] or None,
            )
            session.commit()
        return info


@router.post("/confirm/{token}", include_in_schema=False)
async def confirm_post(request: Request, token: str) -> Response:
    """Activate the subscription and record consent (time, IP, user agent). The signed token is
    the credential (only the inbox's owner has it), so no CSRF token is needed; idempotent."""
    try:
        await _form(request)  # bounded read of whatever was posted
        info = await run_in_threadpool(
            _do_confirm, token, client_ip(request), request.headers.get("user-agent", "")
        )
    except PageError as err:
        return error_page(request, err)
    return page(request, "confirmed.html.j2", {"title": "Subscription confirmed", **asdict(info)})


# ------------------------------------------------------------------------------------------------
# Archive: /archive, /archive/{slug}, /archive/{slug}.pdf
# ------------------------------------------------------------------------------------------------


def sent_issues(session: Session) -> list[Issue]:
    """Issues with at least one campaign done or sending, newest first (drafts stay private)."""
    sent = select(Campaign.issue_id).where(Campaign.status.in_(ARCHIVED))
    return list(
        session.scalars(
            select(Issue)
            .where(Issue.id.in_(sent))
            .order_by(Issue.issue_date.desc(), Issue.id.desc())
        )
    )


def _archived(session: Session, slug: str) -> tuple[Issue, Campaign]:
    """The issue and its most recent campaign that went out, or a 404 page."""
    issue = session.scalar(select(Issue).where(Issue.slug == slug)) if _plain(slug, 120) else None
    campaign = None
    if issue is not None:
        campaign = session.scalar(
            select(Campaign)
            .where(Campaign.issue_id == issue.id, Campaign.status.in_(ARCHIVED))
            .order_by(Campaign.id.desc())
            .limit(1)
        )
    if issue is None or campaign is None:
        raise PageError(
            404,
            "We could not find that issue",
            "It may not have been published yet. Here are the issues we have sent.",
        )
    return issue, campaign


@router.get("/archive", include_in_schema=False)
def archive_index(request: Request) -> Response:
    with _session() as session:
        issues = [
            {
                "slug": i.slug,
                "title": i.title,
                "newsletter": i.newsletter,
                "date": long_date(i.issue_date),
                "iso_date": i.issue_date.isoformat(),
                "summary": first_sentence(i.summary, 240),
            }
            for i in sent_issues(session)
        ]
    return page(request, "archive.html.j2", {"title": "Archive", "issues": issues})


@router.get("/archive/{slug}.pdf", include_in_schema=False)
def archive_pdf(request: Request, slug: str) -> Response:
    """The PDF edition exactly as mailed (the campaign's stored rendering), or printed afresh."""
    with _session() as session:
        try:
            issue, campaign = _archived(session, slug)
        except PageError as err:
            return error_page(request, err)
        stored = session.get(CampaignRender, campaign.id)
        if stored is not None:
            data, filename = bytes(stored.pdf), stored.pdf_filename
        else:
            from mailer.pdf import render_pdf

            content = content_of(issue)
            data, filename = render_pdf(content, get_settings()), content.pdf_filename
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{_safe_filename(filename)}"',
            "Cache-Control": "public, max-age=3600",
        },
    )


def _safe_filename(name: str) -> str:
    cleaned = "".join(c for c in name if c.isascii() and (c.isalnum() or c in "._-"))
    return cleaned or "issue.pdf"


# Stand-ins for the per-recipient fields; they never reach a reader (replaced or removed below).
_NEUTRAL = Personal(
    email="reader@archive.invalid",
    name="",
    unsubscribe_url="https://archive.invalid/unsubscribe",
    preferences_url="https://archive.invalid/preferences",
)
# The web edition keeps the email's inline styles (premailer put them there), so its policy allows
# inline *styles* — still no script at all, and nothing loaded from elsewhere but images.
WEB_EDITION_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _block_of(el: Any) -> Any:
    while el is not None and el.tag not in ("p", "div", "td"):
        el = el.getparent()
    return el


def _replace_links(block: Any, links: list[tuple[str, str]], style: str | None) -> None:
    for child in list(block):
        block.remove(child)
    block.text = None
    previous = None
    for n, (label, href) in enumerate(links):
        a = lxml.html.Element("a", href=href)
        if style:
            a.set("style", style)
        a.text = label
        if previous is not None:
            previous.tail = " \u00a0·\u00a0 "
        block.append(a)
        previous = a
        if n == len(links) - 1:
            a.tail = None


def web_edition(
    html_template: str,
    *,
    archive_url: str,
    subscribe_url: str,
    pdf_url: str,
    newsletter: str,
    firm: str,
) -> str:
    """The mailed HTML for a neutral reader: no personal data, no unsubscribe or preference
    links (they are personal), a subscribe link instead, and links back to the archive."""
    html = compile_personal_template("html", html_template).render(asdict(_NEUTRAL))
    doc = lxml.html.document_fromstring(html)

    footer_links = doc.xpath("//a[@href=$u]", u=_NEUTRAL.unsubscribe_url)
    for a in footer_links:
        block = _block_of(a)
        if block is not None:
            _replace_links(
                block,
                [
                    ("Subscribe", subscribe_url),
                    ("Download the PDF", pdf_url),
                    ("Past issues", "/archive"),
                ],
                a.get("style"),
            )
    for el in doc.xpath("//body//*[contains(text(), $e)]", e=_NEUTRAL.email):
        block = _block_of(el) if el.tag not in ("p", "div", "td") else el
        for child in list(block):
            block.remove(child)
        block.text = f"You are reading the web edition of {newsletter}, from {firm}."
    for a in doc.xpath("//a[@href=$u]", u=archive_url):  # "View in browser": we are here
        block = _block_of(a)
        if block is not None:
            _replace_links(
                block, [("All issues", "/archive"), ("PDF edition", pdf_url)], a.get("style")
            )
    for a in doc.xpath("//a[@href=$u]", u=_NEUTRAL.preferences_url):
        a.set("href", subscribe_url)
    out = lxml.html.tostring(doc, doctype="<!DOCTYPE html>", encoding="unicode")
    # Whatever a restyled template did with the stand-ins, none may reach a reader.
    for value in (_NEUTRAL.unsubscribe_url, _NEUTRAL.preferences_url):
        out = out.replace(value, subscribe_url)
    return out.replace(_NEUTRAL.email, "")


@router.get("/archive/{slug}", include_in_schema=False)
def archive_issue(request: Request, slug: str) -> Response:
    settings = get_settings()
    with _session() as session:
        try:
            issue, campaign = _archived(session, slug)
        except PageError as err:
            return error_page(request, err)
        stored = session.get(CampaignRender, campaign.id)
        mlist = session.get(MailingList, campaign.list_id)
        subscribe_url = f"/subscribe/{mlist.slug}" if mlist is not None else "/archive"
        if stored is not None:
            template = stored.html_template
        else:
            from mailer.render import render_email_parts

            template, _, _ = render_email_parts(content_of(issue), settings)
        html = web_edition(
            template,
            archive_url=f"{settings.public_url}/archive/{issue.slug}",
            subscribe_url=subscribe_url,
            pdf_url=f"/archive/{issue.slug}.pdf",
            newsletter=issue.newsletter,
            firm=settings.firm_name,
        )
    response = Response(html, media_type="text/html; charset=utf-8")
    add_security_headers(response, {"Content-Security-Policy": WEB_EDITION_CSP})
    return response
