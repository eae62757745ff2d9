"""The archive of sent issues: /archive, /archive/{slug} (the web edition), /archive/{slug}.pdf.

Only issues with a campaign done or sending to a public list are shown (drafts stay private, and
so does an issue sent only to private lists: a client-only briefing answers 404 here, as an
unknown slug does), exactly as mailed to that public list: its campaign's stored rendering when
there is one.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from mailer.content.document import long_date
from mailer.content.inline import plain_text
from mailer.content.issues import content_of, markup_of
from mailer.content.models import Issue
from mailer.headers import content_disposition
from mailer.rendering.context import first_sentence
from mailer.rendering.email_edition import render_email_parts
from mailer.rendering.pdf_edition import render_pdf
from mailer.rendering.web_edition import web_edition
from mailer.rendering.wording import words_for
from mailer.sending.models import Campaign, CampaignRender, CampaignStatus
from mailer.settings import get_settings
from mailer.web.pages import SecureRoute, add_security_headers, page
from mailer.web.public.forms import (
    PageError,
    error_page,
    open_session,
    page_language,
    plausible_slug,
)
from subscribers.models import MailingList

router = APIRouter(route_class=SecureRoute)

ARCHIVED = (CampaignStatus.DONE, CampaignStatus.SENDING)

# Every archive answer may be kept but is checked with us before each use: an issue corrected and
# sent again (or made private) is never shown stale from a browser's or a proxy's cache.
FRESH = "no-cache"


def _published() -> Select[Campaign]:
    """Campaigns that published their issue: done or sending, to a list that is public now."""
    return (
        select(Campaign)
        .join(MailingList, MailingList.id == Campaign.list_id)
        .where(Campaign.status.in_(ARCHIVED), MailingList.private.is_(False))
    )


def sent_issues(session: Session) -> list[Issue]:
    """Issues with at least one campaign done or sending to a public list, newest first (drafts
    and issues sent only to private lists stay out)."""
    sent = _published().with_only_columns(Campaign.issue_id)
    return list(
        session.scalars(
            select(Issue)
            .where(Issue.id.in_(sent))
            .order_by(Issue.issue_date.desc(), Issue.id.desc())
        )
    )


def _archived(session: Session, slug: str) -> tuple[Issue, Campaign]:
    """The issue and its most recent campaign that went out to a public list, or a 404 page
    (the same for a draft, an unknown slug and an issue sent only to private lists)."""
    issue = (
        session.scalar(select(Issue).where(Issue.slug == slug))
        if plausible_slug(slug, 120)
        else None
    )
    campaign = None
    if issue is not None:
        campaign = session.scalar(
            _published().where(Campaign.issue_id == issue.id).order_by(Campaign.id.desc()).limit(1)
        )
    if issue is None or campaign is None:
        raise PageError(404, "issue_not_found")
    return issue, campaign


def _stored(session: Session, issue: Issue, campaign: Campaign) -> CampaignRender | None:
    """The campaign's stored rendering if it was made for the archive and is still the issue's
    text: one made while its list was private links to no web edition (and says the PDF is
    attached), and an issue corrected since (`mailer issue import --replace`) must show its
    correction, so in both cases the archive prints the issue afresh instead."""
    stored = session.get(CampaignRender, campaign.id)
    if stored is None or not stored.web_edition:
        return None
    return None if issue.updated_at > stored.created_at else stored


@router.get("/archive", include_in_schema=False)
def archive_index(request: Request) -> Response:
    """The sent issues, newest first, in the language the reader's browser asks for (no one is
    known here); `Vary` keeps a cache from giving one reader's language to the next."""
    lang = page_language(request)
    with open_session() as session:
        issues = [
            {
                "slug": i.slug,
                "title": i.title,
                "newsletter": i.newsletter,
                "date": long_date(i.issue_date, lang),
                "iso_date": i.issue_date.isoformat(),
                # What a reader sees of it: a Markdown summary's marks are not shown.
                "summary": first_sentence(plain_text(i.summary, markup_of(i)), 240),
            }
            for i in sent_issues(session)
        ]
    return page(
        request,
        "archive.html.j2",
        {"title": words_for(lang)["archive"], "issues": issues, "lang": lang},
        headers={"Cache-Control": FRESH, "Vary": "Accept-Language"},
    )


@router.get("/archive/{slug}.pdf", include_in_schema=False)
def archive_pdf(request: Request, slug: str) -> Response:
    """The PDF edition exactly as mailed (the campaign's stored rendering), or printed afresh."""
    with open_session() as session:
        try:
            issue, campaign = _archived(session, slug)
        except PageError as err:
            return error_page(request, err)
        stored = _stored(session, issue, campaign)
        if stored is not None:
            data, filename = bytes(stored.pdf), stored.pdf_filename
        else:
            content = content_of(issue)
            data, filename = render_pdf(content, get_settings()), content.pdf_filename
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(filename),
            "Cache-Control": FRESH,
        },
    )


# The web edition keeps the email's inline styles (premailer put them there), so its policy allows
# inline *styles* — still no script at all, and nothing loaded from elsewhere but images.
WEB_EDITION_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@router.get("/archive/{slug}", include_in_schema=False)
def archive_issue(request: Request, slug: str) -> Response:
    settings = get_settings()
    with open_session() as session:
        try:
            issue, campaign = _archived(session, slug)
        except PageError as err:
            return error_page(request, err)
        stored = _stored(session, issue, campaign)
        mlist = session.get(MailingList, campaign.list_id)
        subscribe_url = f"/subscribe/{mlist.slug}" if mlist is not None else "/archive"
        if stored is not None:
            template = stored.html_template
        else:
            template, _, _ = render_email_parts(content_of(issue), settings)
        html = web_edition(
            template,
            archive_url=f"{settings.public_url}/archive/{issue.slug}",
            subscribe_url=subscribe_url,
            pdf_url=f"/archive/{issue.slug}.pdf",
            newsletter=issue.newsletter,
            firm=settings.firm_name,
        )
    response = Response(
        html, media_type="text/html; charset=utf-8", headers={"Cache-Control": FRESH}
    )
    add_security_headers(response, {"Content-Security-Policy": WEB_EDITION_CSP})
    return response
