"""Issues in the admin area: import (upload or paste), the issue page with its email and PDF
previews, a test send to named addresses, and sending to a list (confirm, then create and start)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated

from fastapi import File, Form, Request, Response, UploadFile
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mailer.accounts import AdminUser
from mailer.content.issues import content_of, decode_issue, get_issue, parse_issue, store_issue
from mailer.content.models import Issue
from mailer.db import get_sessionmaker
from mailer.errors import MailerError
from mailer.headers import content_disposition
from mailer.rendering.pdf_edition import render_pdf
from mailer.rendering.preview import preview_email
from mailer.sending import campaigns, dispatch
from mailer.sending.copies import send_test_copies, split_test_addresses
from mailer.sending.models import Campaign
from mailer.sending.schedule import describe, parse_when
from mailer.settings import get_settings
from mailer.web import queries
from mailer.web.admin.forms import DB, Admin, protected_router, redirect, render
from mailer.web.errors import user_message
from subscribers.addresses import parse_address
from subscribers.errors import InvalidAddress, SubscribersError
from subscribers.lists import get_list
from subscribers.models import MailingList, Segment
from subscribers.text import counted

# The email preview is our own rendered HTML with inline styles, shown in a sandboxed frame.
PREVIEW_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; "
        "font-src data:; frame-ancestors 'self'; sandbox"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}

router = protected_router()


def _issues_page(
    request: Request,
    session: Session,
    admin: AdminUser,
    *,
    error: str | None = None,
    pasted: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "issues.html.j2",
        {
            "title": "Issues",
            "issues": queries.recent_issues(session),
            "error": error,
            "pasted": pasted,
        },
        admin=admin,
        active="issues",
        status_code=status_code,
    )


@router.get("/issues")
def issues_page(request: Request, session: DB, admin: Admin) -> Response:
    return _issues_page(request, session, admin)


@router.post("/issues")
async def submit_issue_import(
    request: Request,
    session: DB,
    admin: Admin,
    file: Annotated[UploadFile | None, File()] = None,
    text: Annotated[str, Form(max_length=1_000_000)] = "",
    replace: Annotated[bool, Form()] = False,
) -> Response:
    """Import from an uploaded file or pasted text (re-importing a slug updates that issue; a
    different or sent issue of that slug only with "Replace" ticked)."""
    try:
        if file is not None and file.filename:
            name = file.filename.replace("/", "_")[-200:]
            source = decode_issue(await file.read(), name, again="upload it again")
        elif text.strip():
            name, source = "pasted text", text.replace("\r\n", "\n")
        else:
            raise MailerError("choose a file to upload or paste the issue's text")
        content, fmt = parse_issue(source, path=name)
        result = store_issue(
            session,
            content,
            source_text=source,
            source_format=fmt,
            replace=replace,
            flag="Ticking 'Replace the issue of the same slug'",
        )
        slug = result.issue.slug
        session.commit()
    except (MailerError, SubscribersError) as exc:
        session.rollback()
        return _issues_page(
            request, session, admin, error=user_message(exc), pasted=text, status_code=422
        )
    verb = "imported" if result.created else "updated"
    return redirect(
        f"/admin/issues/{slug}", f"Issue {verb}: {counted(len(content.items), 'item')}."
    )


def _audiences(session: Session) -> list[tuple[MailingList, list[Segment]]]:
    """Every list with its saved segments, for the send form: two queries however many lists
    (asking each list for its segments was one query per list)."""
    mlists = session.scalars(select(MailingList).order_by(MailingList.slug)).all()
    saved: dict[int, list[Segment]] = {m.id: [] for m in mlists}
    for seg in session.scalars(select(Segment).order_by(Segment.slug)):
        saved.setdefault(seg.list_id, []).append(seg)
    return [(m, saved[m.id]) for m in mlists]


def _issue_page(
    request: Request,
    session: Session,
    admin: AdminUser,
    issue: Issue,
    *,
    error: str | None = None,
    send_error: str | None = None,
    test_error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    sent = session.scalars(
        select(Campaign)
        .where(Campaign.issue_id == issue.id)
        .options(selectinload(Campaign.issue))
        .order_by(Campaign.id.desc())
    ).all()
    return render(
        request,
        "issue.html.j2",
        {
            "title": issue.title,
            "issue": issue,
            "items": issue.items,
            "audiences": _audiences(session),
            "campaigns": queries.summaries(session, sent),
            "error": error,
            "send_error": send_error,
            "test_error": test_error,
            "form": form or {},
            "tz": zone_label(get_settings().timezone),
        },
        admin=admin,
        active="issues",
        status_code=status_code,
    )


def zone_label(name: str, now: datetime | None = None) -> str:
    """How the send form names the zone its "Schedule" time is read in: MAILER_TIMEZONE's IANA
    name with its abbreviation and UTC offset now, e.g. "America/Chicago (CST, UTC-06:00)".
    The server's own zone is beside the point: `parse_when` reads the time in MAILER_TIMEZONE."""
    from zoneinfo import ZoneInfo

    at = (now or datetime.now(UTC)).astimezone(ZoneInfo(name))
    offset = at.strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}" if offset != "+0000" else "UTC"
    abbreviation = at.tzname() or ""
    parts = [p for p in (abbreviation, utc) if p and p != name]
    return f"{name} ({', '.join(parts)})" if parts else name


@router.get("/issues/{slug}")
def issue_page(request: Request, slug: str, session: DB, admin: Admin) -> Response:
    return _issue_page(request, session, admin, get_issue(session, slug))


