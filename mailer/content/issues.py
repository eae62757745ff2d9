"""Storing issues: import a file (either format), read an issue back as IssueContent.

Import is idempotent per slug: editors fix a typo and import the same file again, so a known slug is
updated in place (same row, same id, items replaced) rather than refused or duplicated. The slug
comes from the newsletter and the date, so a *different* issue of the same date would land on the
same slug: an import whose title differs from the stored issue's, or over an issue a campaign has
sent, is refused (IssueConflict, naming both titles) unless the editor asks to replace it
(`mailer issue import --replace`, the admin's "Replace" box). The file's text is stored as
imported, so an issue can always be re-parsed or audited.

The partner is matched by email. When the issue prints the partner differently from the partner's
row (a newer title, say), the printed values are kept in `Issue.extra` under `partner.<field>` so
that `content_of` gives back exactly what was imported and the issue renders as it was written.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session, selectinload

from mailer.content.document import (
    IssueContent,
    Item,
    PartnerInfo,
    Source,
    is_derived_title,
    issue_problem,
)
from mailer.content.errors import IssueFormatError
from mailer.content.models import Issue, IssueItem, Partner
from mailer.content.partners import get_partner, info_of, match_or_create
from mailer.errors import MailerError, NotFound

if TYPE_CHECKING:
    from mailer.content.inline import Markup  # a Literal alias (inline.py loads markdown-it)

Format = Literal["briefing", "markdown"]
PARTNER_OVERRIDE = "partner."  # prefix of Issue.extra keys holding the partner as printed
PARTNER_REF = "partner"  # extra key set by the Markdown parser for a partner given by slug/email
PARTNER_REF_LINE = "partner_line"  # …and the file line it was given on


# The campaign table, by name: content sits below sending, so it does not import its models.
_CAMPAIGN = table("campaign", column("id"), column("issue_id"), column("status"))
_NOT_YET_SENT = ("planned", "scheduled")


class IssueConflict(MailerError):
    """An import would silently replace a different (or already sent) issue of the same slug."""


def replace_problem(session: Session, issue: Issue, content: IssueContent, flag: str) -> str | None:
    """Why importing `content` over the stored `issue` needs `flag` (the user's explicit
    "replace it"), or None when it is a re-import of the same, unsent issue."""
    sent = session.scalars(
        select(_CAMPAIGN.c.id)
        .where(_CAMPAIGN.c.issue_id == issue.id, _CAMPAIGN.c.status.not_in(_NOT_YET_SENT))
        .order_by(_CAMPAIGN.c.id)
    ).all()
    why = []
    # A derived title in another language (an older import's `— 9 April 2025` of a Spanish issue)
    # is the same issue: the re-import writes it in the issue's language.
    derived = is_derived_title(issue.title, content.newsletter, content.date) and (
        is_derived_title(content.title, content.newsletter, content.date)
    )
    if issue.title != content.title and not derived:
        why.append(f"its title is {issue.title!r}, this one's is {content.title!r}")
    if sent:
        shown = ", ".join(str(c) for c in sent[:5])
        why.append(
            f"it has been sent (campaign{'s' if len(sent) != 1 else ''} {shown}): its readers "
            "keep the mail they got, and the archive and reports would show the new text"
        )
    if not why:
        return None
    return (
        f"issue {issue.slug!r} already exists and was not replaced: {'; '.join(why)} (the slug "
        f"comes from the newsletter and the date). {flag} replaces it; or give this issue "
        "another date or its own `slug:`"
    )


@dataclass(frozen=True)
class ImportResult:
    issue: Issue
    created: bool  # False: an issue with this slug existed and was updated in place
    partner_created: bool
    source_format: Format
    previous_title: str = ""  # the title the slug held before, when it was updated


def detect_format(text: str) -> Format:
    """Front matter (`---` as the first line) means Markdown; anything else is the briefing."""
    lines = text.removeprefix("\ufeff").lstrip("\r\n").splitlines()  # LF, CRLF or CR alike
    first = lines[0].strip() if lines else ""
    return "markdown" if first == "---" else "briefing"


def read_issue_file(path: str | Path) -> str:
    """The file's text (`decode_issue`); refuses what is not there or not readable text."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise IssueFormatError("no such file", path=str(path)) from None
    except IsADirectoryError:
        raise IssueFormatError("is a folder, not an issue file", path=str(path)) from None
    except OSError as exc:
        raise IssueFormatError(f"cannot read it: {exc.strerror}", path=str(path)) from None
    return decode_issue(data, str(path), again="import it again")


