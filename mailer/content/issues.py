"""Storing issues: import a file (either format), read an issue back as IssueContent.

Import is idempotent per slug: editors fix a typo and import the same file again, so a known slug is
updated in place (same row, same id, items replaced) rather than refused or duplicated. The file's
text is stored as imported, so an issue can always be re-parsed or audited.

The partner is matched by email. When the issue prints the partner differently from the partner's
row (a newer title, say), the printed values are kept in `Issue.extra` under `partner.<field>` so
that `content_of` gives back exactly what was imported and the issue renders as it was written.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mailer.content.briefing import parse_briefing
from mailer.content.document import IssueContent, Item, PartnerInfo, Source, check_issue
from mailer.content.errors import IssueFormatError
from mailer.content.inline import Markup
from mailer.content.markdown import default_call_to_action, parse_markdown
from mailer.content.models import Issue, IssueItem, Partner
from mailer.content.partners import get_partner, info_of, match_or_create
from mailer.errors import NotFound

Format = Literal["briefing", "markdown"]
PARTNER_OVERRIDE = "partner."  # prefix of Issue.extra keys holding the partner as printed
PARTNER_REF = "partner"  # extra key set by the Markdown parser for a partner given by slug/email


@dataclass(frozen=True)
class ImportResult:
    issue: Issue
    created: bool  # False: an issue with this slug existed and was updated in place
    partner_created: bool
    source_format: Format


def detect_format(text: str) -> Format:
    """Front matter (`---` as the first line) means Markdown; anything else is the briefing."""
    lines = text.removeprefix("\ufeff").lstrip("\r\n").splitlines()  # LF, CRLF or CR alike
    first = lines[0].strip() if lines else ""
    return "markdown" if first == "---" else "briefing"


def read_issue_file(path: str | Path) -> str:
    """The file's text; refuses what is not there or not UTF-8, naming the line of the bad byte."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise IssueFormatError("no such file", path=str(path)) from None
    except IsADirectoryError:
        raise IssueFormatError("is a folder, not an issue file", path=str(path)) from None
    except OSError as exc:
        raise IssueFormatError(f"cannot read it: {exc.strerror}", path=str(path)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IssueFormatError(
            "the file is not UTF-8 text (save it as UTF-8 and import it again)",
            path=str(path),
            line=line,
        ) from None


def parse_issue(text: str, *, path: str | None = None) -> tuple[IssueContent, Format]:
    """Parse either format and check the limits every issue keeps (`document.check_issue`);
    IssueFormatError naming the file (and the line, where the parser knows it)."""
    fmt = detect_format(text)
    content = (
        parse_markdown(text, path=path) if fmt == "markdown" else parse_briefing(text, path=path)
    )
    problem = check_issue(content)
    if problem is not None:
        raise IssueFormatError(problem, path=path)
    return content, fmt


def _resolve_partner(session: Session, content: IssueContent) -> tuple[PartnerInfo, Partner, bool]:
    """(partner as printed, partner row, created); a Markdown slug/email reference is looked up."""
    ref = content.extra.get(PARTNER_REF)
    if ref and not content.partner.name:
        try:
            row = get_partner(session, ref)
        except NotFound:
            raise NotFound(_unknown_partner(ref)) from None
        return info_of(row), row, False
    row, created = match_or_create(session, content.partner)
    return content.partner, row, created


def _unknown_partner(ref: str) -> str:
    """What to do when a Markdown issue's `partner:` names no known partner: add it with the
    CLI, or write the partner out in full, which adds it on import as a briefing's byline does."""
    email = ref if "@" in ref else "EMAIL"
    slug = "SLUG" if "@" in ref else ref
    return (
        f"no partner {ref!r}: see `mailer partner list`, or add one with "
        f"`mailer partner add {slug} --name NAME --email {email}`, or give the partner in full "
        f"in the front matter (`partner: {{name: NAME, email: {email}}}`), which adds the "
        "partner on import"
    )


def store_issue(
    session: Session, content: IssueContent, *, source_text: str, source_format: Format
) -> ImportResult:
    """Insert or update (by slug) the issue, its items and its partner; flushes, never commits."""
    printed, partner, partner_created = _resolve_partner(session, content)
    call_to_action = content.call_to_action or default_call_to_action(printed, content.newsletter)
    extra = {k: v for k, v in content.extra.items() if k != PARTNER_REF}
    row_info = info_of(partner)
    for f in fields(PartnerInfo):
        if getattr(printed, f.name) != getattr(row_info, f.name):
            extra[PARTNER_OVERRIDE + f.name] = getattr(printed, f.name)

    issue = session.scalar(select(Issue).where(Issue.slug == content.slug))
    created = issue is None
    if issue is None:
        issue = Issue(slug=content.slug)
        session.add(issue)
    else:
        issue.items.clear()
        session.flush()  # delete the old items before inserting new ones at the same positions
    issue.title = content.title
    issue.newsletter = content.newsletter
    issue.issue_date = content.date
    issue.partner = partner
    issue.summary = content.summary
    issue.call_to_action = call_to_action
    issue.more_info_url = content.more_info_url
    issue.pdf_name = content.pdf_name
    issue.source_format = source_format
    issue.source_text = source_text
    issue.extra = extra
    issue.items = [
        IssueItem(
            position=position,
            headline=item.headline,
            body="\n\n".join(item.paragraphs),
            source_outlet=item.source.outlet,
            source_date=item.source.date,
            source_author=item.source.author,
            source_title=item.source.title,
            source_url=item.source.url,
        )
        for position, item in enumerate(content.items, start=1)
    ]
    session.flush()
    return ImportResult(issue, created, partner_created, source_format)


def import_issue_file(session: Session, path: str | Path) -> ImportResult:
    """Read, parse and store one issue file; the caller's transaction decides whether it sticks."""
    text = read_issue_file(path)
    content, fmt = parse_issue(text, path=str(path))
    return store_issue(session, content, source_text=text, source_format=fmt)


def import_issue(session: Session, path: str | Path) -> Issue:
    return import_issue_file(session, path).issue


def content_of(issue: Issue) -> IssueContent:
    """The IssueContent the issue was imported as, rebuilt from its rows."""
    overrides = {
        k.removeprefix(PARTNER_OVERRIDE): v
        for k, v in issue.extra.items()
        if k.startswith(PARTNER_OVERRIDE)
    }
    partner = replace(info_of(issue.partner), **overrides)
    return IssueContent(
        title=issue.title,
        newsletter=issue.newsletter,
        date=issue.issue_date,
        partner=partner,
        summary=issue.summary,
        items=tuple(
            Item(
                headline=row.headline,
                paragraphs=tuple(row.body.split("\n\n")),
                source=Source(
                    outlet=row.source_outlet,
                    date=row.source_date,
                    author=row.source_author,
                    title=row.source_title,
                    url=row.source_url,
                ),
            )
            for row in issue.items  # ordered by position (the relationship says so)
        ),
        call_to_action=issue.call_to_action,
        more_info_url=issue.more_info_url,
        pdf_name=issue.pdf_name,
        slug=issue.slug,
        extra={k: v for k, v in issue.extra.items() if not k.startswith(PARTNER_OVERRIDE)},
        markup=markup_of(issue),
    )


def markup_of(issue: Issue) -> Markup:
    """How the issue's prose is written: inline Markdown for a Markdown issue, literal text for a
    briefing (whose asterisks are asterisks)."""
    return "markdown" if issue.source_format == "markdown" else "text"


def get_issue(session: Session, slug: str) -> Issue:
    """The issue with this slug; NotFound lists the most recent slugs to choose from."""
    issue = session.scalar(
        select(Issue)
        .where(Issue.slug == slug)
        .options(selectinload(Issue.items), selectinload(Issue.partner))
    )
    if issue is not None:
        return issue
    recent = list(
        session.scalars(select(Issue.slug).order_by(Issue.issue_date.desc(), Issue.id.desc()))
    )
    if not recent:
        raise NotFound(
            f"no issue {slug!r}: no issue has been imported yet (mailer issue import FILE)"
        )
    shown = ", ".join(recent[:10]) + (f" (and {len(recent) - 10} more)" if len(recent) > 10 else "")
    raise NotFound(f"no issue {slug!r}; known issues, newest first: {shown}")
