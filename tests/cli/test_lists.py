"""`mailer list create --private`, `mailer list update` and the VISIBILITY column, as a user runs
them: what they print, what they change, and the one-line error for a list that does not exist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.settings import Settings
from subscribers.lists import get_list

runner = CliRunner()


def mailer(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_create_private_and_list_show_each_lists_visibility(settings: Settings) -> None:
    assert mailer("list", "create", "weekly", "--name", "Weekly Briefing") == (
        "created list weekly (Weekly Briefing)\n"
    )
    assert mailer("list", "create", "board", "--name", "Board Briefing", "--private") == (
        "created private list board (Board Briefing)\n"
    )
    assert mailer("list", "list").splitlines() == [
        "SLUG    VISIBILITY   ACTIVE  PENDING  UNSUBSCRIBED  NAME",
        "board   private           0        0             0  Board Briefing",
        "weekly  public            0        0             0  Weekly Briefing",
    ]


def test_update_changes_only_what_is_given(settings: Settings, session: Session) -> None:
    mailer("list", "create", "weekly", "--name", "Weekly Briefing", "--description", "Mondays")
    assert mailer("list", "update", "weekly", "--private") == (
        "updated list weekly (Weekly Briefing): private\n"
    )
    mlist = get_list(session, "weekly")
    assert (mlist.name, mlist.description, mlist.private) == ("Weekly Briefing", "Mondays", True)
    assert mailer("list", "update", "weekly", "--name", "Client Briefing") == (
        "updated list weekly (Client Briefing): private\n"
    )
    session.expire_all()
    assert (mlist.name, mlist.description, mlist.private) == ("Client Briefing", "Mondays", True)
    mailer("list", "update", "weekly", "--public", "--description", "  Tuesdays ")
    session.expire_all()
    assert (mlist.name, mlist.description, mlist.private) == ("Client Briefing", "Tuesdays", False)
    assert "weekly  public " in mailer("list", "list")


def test_update_refuses_an_empty_name_and_an_empty_request(settings: Settings) -> None:
    mailer("list", "create", "weekly", "--name", "Weekly Briefing")
    empty = runner.invoke(app, ["list", "update", "weekly", "--name", "  "])
    assert empty.exit_code != 0 and "a list needs a name (--name)" in str(empty.exception)
    nothing = runner.invoke(app, ["list", "update", "weekly"])
    assert nothing.exit_code != 0
    assert "give --name, --description, --private or --public" in str(nothing.exception)
    assert "weekly  public " in mailer("list", "list")


def _mailer_process(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
    return subprocess.run(
        [sys.executable, "-m", "mailer", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_update_of_an_unknown_list_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    assert _mailer_process(tmp_path, "db", "upgrade").returncode == 0
    assert _mailer_process(tmp_path, "list", "create", "weekly", "--name", "W").returncode == 0
    done = _mailer_process(tmp_path, "list", "update", "wekly", "--private")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == "error: no list with slug 'wekly' (known lists: weekly)"
    listed = _mailer_process(tmp_path, "list", "list")
    assert "weekly  public " in listed.stdout


def test_private_and_public_together_are_a_usage_error_naming_both(
    settings: Settings, session: Session
) -> None:
    mailer("list", "create", "weekly", "--name", "Weekly Briefing")
    for flags in (["--private", "--public"], ["--public", "--private"]):
        both = runner.invoke(app, ["list", "update", "weekly", *flags])
        assert both.exit_code == 2, both.output
        assert "--private and --public contradict each other" in both.output
    assert get_list(session, "weekly").private is False  # nothing changed


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("Weekly\r\nBriefing", "U+000D"),
        ("Weekly\nBriefing", "U+000A"),
        ("Week\u200bly", "U+200B"),
        ("\u200fWeekly", "U+200F"),
        ("Weekly\u2028", "U+2028"),
        ("\ufeffWeekly", "U+FEFF"),
        ("W" * 201, "201 characters long"),
    ],
)
def test_create_and_update_refuse_a_name_that_is_not_one_line_of_visible_text(
    settings: Settings, session: Session, name: str, named: str
) -> None:
    created = runner.invoke(app, ["list", "create", "weekly", "--name", name])
    assert created.exit_code != 0 and named in str(created.exception)
    assert "(--name)" in str(created.exception)
    mailer("list", "create", "weekly", "--name", "Weekly Briefing")
    updated = runner.invoke(app, ["list", "update", "weekly", "--name", name])
    assert updated.exit_code != 0 and named in str(updated.exception)
    session.expire_all()
    assert get_list(session, "weekly").name == "Weekly Briefing"


def test_list_list_says_how_many_of_the_active_a_send_reaches_as_send_counts_recipients(
    settings: Settings, session: Session
) -> None:
    """A hard-bounced (suppressed) or complained reader keeps an active subscription: ACTIVE
    counts them, and the line under the table says how many a send to the whole list reaches,
    the "Recipients:" `mailer send` prints (the same rule: `segments.count`)."""
    from subscribers import segments
    from subscribers.models import Subscriber, SubscriberStatus
    from tests.builders import newsroom

    room = newsroom(session, settings)
    imported = room.report.imported
    mailer("list", "create", "spare", "--name", "Spare")
    bounced, complained = "jose.rivera1@example.org", "ricardo.diaz2@example.org"
    mailer("suppression", "add", bounced, "--reason", "hard_bounce")
    reader = session.query(Subscriber).filter_by(email=complained).one()
    reader.status = SubscriberStatus.COMPLAINED
    session.commit()
    lines = mailer("list", "list").splitlines()
    assert lines[1].split()[:5] == ["briefing", "public", str(imported), "0", "0"]
    assert lines[3:] == [
        f"briefing: {imported - 2} of the {imported} active are mailable (2 suppressed)",
        "suppressed: a hard bounce, a complaint, an erasure or `mailer suppression add`; "
        "a send skips them",
    ]
    assert segments.count(session, room.list_id, None) == imported - 2


def test_list_delete_asks_refuses_with_campaigns_and_deletes_as_the_admin_does(
    settings: Settings, session: Session
) -> None:
    """`mailer list delete` asks first (--yes does not), keeps the people, and refuses a list
    that campaigns refer to with the admin's own words, before asking."""
    from mailer.content.issues import get_issue
    from mailer.sending import campaigns
    from subscribers.lifecycle import get_subscriber
    from tests.builders import cleared, newsroom

    room = newsroom(session, settings)
    mailer("list", "create", "spare", "--name", "Spare")
    mailer("subscribers", "add", "valeria.gonzalez0@example.com", "--list", "spare")
    kept = runner.invoke(app, ["list", "delete", "spare"], input="n\n")
    assert kept.exit_code == 0 and "not deleted" in kept.stdout
    assert "1 subscription" in kept.stdout
    assert get_list(session, "spare") is not None
    gone = mailer("list", "delete", "spare", "--yes")
    assert "deleted list spare with its 1 subscription and 0 segments" in gone
    assert "the subscribers themselves are kept" in gone
    session.expire_all()
    assert "spare" not in mailer("list", "list")
    assert get_subscriber(session, "valeria.gonzalez0@example.com") is not None

    issue = get_issue(session, room.issue_slug)
    campaigns.create(
        session, issue, cleared(campaigns.resolve_audience(session, issue, room.list_slug))
    )
    session.commit()
    refused = runner.invoke(app, ["list", "delete", room.list_slug])  # refused before asking
    assert refused.exit_code != 0 and "Delete it?" not in refused.output
    assert "has 1 campaign, whose figures and archive refer to it" in str(refused.exception)
    assert get_list(session, room.list_slug) is not None