def decode_issue(data: bytes, path: str, *, again: str = "import it again") -> str:
    """An issue file's bytes as text: UTF-8 (with or without a byte-order mark), or UTF-16 with
    its byte-order mark (what Notepad and Word save as "Unicode"), which cannot be mistaken.

    Raises IssueFormatError naming the line and column (in bytes) of the first byte that is not
    UTF-8, and, where the bytes say so, what the file is instead: UTF-16 without a byte-order
    mark, or a Windows code page (Word's "Text only", Latin-1). Anything else is refused rather
    than guessed: a wrong guess would put mangled names in every reader's inbox."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise IssueFormatError(
                f"the file starts as UTF-16 text but is not valid UTF-16 (save it as UTF-8 and "
                f"{again})",
                path=path,
                line=1,
            ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        head = data[:4096]
        if head.count(b"\x00") * 4 > len(head):
            what = "UTF-16 text without a byte-order mark"
        else:
            what = "a binary file, not text" if b"\x00" in data else "Windows-1252 or Latin-1 text"
        raise IssueFormatError(
            f"column {column}: byte 0x{data[exc.start]:02X} is not UTF-8: the file looks like "
            f"{what}; save it as UTF-8 and {again}",
            path=path,
            line=line,
        ) from None


# C0 controls but tab and line ends, DEL, and C1 controls: never text an editor meant to write
# (a NUL cannot even be stored in PostgreSQL), and invisible in every reader's mail client.
# Word's "Text only" writes a manual line break as VT and a page break as FF: read as line ends.
_LINE_ENDS = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def _refuse_control_characters(text: str, path: str | None) -> None:
    """IssueFormatError naming the line and column of the first control character."""
    found = _CONTROL.search(text)
    if found is None:
        return
    start = found.start()
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    raise IssueFormatError(
        f"column {column}: a control character (U+{ord(found.group()):04X}) is not text; "
        "delete it (it is often pasted from another program) and import again",
        path=path or "pasted text",
        line=line,
    )


def parse_issue(text: str, *, path: str | None = None) -> tuple[IssueContent, Format]:
    """Parse either format and check the limits every issue keeps (`document.issue_problem`);
    IssueFormatError naming the file (and the line, where the parser knows it)."""
    # The parsers (YAML, address validation) are imported by what imports issues, not by what
    # only reads stored ones (`mailer send` finds its issue here).
    from mailer.content.briefing import parse_briefing
    from mailer.content.markdown import parse_markdown

    _refuse_control_characters(text, path)
    text = text.replace("\x0b", "\n").replace("\x0c", "\n")
    fmt = detect_format(text)
    content = (
        parse_markdown(text, path=path) if fmt == "markdown" else parse_briefing(text, path=path)
    )
    problem = issue_problem(content)
    if problem is not None:
        # A briefing's text is its lines as written: the offending one names where to look.
        line = line_of(text, problem[1]) if fmt == "briefing" else None
        raise IssueFormatError(problem[0], path=path, line=line)
    return content, fmt


def line_of(text: str, value: str) -> int | None:
    """The physical line (1-based) of `text` that holds `value`, None if none does (or "")."""
    needle = value.strip()[:200]
    if not needle:
        return None
    for number, line in enumerate(_LINE_ENDS.split(text.removeprefix("\ufeff")), start=1):
        if needle in line:
            return number
    return None


def _resolve_partner(
    session: Session, content: IssueContent, path: str | None = None
) -> tuple[PartnerInfo, Partner, bool]:
    """(partner as printed, partner row, created); a Markdown slug/email reference is looked up,
    and one nobody added is refused naming the file (`path`) and the line it was given on."""
    ref = content.extra.get(PARTNER_REF)
    if ref and not content.partner.name:
        try:
            row = get_partner(session, ref)
        except NotFound:
            line = content.extra.get(PARTNER_REF_LINE)
            where = f"{path}:{line}: " if path and line else f"line {line}: " if line else ""
            raise NotFound(
                where + _unknown_partner(ref),
                web=where.removeprefix(f"{path}:") + _unknown_partner_web(ref),
            ) from None
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


def _unknown_partner_web(ref: str) -> str:
    """The same for the admin pages and the API, which add a partner only through an issue."""
    email = ref if "@" in ref else "EMAIL"
    return (
        f"no partner {ref!r}: give the partner in full in the front matter "
        f"(`partner: {{name: NAME, email: {email}}}`), which adds the partner on import"
    )


def store_issue(
    session: Session,
    content: IssueContent,
    *,
    source_text: str,
    source_format: Format,
    replace: bool = False,
    flag: str = "--replace",
    path: str | None = None,
) -> ImportResult:
    """Insert or update (by slug) the issue, its items and its partner; flushes, never commits.

    IssueConflict when the slug holds a different or already sent issue, unless `replace`
    (`flag` is how the caller's user says so, for the message)."""
    existing = session.scalar(select(Issue).where(Issue.slug == content.slug))
    if existing is not None and not replace:
        problem = replace_problem(session, existing, content, flag)
        if problem is not None:
            raise IssueConflict(problem)
    from mailer.content.language import written_in
    from mailer.content.markdown import default_call_to_action

    printed, partner, partner_created = _resolve_partner(session, content, path)
    call_to_action = content.call_to_action or default_call_to_action(
        printed,
        content.newsletter,
        written_in(
            content.extra.get("lang"),
            [content.summary, *(p for item in content.items for p in item.paragraphs)],
        ),
    )
    extra = {k: v for k, v in content.extra.items() if k not in (PARTNER_REF, PARTNER_REF_LINE)}
    row_info = info_of(partner)
    for f in fields(PartnerInfo):
        if getattr(printed, f.name) != getattr(row_info, f.name):
            extra[PARTNER_OVERRIDE + f.name] = getattr(printed, f.name)

    issue = existing
    created = issue is None
    previous_title = "" if issue is None else issue.title
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
    return ImportResult(issue, created, partner_created, source_format, previous_title)


def import_issue_file(session: Session, path: str | Path, *, replace: bool = False) -> ImportResult:
    """Read, parse and store one issue file; the caller's transaction decides whether it sticks."""
    text = read_issue_file(path)
    content, fmt = parse_issue(text, path=str(path))
    return store_issue(
        session, content, source_text=text, source_format=fmt, replace=replace, path=str(path)
    )


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
