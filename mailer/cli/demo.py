"""`mailer demo`: the whole job on the embedded default, in the current folder.

Imports the firm's briefing and the sample subscribers shipped in the package, writes a preview,
sends the issue through the real campaign path (in-process, to ./outbox unless MAILER_SMTP_URL says
otherwise) and says where to look. Running it again sends nothing new: everyone already has it.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from mailer import db
from mailer.cli import issue as issue_cli
from mailer.cli import send as send_cli
from mailer.cli import subscribers as subscribers_cli
from mailer.db import session_scope
from mailer.sending.campaigns import EmptyAudience
from mailer.settings import get_settings, redact
from subscribers.errors import NotFound
from subscribers.lists import create_list, get_list
from subscribers.text import counted

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BRIEFING = SAMPLES / "security-chatter-2025-04-09.txt"
SUBSCRIBERS = SAMPLES / "subscribers-sample.csv"
LIST_SLUG = "security-chatter"

console = Console()


def demo() -> None:
    """Run the whole job on the shipped sample issue and subscribers, in this folder."""
    settings = get_settings()
    console.rule("1. database")
    before, after = db.upgrade()
    done = "created" if before is None else "up to date"
    console.print(f"{redact(settings.database_url)}: schema {done} ({after})", highlight=False)

    console.rule("2. the issue")
    slug = issue_cli.import_(str(BRIEFING), replace=True)  # a demo run again: the same sample

    console.rule("3. the subscribers")
    with session_scope() as session:
        try:
            get_list(session, LIST_SLUG)
            console.print(f"list {LIST_SLUG} exists")
        except NotFound:
            create_list(session, LIST_SLUG, settings.newsletter_name)
            console.print(f"created list {LIST_SLUG}")
    subscribers_cli.import_(SUBSCRIBERS, LIST_SLUG, separator=None)

    console.rule("4. a preview for a sample reader")
    preview = Path("preview")
    issue_cli.preview(slug, str(preview), list_slug=None)

    console.rule("5. the send")
    try:
        campaign_id: int | str | None = send_cli.send(
            issue_slug=slug,
            list_slug=LIST_SLUG,
            segment=None,
            where=None,
            at=None,
            test=[],
            yes=True,
            no_wait=False,
            force_resend=False,
        )
    except EmptyAudience:
        console.print("nothing new to send: everyone on the list already has this issue")
        campaign_id = slug

    console.rule("where to look")
    if settings.smtp_url.startswith("outbox://"):
        outbox = Path(settings.smtp_url.removeprefix("outbox://") or "./outbox")
        messages = sorted(outbox.glob("*.eml"))
        console.print(
            f"{counted(len(messages), 'message')} in {outbox.resolve()}/ (one .eml per recipient)"
        )
    else:
        console.print(f"messages went to {redact(settings.smtp_url)}")
    console.print(f"a preview in {preview.resolve()}/: email.html, email.txt, the PDF, message.eml")
    console.print(f"the campaign: mailer report {campaign_id}")
    console.print("the web pages (unsubscribe, archive, admin): mailer web")
    console.print("start over: delete mailer.db, mailer.secret, outbox/ and preview/")
