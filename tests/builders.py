"""Real data for tests: the firm's fixture issue, a list, and the sample subscribers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from mailer.issues import import_issue
from mailer.settings import Settings
from subscribers.importing import ImportReport, import_csv
from subscribers.lists import create_list
from tests.conftest import BRIEFING, SUBSCRIBERS_CSV


@dataclass(frozen=True)
class Newsroom:
    issue_slug: str
    issue_id: int
    list_slug: str
    list_id: int
    report: ImportReport


def newsroom(session: Session, settings: Settings, list_slug: str = "briefing") -> Newsroom:
    """The fixture issue imported and the sample CSV imported into one list; committed."""
    issue = import_issue(session, BRIEFING)
    mlist = create_list(session, list_slug, "Security Chatter")
    report = import_csv(session, mlist, SUBSCRIBERS_CSV, settings.secret())
    session.commit()
    return Newsroom(issue.slug, issue.id, mlist.slug, mlist.id, report)
