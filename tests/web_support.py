"""Shared set-up for the web tests: a really sent campaign (in-process, to the outbox or a real
SMTP server) and helpers to read what was mailed."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.sending import tasks
from mailer.settings import Settings, get_settings
from mailer.worker import app as celery_app
from mailer.worker import configure
from tests.builders import Newsroom, newsroom

runner = CliRunner()

# The editor account the admin tests sign in with (tests/web/conftest.py `room`).
EDITOR_PASSWORD = "correct horse battery"  # noqa: S105  (a test account's password)


@dataclass(frozen=True)
class Sent:
    room: Newsroom
    messages: list[EmailMessage]  # one per recipient, as written to the outbox


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def send_fixture_issue(
    session: Session, settings: Settings, *, private: bool = False, rename_list: str = ""
) -> Sent:
    """The fixture issue sent to the sample list through `mailer send` (outbox transport);
    `private`: the list is made private first (`mailer list update --private`); `rename_list`:
    the list is given that name first (`mailer list update --name`)."""
    room = newsroom(session, settings)
    if private:
        made = runner.invoke(app, ["list", "update", room.list_slug, "--private"])
        assert made.exit_code == 0, made.output + repr(made.exception)
    if rename_list:
        made = runner.invoke(app, ["list", "update", room.list_slug, "--name", rename_list])
        assert made.exit_code == 0, made.output + repr(made.exception)
    tasks.reset_caches()
    configure(celery_app)
    result = runner.invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    outbox = Path(get_settings().smtp_url.removeprefix("outbox://"))
    messages = [parse(p.read_bytes()) for p in sorted(outbox.glob("*.eml"))]
    assert len(messages) == room.report.imported
    return Sent(room, messages)


def unsubscribe_url(msg: EmailMessage) -> str:
    """The https URL of the List-Unsubscribe header."""
    match = re.search(r"<(https?://[^>]+)>", str(msg["List-Unsubscribe"]))
    assert match, msg["List-Unsubscribe"]
    return match.group(1)


def recipient(msg: EmailMessage) -> str:
    return str(msg["To"].addresses[0].addr_spec)


def html_part(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def text_part(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def alter_one_char(token: str) -> str:
    """The token with its last MAC character changed (still well-formed base32)."""
    last = token[-1]
    return token[:-1] + ("a" if last != "a" else "b")


def web_app() -> Any:
    """The application as `mailer web` serves it."""
    from mailer.web.app import create_app

    return create_app()