@lru_cache(maxsize=8)
def _preview_html(issue_id: int, version: str, database_url: str, public_url: str) -> str:
    """The email as a sample reader sees it (cached per issue version)."""
    settings = get_settings()
    factory = get_sessionmaker()
    with factory() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        content = content_of(issue)
    return preview_email(content, settings)[0]


@lru_cache(maxsize=4)
def _preview_pdf(issue_id: int, version: str, database_url: str) -> tuple[bytes, str]:
    settings = get_settings()
    factory = get_sessionmaker()
    with factory() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        content = content_of(issue)
        name = issue.pdf_name
    return render_pdf(content, settings), name


@router.get("/issues/{slug}/preview.html")
def preview_html(slug: str, session: DB, admin: Admin) -> Response:
    issue = get_issue(session, slug)
    settings = get_settings()
    html = _preview_html(
        issue.id, issue.updated_at.isoformat(), settings.database_url, settings.public_url
    )
    return HTMLResponse(html, headers=PREVIEW_HEADERS)


@router.get("/issues/{slug}/preview.pdf")
def preview_pdf(slug: str, session: DB, admin: Admin) -> Response:
    issue = get_issue(session, slug)
    pdf, name = _preview_pdf(issue.id, issue.updated_at.isoformat(), get_settings().database_url)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(name + ".pdf", "inline")},
    )


@router.post("/issues/{slug}/test")
def test_send(
    request: Request,
    slug: str,
    session: DB,
    admin: Admin,
    addresses: Annotated[str, Form(max_length=2000)] = "",
    as_list: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """[TEST] copies as the chosen list's readers get them: a private list's edition links to
    no web edition, and the proof must show that (no list chosen: the public edition)."""
    issue = get_issue(session, slug)
    try:
        clean = _test_addresses(split_test_addresses([addresses]))
        private = get_list(session, as_list).private if as_list else False
        results = send_test_copies(issue.id, clean, web_edition=not private)
    except (MailerError, SubscribersError) as exc:
        return _issue_page(
            request,
            session,
            admin,
            issue,
            test_error=user_message(exc),
            form={"addresses": addresses, "as_list": as_list},
            status_code=422,
        )
    refused = {a: r for a, r in results.items() if not r.accepted}
    if refused:
        detail = "; ".join(f"{a}: {r}" for a, r in refused.items())
        return _issue_page(
            request,
            session,
            admin,
            issue,
            test_error=f"not sent — {detail}",
            form={"addresses": addresses, "as_list": as_list},
            status_code=502,
        )
    return redirect(f"/admin/issues/{slug}", "Test copy sent to " + ", ".join(results) + ".")


def _test_addresses(wanted: list[str]) -> list[str]:
    """The canonical addresses, or InvalidAddress naming each one that is not an address (in a
    list of several, the reason alone would not say which)."""
    clean: list[str] = []
    bad: list[str] = []
    for address in wanted:
        try:
            clean.append(parse_address(address).email)
        except InvalidAddress as exc:
            bad.append(f"{address} is not a valid address: {user_message(exc)}")
    if bad:
        raise InvalidAddress("; ".join(bad))
    return clean


def _parse_audience(value: str) -> tuple[str, str | None]:
    """`list-slug` or `list-slug/segment-slug` from the audience menu."""
    list_slug, _, segment = value.partition("/")
    return list_slug, segment or None


@router.post("/issues/{slug}/send")
def send(
    request: Request,
    slug: str,
    session: DB,
    admin: Admin,
    audience: Annotated[str, Form(max_length=200)] = "",
    where: Annotated[str, Form(max_length=2000)] = "",
    at: Annotated[str, Form(max_length=40)] = "",
    force_resend: Annotated[bool, Form()] = False,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """First post: show what the send would reach. Second post (confirm=yes): create and start."""
    issue = get_issue(session, slug)
    form = {"audience": audience, "where": where, "at": at}
    list_slug, segment = _parse_audience(audience)
    try:
        if not list_slug:
            raise MailerError("choose a list to send to")
        resolved = campaigns.resolve_audience(
            session,
            issue,
            list_slug,
            segment=segment,
            where=where.strip() or None,
            force_resend=force_resend,
        )
        settings = get_settings()
        scheduled_at = parse_when(at, settings.zone()) if at.strip() else None
        # Before the confirmation page: settings that cannot send, nobody to send to, a past time.
        cleared = campaigns.check(resolved, scheduled_at, settings)
    except (MailerError, SubscribersError) as exc:
        return _issue_page(
            request, session, admin, issue, send_error=user_message(exc), form=form, status_code=422
        )
    if confirm != "yes":
        return render(
            request,
            "send_confirm.html.j2",
            {
                "title": f"Send {issue.title}",
                "issue": issue,
                "audience": resolved,
                "private": session.get_one(MailingList, resolved.list_id).private,
                "segment": segment,
                "form": form,
                "force_resend": force_resend,
                "scheduled_at": scheduled_at,
                "scheduled_text": describe(scheduled_at, settings.zone()) if scheduled_at else "",
            },
            admin=admin,
            active="issues",
        )
    campaign = campaigns.create(
        session,
        issue,
        cleared,
        force_resend=force_resend,
        created_by=f"admin: {admin.email}",
    )
    campaign_id = campaign.id
    session.commit()  # only now may a worker see it
    if scheduled_at is None:
        dispatch.start(campaign_id)
        message = f"Campaign {campaign_id} started: {counted(resolved.recipients, 'recipient')}."
    else:
        message = (
            f"Campaign {campaign_id} scheduled for {describe(scheduled_at, settings.zone())}; "
            "the scheduler starts it when due."
        )
    return redirect(f"/admin/campaigns/{campaign_id}", message)
