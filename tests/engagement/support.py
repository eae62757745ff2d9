"""Shared set-up for the engagement tests: the issue whose sources carry URLs, sent in-process."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import lxml.html
from sqlalchemy import update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.content.issues import import_issue
from mailer.db import utcnow
from mailer.sending import tasks
from mailer.sending.models import Delivery
from mailer.settings import Settings, get_settings
from mailer.worker import app as celery_app
from mailer.worker import configure
from subscribers.importing import import_csv
from subscribers.lists import create_list
from subscribers.models import Subscriber
from tests.conftest import SUBSCRIBERS_CSV
from tests.web_support import html_part, parse, recipient, text_part

runner = CliRunner()
LINKED_ISSUE = Path(__file__).parent.parent / "data" / "issues" / "security-chatter-linked.md"
ITEM_URLS = [
    "https://vanguardia.com.mx/noticias/nacional/giro-de-timon-inseguridad?utm_source=briefing&id=1",
    "https://elpais.com/mexico/2025-03-28/secretaria-de-seguridad-de-trump.html",
    "https://www.razon.com.mx/mexico/guardia-nacional-coordinaciones-territoriales/",
    "https://www.excelsior.com.mx/nacional/mexico-eu-colaboracion-seguridad-frontera/",
    "https://www.elimparcial.com/mexico/unicef-reclutamiento-infantil-delito/",
    "https://www.dw.com/es/mexico-rechaza-que-desapariciones-sean-politica-de-estado/a-72145678",
]
MORE_INFO = "https://miranda-partners.com/jvs-delphi-solutions/"
TRACKED = re.compile(r"https://news\.example\.com/r/[a-z0-9]+-[a-z2-7]{16}")


@dataclass(frozen=True)
class Mailed:
    issue_slug: str
    list_slug: str
    by_rcpt: dict[str, EmailMessage]


def send_linked_issue(
    session: Session, settings: Settings, *, opted_out: tuple[str, ...] = ()
) -> Mailed:
    """The issue with linked sources sent to the sample list through `mailer send` (outbox);
    the readers in `opted_out` asked not to be tracked before it was sent."""
    issue = import_issue(session, LINKED_ISSUE)
    mlist = create_list(session, "briefing", "Security Chatter")
    import_csv(session, mlist, SUBSCRIBERS_CSV, settings.secret())
    if opted_out:
        session.execute(
            update(Subscriber).where(Subscriber.email.in_(opted_out)).values(tracking_opt_out=True)
        )
    session.commit()
    slug, list_slug = issue.slug, mlist.slug
    tasks.reset_caches()
    configure(celery_app)
    result = runner.invoke(app, ["send", slug, "--list", list_slug, "--yes"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    outbox = Path(get_settings().smtp_url.removeprefix("outbox://"))
    messages = [parse(p.read_bytes()) for p in sorted(outbox.glob("*.eml"))]
    return Mailed(slug, list_slug, {recipient(m): m for m in messages})


def delivered_a_minute_ago(session: Session) -> None:
    """As if the messages had been read a while after delivery (a scanner fetches at once)."""
    session.execute(update(Delivery).values(sent_at=utcnow() - timedelta(minutes=1)))
    session.commit()


def hrefs(msg: EmailMessage) -> dict[str, str]:
    """The HTML part's links by their visible text (lower-cased, whitespace collapsed)."""
    doc = lxml.html.document_fromstring(html_part(msg))
    out = {}
    for a in doc.xpath("//a[@href]"):
        out.setdefault(" ".join(a.text_content().split()).lower(), a.get("href"))
    return out


def tracked_urls(msg: EmailMessage) -> list[str]:
    """Every tracked link of the message, HTML and text, without repeats, in order."""
    found = TRACKED.findall(html_part(msg)) + TRACKED.findall(text_part(msg))
    return list(dict.fromkeys(found))
