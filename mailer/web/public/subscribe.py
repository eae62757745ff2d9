"""Subscribe with double opt-in: /subscribe/{list} and /confirm/{token}.

The subscribe form answers the same neutral page whatever the address's status (active, pending,
unsubscribed, suppressed, unknown), so it cannot be used to learn who is on a list; nothing is
active before the address's owner confirms from their inbox.

Abuse (the form mails whatever address is typed in), in the order a request meets it:
- per client address: SUBSCRIBE_PER_IP, answered 429 with Retry-After;
- the input: an address we cannot deliver to (including an internationalised mailbox) or a long
  name is a 422 form error; with MAILER_SUBSCRIBE_POW set, so is a missing or reused
  proof-of-work (mailer.web.proof_of_work);
- per mailbox: CONFIRMATIONS_PER_ADDRESS, keyed by the mailbox with case and `+tag` ignored
  and Gmail's dots (`subscribers.addresses.mailbox_key`), answered with the usual neutral page
  and no mail;
- per client address again, over an hour: `client_confirmation_share` (CONFIRMATIONS_PER_CLIENT,
  at most a tenth of the site's budget), answered 429 with Retry-After, so that one client
  cannot spend the site-wide budget below and shut the form for everyone;
- all forms together: MAILER_CONFIRMATIONS_PER_HOUR, past which the form answers "try again
  later" (503 with Retry-After) and mails nothing.
Everything that depends on the address's state (the database lookups, the pending subscription,
the confirmation mail) happens after the answer has been sent (a background task), so neither the
answer nor its timing tells an active address from an unknown one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from mailer import tokens
from mailer.errors import MailerError, TokenError
from mailer.rendering.wording import error_wording, reader_language, words_for
from mailer.sending import confirmations
from mailer.settings import get_settings
from mailer.web import proof_of_work
from mailer.web.pages import SecureRoute, page
from mailer.web.public.forms import (
    MAX_DB_ID,
    PageError,
    browser_language,
    error_page,
    first_field,
    message_page,
    open_session,
    page_language,
    plausible_slug,
    read_form,
)
from mailer.web.ratelimit import (
    CONFIRMATIONS_PER_ADDRESS,
    SUBSCRIBE_PER_IP,
    client_confirmation_share,
    client_ip,
    limiter_for,
)
from subscribers import lifecycle
from subscribers.addresses import mailbox_key, parse_address
from subscribers.errors import InvalidAddress, InvalidInput, Suppressed
from subscribers.models import MailingList, Subscription, SubscriptionStatus
from subscribers.suppression import is_suppressed
from subscribers.text import one_line, sentence

log = logging.getLogger(__name__)

router = APIRouter(route_class=SecureRoute)


def _list_or_404(session: Session, slug: str) -> MailingList:
    """The public list with that slug, or the 404 page. A private list (a client-only briefing)
    gets the very same 404 as a list that does not exist: the form must not even tell that it
    exists."""
    mlist = (
        session.scalar(select(MailingList).where(MailingList.slug == slug))
        if plausible_slug(slug, 64)
        else None
    )
    if mlist is None or mlist.private:
        raise PageError(404, "list_not_found")
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
    settings = get_settings()
    lang = page_language(request)
    challenge = (
        json.dumps(proof_of_work.new_challenge(settings.secret(), settings.subscribe_pow))
        if settings.subscribe_pow
        else None
    )
    response = page(
        request,
        "subscribe.html.j2",
        {
            "title": words_for(lang)["subscribe_to_title"].format(list=mlist.name),
            "lang": lang,
            "list_name": mlist.name,
            "list_slug": mlist.slug,
            "description": mlist.description,
            "email": email,
            "name": name,
            "errors": errors or {},
            "pow_challenge": challenge,
            "pow_field": proof_of_work.FIELD,
        },
        status_code=status,
    )
    response.headers["Vary"] = "Accept-Language"
    if challenge is not None:
        response.headers["Cache-Control"] = "no-store"  # a challenge is good for one page
    return response


@router.get("/subscribe/{slug}", include_in_schema=False)
def subscribe_page(request: Request, slug: str) -> Response:
    with open_session() as session:
        try:
            mlist = _list_or_404(session, slug)
        except PageError as err:
            return error_page(request, err)
        return _subscribe_form(request, mlist)


def _check_inbox(request: Request, email: str, list_name: str) -> Response:
    """The one answer for every accepted form, whatever the address's status (so in the
    browser's language, never the address's: that would tell a known address apart)."""
    lang = page_language(request)
    title = words_for(lang)["check_your_inbox"]
    ctx = {"title": title, "email": email, "list_name": list_name, "lang": lang}
    return page(request, "check_inbox.html.j2", ctx)


@dataclass(frozen=True)
class PendingResult:
    list_name: str
    email: str
    send_to: str | None  # the address to mail a confirmation to; None: mail nothing
    token: str | None
    name: str = ""  # as typed into the form: the confirmation email greets them by it
    language: str | None = None  # the subscriber's own, else the form's browser's


def _start_subscription(
    slug: str, email: str, name: str, browser: str | None = None
) -> PendingResult:
    """Create (or reuse) a pending subscription; decide whether a confirmation email goes out."""
    settings = get_settings()
    with open_session() as session:
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
        language = reader_language(subscription.subscriber.language, browser)
        return PendingResult(
            mlist.name, email, subscription.subscriber.email, token, name, language
        )


def _send_confirmation(result: PendingResult, address_key: str) -> bool:
    settings = get_settings()
    assert result.send_to is not None and result.token is not None
    message = confirmations.build_confirmation(
        settings,
        email=result.send_to,
        list_name=result.list_name,
        url=confirmations.confirm_url(settings, result.token),
        name=result.name,
        lang=result.language,
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
        with open_session() as session:
            mlist = _list_or_404(session, slug)
            list_name, list_slug = mlist.name, mlist.slug
        verdict = limiter.hit(SUBSCRIBE_PER_IP, "subscribe-ip", client_ip(request))
        if not verdict.allowed:
            return _too_many_attempts(request, verdict.retry_after)
        form = await read_form(request)
    except PageError as err:
        return error_page(request, err)

    raw_email = first_field(form, "email").strip()[:400]
    # Control characters (NUL, CR, LF…) become spaces: they have no place in a name, and
    # PostgreSQL refuses NUL outright.
    name = one_line(first_field(form, "name"))
    if first_field(form, "website"):
        # The honeypot: a field people never see. Bots get the usual answer and nothing else.
        return _check_inbox(request, raw_email, list_name)
    email, errors = _checked_fields(raw_email, name, words_for(page_language(request)))
    if errors:
        with open_session() as session:
            mlist = _list_or_404(session, list_slug)
            return _subscribe_form(
                request, mlist, email=email, name=name[:300], errors=errors, status=422
            )

    if settings.subscribe_pow and not proof_of_work.solution_is_valid(
        first_field(form, proof_of_work.FIELD), settings.secret(), limiter
    ):
        with open_session() as session:
            return _subscribe_form(
                request,
                _list_or_404(session, list_slug),
                email=email,
                name=name,
                errors={"pow": words_for(page_language(request))["pow_unfinished"]},
                status=422,
            )

    # Keyed by the mailbox (case and +tag ignored) through a keyed digest: no address is stored.
    address_key = tokens.digest("web-subscribe", mailbox_key(email), settings.secret(), chars=16)
    if not limiter.hit(CONFIRMATIONS_PER_ADDRESS, "confirm-mail", address_key).allowed:
        return _check_inbox(request, email, list_name)  # say nothing different: no leak
    share = client_confirmation_share(settings.confirmations_per_hour)
    verdict = limiter.hit(share, "confirm-mail-client", client_ip(request))
    if not verdict.allowed:
        return _too_many_attempts(request, verdict.retry_after)
    hourly = f"{settings.confirmations_per_hour}/hour"
    verdict = limiter.hit(hourly, "confirm-mail-all")
    if not verdict.allowed:
        return _confirmations_paused(request, verdict.retry_after, list_slug)
    response = _check_inbox(request, email, list_name)
    response.background = BackgroundTask(
        _subscribe_later, list_slug, email, name, address_key, browser_language(request)
    )
    return response


def _checked_fields(
    raw_email: str, name: str, words: Mapping[str, str]
) -> tuple[str, dict[str, str]]:
    """(the canonical address, or what was typed when it is not one; the problems by field,
    in `words`' language)."""
    errors: dict[str, str] = {}
    try:
        email = parse_address(raw_email).email
    except InvalidAddress as exc:
        errors["email"] = (
            words["enter_email"]
            if not raw_email
            else sentence(words["not_an_email"].format(problem=exc))
        )
        email = raw_email
    if len(name) > lifecycle.NAME_MAX:
        errors["name"] = words["shorten_name"].format(limit=lifecycle.NAME_MAX)
    return email, errors


def _too_many_attempts(request: Request, retry_after: int) -> Response:
    """429: this network sent too many subscription requests (SUBSCRIBE_PER_IP)."""
    lang = page_language(request)
    heading, paragraphs = error_wording(lang, "too_many_attempts", seconds=retry_after)
    return message_page(
        request,
        heading,
        paragraphs,
        status=429,
        kind="error",
        headers={"Retry-After": str(retry_after)},
        lang=lang,
    )


def _confirmations_paused(request: Request, retry_after: int, list_slug: str) -> Response:
    """503: the site-wide hourly budget of confirmation emails is spent."""
    lang = page_language(request)
    heading, paragraphs = error_wording(lang, "confirmations_paused")
    return message_page(
        request,
        heading,
        paragraphs,
        status=503,
        kind="error",
        headers={"Retry-After": str(retry_after)},
        links=[(words_for(lang)["back_to_form"], f"/subscribe/{list_slug}")],
        lang=lang,
    )


def _subscribe_later(
    slug: str, email: str, name: str, address_key: str, browser: str | None = None
) -> None:
    """After the answer: the pending subscription and, when the address's state calls for one,
    the confirmation email. Failures are logged (the visitor already has their answer and can
    send the form again); the log names the address by its digest only."""
    try:
        result = _start_subscription(slug, email, name, browser)
        if result.send_to is not None:
            _send_confirmation(result, address_key)
    except (PageError, InvalidInput, InvalidAddress) as exc:
        log.warning("subscription request %s not recorded: %s", address_key, exc)
    except Exception:  # a background task has no one to answer: log, never lose silently
        log.exception("subscription request %s failed", address_key)


@dataclass(frozen=True)
class Confirmable:
    subscription_id: int
    email: str
    list_name: str
    list_slug: str
    already: bool
    language: str | None  # the subscriber's own, when they gave one


_BAD_CONFIRM = PageError(400, "bad_confirm")


def _check_confirm(session: Session, token: str) -> tuple[Subscription, Confirmable]:
    settings = get_settings()
    try:
        claim = confirmations.parse_confirm_token(token, settings.verification_secrets())
    except TokenError as exc:
        if "expired" in str(exc):
            raise PageError(
                410, "expired_confirm", days=confirmations.CONFIRM_MAX_AGE.days
            ) from None
        raise _BAD_CONFIRM from None
    subscription = (
        session.get(Subscription, claim.subscription_id)
        if claim.subscription_id <= MAX_DB_ID
        else None
    )
    if subscription is None or subscription.subscriber.email is None:
        raise PageError(404, "subscription_not_found")
    lang = subscription.subscriber.language
    unsubscribed = subscription.unsubscribed_at
    if subscription.status != SubscriptionStatus.ACTIVE and (
        (unsubscribed is not None and claim.issued_at.timestamp() < int(unsubscribed.timestamp()))
        or subscription.status == SubscriptionStatus.UNSUBSCRIBED
    ):
        # A link issued before the person's later "stop" must not undo it.
        raise PageError(410, "superseded_confirm", lang=lang)
    if is_suppressed(session, subscription.subscriber.email, settings.secret()):
        raise PageError(410, "cannot_subscribe", lang=lang)
    mlist = subscription.mailing_list
    if mlist.private and subscription.status != SubscriptionStatus.ACTIVE:
        # The list was made private after this link was mailed: its public door is closed,
        # and a link from that door must not open it (an editor adds members directly).
        raise PageError(410, "closed_list", lang=lang)
    return subscription, Confirmable(
        subscription.id,
        subscription.subscriber.email,
        mlist.name,
        mlist.slug,
        subscription.status == SubscriptionStatus.ACTIVE,
        lang,
    )


@router.get("/confirm/{token}", include_in_schema=False)
def confirm_page(request: Request, token: str) -> Response:
    """The confirmation page: one button. A GET confirms nothing, so a link scanner opening the
    email cannot subscribe anyone; the click is the consent we record."""
    with open_session() as session:
        try:
            _, info = _check_confirm(session, token)
        except PageError as err:
            return error_page(request, err)
    ctx = _confirm_context(request, info, "confirm_your_subscription", token=token.lower())
    return page(request, "confirm.html.j2", ctx)


def _do_confirm(token: str, ip: str, user_agent: str) -> Confirmable:
    settings = get_settings()
    with open_session() as session:
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
        await read_form(request)  # bounded read of whatever was posted
        info = await run_in_threadpool(
            _do_confirm, token, client_ip(request), request.headers.get("user-agent", "")
        )
    except PageError as err:
        return error_page(request, err)
    ctx = _confirm_context(request, info, "subscription_confirmed")
    return page(request, "confirmed.html.j2", ctx)


def _confirm_context(
    request: Request, info: Confirmable, title: str, **extra: str
) -> dict[str, object]:
    """A confirm page's values, in the subscriber's language, else their browser's (the
    confirmation email was written in the same way, so the link lands where it left off)."""
    lang = page_language(request, info.language)
    return {"title": words_for(lang)[title], "lang": lang, **asdict(info), **extra}
