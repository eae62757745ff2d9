"""`mailer send` at the door: what it refuses before any campaign exists, the answer "n", times
in MAILER_TIMEZONE, and how `campaign status` / `campaign list` show a scheduled campaign."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.content.issues import get_issue
from mailer.db import get_sessionmaker
from mailer.errors import ConfigError
from mailer.sending import campaigns
from mailer.sending.models import Campaign
from mailer.settings import Settings, get_settings, reset_settings
from subscribers.segments import create_segment
from tests.builders import Newsroom, newsroom
from tests.dkim_keys import write_key
from tests.hang import hang_guard
from tests.processes import wait_until
from tests.redis_server import RedisServer
from tests.smtpd import SMTPServer
from tests.webserver import MAILER, free_port, mailer_env, run_cli

runner = CliRunner()


@pytest.fixture
def room(session: Session, settings: Settings) -> Newsroom:
    return newsroom(session, settings)


def no_campaign(session: Session) -> bool:
    session.expire_all()
    return session.scalar(select(Campaign.id)) is None


def test_a_dkim_key_file_that_does_not_exist_is_refused_before_any_campaign(
    session: Session,
    room: Newsroom,
    relay: SMTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAILER_DKIM_KEY_FILE", str(tmp_path / "dkim" / "brief.pem"))
    monkeypatch.setenv("MAILER_DKIM_SELECTOR", "brief")
    monkeypatch.setenv("MAILER_DKIM_DOMAIN", "news.example.com")
    reset_settings()
    result = runner.invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    assert isinstance(result.exception, ConfigError)
    assert "MAILER_DKIM_KEY_FILE" in str(result.exception)
    assert "brief.pem: cannot read" in str(result.exception)
    assert no_campaign(session) and relay.sink.received == []


def test_a_send_to_readers_through_a_relay_without_a_postal_address_is_refused(
    session: Session, room: Newsroom, relay: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without MAILER_POSTAL_ADDRESS, a send through a real relay went out with "Postal address
    not configured" in every reader's footer (CAN-SPAM requires the address): it is refused
    before any campaign, naming the setting; a test copy to the editor still goes, and the
    outbox (the demo's path) needs no address."""
    monkeypatch.delenv("MAILER_POSTAL_ADDRESS")
    reset_settings()
    result = runner.invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    assert isinstance(result.exception, ConfigError), result.output
    said = str(result.exception)
    assert said.startswith("cannot send: MAILER_POSTAL_ADDRESS is not set"), said
    assert "CAN-SPAM" in said and "MAILER_POSTAL_ADDRESS=" in said
    assert no_campaign(session) and relay.sink.received == []
    test = ["send", room.issue_slug, "--list", room.list_slug, "--test", "editor@example.org"]
    copy = runner.invoke(app, test)
    assert copy.exit_code == 0, copy.output
    assert len(relay.sink.to("editor@example.org")) == 1
    monkeypatch.setenv("MAILER_SMTP_URL", f"outbox://{Path.cwd() / 'outbox'}")
    reset_settings()
    demo = runner.invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    assert demo.exit_code == 0, demo.output
    assert len(list((Path.cwd() / "outbox").glob("*.eml"))) == room.report.imported


def test_a_send_through_a_relay_names_the_placeholders_readers_would_see(
    session: Session, room: Newsroom, relay: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside production, `mailer send` through a real relay sent the sample's placeholders
    (the sample firm's name, @localhost) to readers without a word (only `issue check` said
    so): it names each on stderr before the question, and sends."""
    result = runner.invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert said.startswith("warning: ") and "readers of this send would see" in said
    assert "- MAILER_FIRM_NAME is not set" in said
    assert len(relay.sink.received) == room.report.imported  # a warning, not a refusal

    # Every setting real: nothing to say.
    for name, value in {
        "MAILER_POSTAL_ADDRESS": "Paseo de la Reforma 250, 06600 Mexico City",
        "MAILER_FIRM_NAME": "Miranda Delphi Solutions",
        "MAILER_NEWSLETTER_NAME": "Security Chatter",
        "MAILER_SECRET_KEY": "s" * 48,
        "MAILER_MAIL_DOMAIN": "news.miranda-partners.com",
        "MAILER_PUBLIC_URL": "https://news.miranda-partners.com",
        "MAILER_FROM": "Miranda Delphi Solutions <briefing@news.miranda-partners.com>",
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    assert get_settings().production_problems() == []
    quiet = runner.invoke(
        app, ["send", room.issue_slug, "--list", room.list_slug, "--force-resend", "--yes"]
    )
    assert quiet.exit_code == 0, quiet.output
    assert "warning" not in quiet.stderr


def test_a_second_send_says_how_many_readers_already_have_the_issue(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    first = runner.invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    assert first.exit_code == 0, first.output
    added = runner.invoke(
        app, ["subscribers", "add", "late.reader@example.org", "--list", room.list_slug]
    )
    assert added.exit_code == 0, added.output
    again = runner.invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    assert again.exit_code == 0, again.output
    said = " ".join(again.stdout.split())
    assert "Recipients: 1" in said
    assert (
        f"({room.report.imported} readers already received this issue and are left out; "
        "--force-resend includes them)" in said
    )


def test_an_empty_audience_is_refused_and_creates_nothing(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    result = runner.invoke(
        app, ["send", room.issue_slug, "--list", room.list_slug, "--where", "tag:nobody", "--yes"]
    )
    assert "Recipients: 0" in result.output
    assert isinstance(result.exception, campaigns.EmptyAudience)
    assert "nobody to send to: list 'briefing' with 'tag:nobody'" in str(result.exception)
    assert no_campaign(session)


def test_answering_no_exits_cleanly_and_creates_nothing(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    result = runner.invoke(app, ["send", room.issue_slug, "--list", room.list_slug], input="n\n")
    assert result.exit_code == 0, result.output
    assert "Send? [y/N]" in result.output and "not sent: no campaign was created" in result.output
    assert no_campaign(session) and relay.sink.received == []


@pytest.mark.parametrize(
    "extra",
    [
        ["--at", (datetime.now(UTC) + timedelta(days=1)).isoformat()],
        ["--segment", "clients"],
        ["--where", "tag:client"],
        ["--force-resend"],
        ["--no-wait"],
    ],
    ids=lambda extra: extra[0],
)
def test_test_copies_with_an_audience_or_timing_option_are_a_usage_error_naming_it(
    session: Session, room: Newsroom, relay: SMTPServer, extra: list[str]
) -> None:
    """Test copies go out at once to the addresses given: `--at`, a segment, `--force-resend` or
    `--no-wait` with `--test` were silently ignored."""
    args = ["send", room.issue_slug, "--list", room.list_slug, "--test", "ed@example.org"]
    result = runner.invoke(app, [*args, *extra])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"--test sends [TEST] copies now, to the addresses given only: {extra[0]}" in said
    assert "would be ignored; leave it out" in said  # one option: not "leave them out"
    assert no_campaign(session) and relay.sink.received == []


def test_a_past_time_is_refused_showing_the_current_time(
    session: Session, room: Newsroom, relay: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_TIMEZONE", "America/Mexico_City")
    reset_settings()
    result = runner.invoke(
        app, ["send", room.issue_slug, "--list", room.list_slug, "--at", "2020-01-01T09:00"]
    )
    message = str(result.exception)
    assert "the send time 2020-01-01 09:00 CST (2020-01-01 15:00 UTC) is in the past" in message
    # The current time in MAILER_TIMEZONE, then in UTC: their dates differ between midnight UTC
    # and midnight in Mexico City.
    now = datetime.now(UTC)
    local = now.astimezone(ZoneInfo("America/Mexico_City"))
    assert f"it is now {local:%Y-%m-%d} " in message and f"({now:%Y-%m-%d} " in message
    assert " UTC); give a later time" in message
    assert result.stdout == ""  # refused before the summary of what would be sent
    assert no_campaign(session) and relay.sink.received == []


def test_a_time_without_a_zone_is_in_mailer_timezone_and_shown_in_both(
    session: Session, settings: Settings, room: Newsroom, relay: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("MAILER_TIMEZONE", "America/Mexico_City")
    reset_settings()
    create_segment(session, room.list_id, "clients", "tag:client")
    session.commit()
    args = ["send", room.issue_slug, "--list", room.list_slug, "--segment", "clients"]
    result = runner.invoke(app, [*args, "--at", "2099-01-01T09:00", "--yes"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    shown = "scheduled for 2099-01-01 09:00 CST (2099-01-01 15:00 UTC)"
    assert shown in result.output
    [campaign] = session.scalars(select(Campaign)).all()
    assert campaign.scheduled_at == datetime(2099, 1, 1, 15, 0, tzinfo=UTC)
    status = runner.invoke(app, ["campaign", "status", str(campaign.id)]).output
    assert "scheduled" in status and shown in status
    # Nothing snapshotted yet: whom it was counted for, not "total 0" (read as "to nobody").
    assert campaign.recipients > 0
    assert f"not started: {campaign.recipients} recipients when counted" in status
    assert "total 0" not in status
    listing = runner.invoke(app, ["campaign", "list"]).output
    assert f"campaign {campaign.id} {shown}" in listing
    row = next(line for line in listing.splitlines() if line.lstrip().startswith(str(campaign.id)))
    assert row.rstrip().endswith(f"~{campaign.recipients}") and "~N: not started yet" in listing
    assert relay.sink.received == []


def test_campaign_list_fits_80_columns_with_the_segment(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    create_segment(session, room.list_id, "spanish-clients", "tag:client and lang:es")
    session.commit()
    sent = runner.invoke(
        app,
        ["send", room.issue_slug, "--list", room.list_slug, "--segment", "spanish-clients", "-y"],
    )
    assert sent.exit_code == 0, sent.output + repr(sent.exception)
    listing = runner.invoke(app, ["campaign", "list"], env={"COLUMNS": "80"}).output
    lines = listing.splitlines()
    assert max(len(line) for line in lines) <= 80, listing
    header = next(line for line in lines if "status" in line)
    for column in ("id", "issue", "list / segment", "sent", "fail", "defer", "total"):
        assert column in header
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("1 "))
    row, below = lines[at], lines[at + 1]
    assert room.issue_slug in row and "briefing" in row and "done" in row
    assert "› spanish-clients" in below


def test_send_and_report_show_one_duration_and_say_what_it_spans(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    """The bar's clock, the line under `mailer send`'s summary and `mailer report` give the same
    sending time, and say that the start (rendering the issue) is not in it; the send also says
    how long the start took, so the wait the editor saw adds up."""
    args = ["send", room.issue_slug, "--list", room.list_slug, "--yes"]
    sent = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert sent.exit_code == 0, sent.output + repr(sent.exception)
    report = runner.invoke(app, ["report", "1"], env={"COLUMNS": "200"})
    assert report.exit_code == 0, report.output
    [spans] = [line for line in report.output.splitlines() if line.startswith("duration")]
    seconds = spans.split()[1]
    assert spans == f"duration  {seconds} s sending (not counting the start: rendering)"
    campaign = session.scalars(select(Campaign)).one()
    assert campaign.started_at and campaign.finished_at
    exact = (campaign.finished_at - campaign.started_at).total_seconds()
    assert seconds == f"{exact:.1f}"
    start = (campaign.started_at - campaign.created_at).total_seconds()
    said = f"duration  {seconds} s sending (not counting the start: rendering, {start:.1f} s)"
    lines = sent.output.splitlines()
    assert said in lines, sent.output
    # The bar's last state: done, its clock that sending time (to the nearest second), not the
    # time since the bar began.
    bar = lines[lines.index(said) - 2]
    assert bar.endswith(f" · done {timedelta(seconds=int(exact + 0.5))}"), bar


def _sample_newsroom(env: dict[str, str], folder: Path) -> str:
    """As a new user would, in `mailer` processes: the database, list `clients`, the sample
    briefing and the sample subscribers imported; returns the issue's slug."""
    samples = Path(__file__).parents[2] / "mailer" / "samples"
    out = {}
    for args in (
        ("db", "upgrade"),
        ("list", "create", "clients", "--name", "Clients"),
        ("issue", "import", str(samples / "security-chatter-2025-04-09.txt")),
        ("subscribers", "import", str(samples / "subscribers-sample.csv"), "--list", "clients"),
    ):
        done = run_cli(env, *args, cwd=folder)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        out[args[0]] = done.stdout
    return out["issue"].split()[-1]  # `issue import` prints the slug last


def test_mailer_send_checks_the_settings_once(tmp_path: Path) -> None:
    """The door's checks (DKIM keys, MAILER_SMTP_URL, production settings, the audience, the
    time) run once per `mailer send`, before the question; the campaign is created from what they
    cleared instead of checking it all again. Seen from outside with strace: the DKIM key file is
    looked at (stat) once. A failing check still stops the send: see the tests above."""
    key = tmp_path / "dkim.pem"
    write_key(key)
    env = mailer_env(
        tmp_path, f"sqlite:///{tmp_path / 'm.db'}", f"smtp://127.0.0.1:{free_port()}", 8000
    )
    env.update(
        {
            "MAILER_DKIM_KEY_FILE": str(key),
            "MAILER_DKIM_SELECTOR": "brief",
            "MAILER_DKIM_DOMAIN": "news.example.com",
        }
    )
    slug = _sample_newsroom(env, tmp_path)
    trace = tmp_path / "syscalls"
    # Scheduled: nothing renders, composes or signs in this process, only the door checks.
    args = ["send", slug, "--list", "clients", "--at", "2099-01-01T09:00", "--yes"]
    done = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=%file", "-o", str(trace), *MAILER, *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "scheduled for 2099-01-01 09:00 UTC" in done.stdout
    calls = trace.read_text().splitlines()
    looked_at = [call for call in calls if f'"{key}"' in call and "stat" in call]
    assert len(looked_at) == 1, looked_at


def _sample_send(env: dict[str, str], folder: Path) -> subprocess.Popen[str]:
    """`mailer send` of the sample issue to list `clients` (set up first), running, its output
    (progress lines, then the outcome) readable line by line."""
    slug = _sample_newsroom(env, folder)
    return subprocess.Popen(
        [*MAILER, "send", slug, "--list", "clients", "--yes"],
        env={**env, "COLUMNS": "200"},
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_ctrl_c_without_a_broker_pauses_the_campaign_instead_of_stranding_it(
    tmp_path: Path,
) -> None:
    """The embedded default sends in `mailer send`'s own process: interrupted while the relay is
    down, the campaign must not stay "sending" with no one left to send it."""
    env = mailer_env(
        tmp_path, f"sqlite:///{tmp_path / 'm.db'}", f"smtp://127.0.0.1:{free_port()}", 8000
    )
    env["MAILER_RETRY_BASE_DELAY"] = "60"
    send = _sample_send(env, tmp_path)
    assert send.stdout is not None
    seen = ""
    for line in send.stdout:  # the relay's refusal is printed as soon as it is recorded
        seen += line
        if line.startswith("deferred:"):
            break
    assert "cannot reach" in seen, seen
    os.kill(send.pid, signal.SIGINT)
    rest, _ = send.communicate(timeout=60)
    assert send.returncode == 130, seen + rest
    assert "paused" in rest and "mailer campaign resume 1" in rest, rest
    status = run_cli(env, "campaign", "status", "1", cwd=tmp_path)
    assert "paused" in status.stdout and "interrupted" in status.stdout, status.stdout


def test_each_test_send_is_a_new_message_in_the_outbox_and_a_reply_to_it_is_an_inquiry(
    session: Session, room: Newsroom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mail clients drop a repeated Message-ID, and the outbox names files after it: a second
    test send (or a second address) must not replace the first copy."""
    from email import message_from_bytes, policy

    from mailer.inbound.judgement import judge
    from mailer.inbound.models import InboundKind

    outbox = tmp_path / "outbox"
    monkeypatch.setenv("MAILER_SMTP_URL", f"outbox://{outbox}")
    reset_settings()
    for _ in range(2):
        result = runner.invoke(
            app, ["send", room.issue_slug, "--list", room.list_slug, "--test", "ed@example.org"]
        )
        assert result.exit_code == 0, result.output
    result = runner.invoke(
        app,
        [
            "send",
            room.issue_slug,
            "--list",
            room.list_slug,
            "--test",
            "a@example.org",
            "--test",
            "b@example.org",
        ],
    )
    assert result.exit_code == 0, result.output
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 4
    copies = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    ids = {str(m["Message-ID"]) for m in copies}
    assert len(ids) == 4
    domain = get_settings().mail_domain
    assert all(i.startswith("<c0.t") and i.endswith(f"@{domain}>") for i in ids)
    # A reader's reply to a test copy: to its Reply-To, In-Reply-To its Message-ID.
    copy = copies[0]
    reply_to = copy["Reply-To"].addresses[0].addr_spec
    reply = (
        f"From: Ed <ed@example.org>\r\nTo: {reply_to}\r\nSubject: Re: {copy['Subject']}\r\n"
        f"In-Reply-To: {copy['Message-ID']}\r\nReferences: {copy['Message-ID']}\r\n"
        "Message-ID: <r1@example.org>\r\n\r\nLooks good.\r\n"
    ).encode()
    verdict = judge(reply, mail_from="ed@example.org", rcpt_to=reply_to, domain=domain)
    assert verdict.kind == InboundKind.INQUIRY
    # The copy itself, sent back by a forwarding rule, is our own mail, not a bounce.
    own = judge(files[0].read_bytes(), mail_from=None, rcpt_to=reply_to, domain=domain)
    assert own.kind == InboundKind.LOOP


def test_a_bad_rate_limit_is_refused_before_any_campaign_exists(
    session: Session, room: Newsroom, relay: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_RATE_LIMIT", "fast")
    reset_settings()
    result = runner.invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    reset_settings()
    assert isinstance(result.exception, ConfigError)
    assert "MAILER_RATE_LIMIT: 'fast' is not a rate" in str(result.exception)
    assert "campaign" not in result.output
    assert no_campaign(session) and relay.sink.received == []


def _slow_send(tmp_path: Path, relay: SMTPServer) -> tuple[dict[str, str], subprocess.Popen[str]]:
    """`mailer send` of the sample issue to the sample list on the embedded default, at eight
    messages a second (so it is stopped part-way), with MAILER_STALE_AFTER far longer than the
    test may take: a resume that waited for it would time out."""
    env = mailer_env(tmp_path, f"sqlite:///{tmp_path / 'm.db'}", relay.url, 8000)
    env.update({"MAILER_RATE_LIMIT": "8/second", "MAILER_STALE_AFTER": "900"})
    send = _sample_send(env, tmp_path)
    return env, send


def _everyone_once(relay: SMTPServer, audience: int) -> None:
    """Every subscriber got the issue; at most the one message in flight at the stop twice."""
    addresses = [a.lower() for r in relay.sink.received for a in r.rcpt_tos]
    assert len(set(addresses)) == audience, sorted(set(addresses))
    assert len(addresses) - audience <= 1, len(addresses)


@pytest.mark.parametrize("stop", [signal.SIGHUP, signal.SIGKILL])  # SIGTERM: as SIGHUP
def test_a_send_stopped_part_way_resumes_at_once_and_sends_the_rest(
    tmp_path: Path, stop: signal.Signals
) -> None:
    """A closed terminal or a `kill` pauses the campaign as Ctrl-C does; even a SIGKILL, which
    leaves it "sending" with nobody sending it, is taken up by `mailer campaign resume`, which
    sends the rows the dead process held without waiting for MAILER_STALE_AFTER."""
    with SMTPServer() as relay:
        env, send = _slow_send(tmp_path, relay)
        wait_until(lambda: len(relay.sink.received) >= 3, timeout=60, what="three messages")
        os.kill(send.pid, stop)
        send.communicate(timeout=60)
        status = run_cli(env, "campaign", "status", "1", cwd=tmp_path).stdout
        assert ("sending" if stop == signal.SIGKILL else "paused") in status, status
        resumed = run_cli(env, "campaign", "resume", "1", cwd=tmp_path)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        status = run_cli(env, "campaign", "status", "1", cwd=tmp_path).stdout
        assert "done" in status, status
        with closing(sqlite3.connect(tmp_path / "m.db")) as db:
            (audience,) = db.execute("SELECT count(*) FROM delivery").fetchone()
        assert audience > 3
        _everyone_once(relay, audience)


def test_resume_after_the_relay_is_back_sends_the_deferred_mail_at_once(tmp_path: Path) -> None:
    """The relay is down, the send defers its readers (an hour's backoff) and its process is
    killed outright; the editor brings the relay back and resumes: the deferred mail goes now,
    not after its backoff (a resume that waited would look like one that does nothing)."""
    relay = SMTPServer()  # its port is chosen; nothing listens on it yet
    env = mailer_env(tmp_path, f"sqlite:///{tmp_path / 'm.db'}", relay.url, 8000)
    env.update({"MAILER_RETRY_BASE_DELAY": "3600", "MAILER_STALE_AFTER": "900"})
    send = _sample_send(env, tmp_path)

    def deferred() -> bool:
        with closing(sqlite3.connect(tmp_path / "m.db")) as db:
            try:
                (count,) = db.execute(
                    "SELECT count(*) FROM delivery WHERE status = 'deferred'"
                ).fetchone()
            except sqlite3.OperationalError:  # the tables are not there yet
                return False
        return bool(count)

    wait_until(deferred, timeout=60, what="a reader deferred while the relay is down")
    os.kill(send.pid, signal.SIGKILL)
    send.communicate(timeout=60)
    with relay, hang_guard(120):
        resumed = run_cli(env, "campaign", "resume", "1", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    status = run_cli(env, "campaign", "status", "1", cwd=tmp_path).stdout
    assert "done" in status, status
    with closing(sqlite3.connect(tmp_path / "m.db")) as db:
        (audience,) = db.execute("SELECT count(*) FROM delivery").fetchone()
    _everyone_once(relay, audience)


def test_a_test_copy_for_a_private_list_is_the_private_lists_mail(
    session: Session, room: Newsroom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mailer send SLUG --list PRIVATE --test ADDRESS`: the copy the editor checks is what the
    private list will get (no List-Archive, no "View in browser", the PDF said attached)."""
    from email import message_from_bytes, policy

    outbox = tmp_path / "outbox"
    monkeypatch.setenv("MAILER_SMTP_URL", f"outbox://{outbox}")
    reset_settings()
    made = runner.invoke(app, ["list", "update", room.list_slug, "--private"])
    assert made.exit_code == 0, made.output
    sent = runner.invoke(
        app, ["send", room.issue_slug, "--list", room.list_slug, "--test", "ed@example.org"]
    )
    assert sent.exit_code == 0, sent.output
    [copy_file] = outbox.glob("*.eml")
    copy = message_from_bytes(copy_file.read_bytes(), policy=policy.default)
    assert copy["List-Archive"] is None
    text = copy.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "View in browser" not in text and "/archive" not in text
    assert "The PDF edition is attached to this email" in text


def test_a_send_whose_broker_is_down_says_so_and_resume_starts_it_later(tmp_path: Path) -> None:
    """The broker cannot be reached when `mailer send` publishes the start: one line naming the
    campaign and what to do (not kombu's traceback); the campaign stays planned, and `mailer
    campaign resume` starts it once sending is possible (here: without a broker)."""
    with SMTPServer() as relay:
        env = mailer_env(tmp_path, f"sqlite:///{tmp_path / 'm.db'}", relay.url, 8000)
        slug = _sample_newsroom(env, tmp_path)
        down = {**env, "MAILER_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}
        sent = run_cli(down, "send", slug, "--list", "clients", "--yes", cwd=tmp_path)
        assert sent.returncode == 1, sent.stdout + sent.stderr
        assert "Traceback" not in sent.stderr
        said = " ".join(sent.stderr.split())
        assert "campaign 1 is recorded but not started: the broker cannot be reached" in said
        assert "`mailer campaign resume 1`" in said
        assert "planned" in run_cli(env, "campaign", "status", "1", cwd=tmp_path).stdout
        assert relay.sink.received == []

        resumed = run_cli(env, "campaign", "resume", "1", cwd=tmp_path)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert "campaign 1 had not started: starting it now" in resumed.stdout
        assert "done" in run_cli(env, "campaign", "status", "1", cwd=tmp_path).stdout
        with closing(sqlite3.connect(tmp_path / "m.db")) as db:
            (audience,) = db.execute("SELECT count(*) FROM delivery").fetchone()
        assert audience > 3
        _everyone_once(relay, audience)


def test_resume_does_not_double_a_start_another_process_holds(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    """A planned campaign whose start is leased to a live execution: resume refuses, saying
    when the hold ends, and starts nothing."""
    from mailer.db import utcnow

    issue = get_issue(session, room.issue_slug)
    audience = campaigns.resolve_audience(session, issue, room.list_slug)
    cleared = campaigns.check(audience, None, get_settings())
    campaign = campaigns.create(session, issue, cleared)
    campaign.start_owner = "start/elsewhere"
    campaign.start_expires_at = utcnow() + timedelta(seconds=90)
    session.commit()
    result = runner.invoke(app, ["campaign", "resume", str(campaign.id)])
    assert isinstance(result.exception, campaigns.CampaignStateError), result.output
    assert str(result.exception).startswith(
        f"campaign {campaign.id} is being started by another process (its hold ends in "
    )
    session.refresh(campaign)
    assert campaign.status == "planned" and campaign.start_owner == "start/elsewhere"
    assert relay.sink.received == []


def test_the_bar_reports_the_status_the_runner_left_not_one_read_before_it_ended(
    session: Session, room: Newsroom, capsys: pytest.CaptureFixture[str]
) -> None:
    """The in-process runner finishes the campaign and ends between two polls of the bar: the
    last line says `done`, not the `sending` the bar read just before the runner's last write."""
    from mailer.cli.send import follow
    from mailer.sending.models import CampaignStatus

    campaign_id = _sending_campaign(session, room)
    session.commit()

    def runner_finishes_and_ends() -> bool:
        with get_sessionmaker()() as other:
            campaigns.set_status(
                other, campaign_id, CampaignStatus.DONE, allowed_from=(CampaignStatus.SENDING,)
            )
            other.commit()
        return False

    progress = follow(campaign_id, poll=0.01, alive=runner_finishes_and_ends)
    assert progress.status == "done"
    assert f"campaign {campaign_id} done" in capsys.readouterr().out


def test_after_a_pause_the_last_line_counts_what_the_runner_recorded_before_it_stopped(
    session: Session, room: Newsroom, capsys: pytest.CaptureFixture[str]
) -> None:
    """`campaign pause` from another shell: the bar sees `paused` while the runner still records
    its batch in flight. The last line waits for the runner to stop and counts that batch too
    (`sent 2`), as `campaign status` straight after does, not the counts read at the pause."""
    from mailer.cli.send import follow
    from mailer.sending.models import Delivery, DeliveryStatus
    from subscribers.models import Subscription

    campaign_id = _sending_campaign(session, room)
    readers = session.scalars(
        select(Subscription.subscriber_id).where(Subscription.list_id == room.list_id).limit(4)
    ).all()
    session.add_all(
        Delivery(
            campaign_id=campaign_id,
            issue_id=get_issue(session, room.issue_slug).id,
            subscriber_id=s,
        )
        for s in readers
    )
    session.commit()
    steps = iter(["pause", "in flight recorded", "ended"])

    def runner_alive() -> bool:
        step = next(steps, "ended")
        with get_sessionmaker()() as other:
            if step == "pause":  # another shell pauses; the runner's batch is still in flight
                campaigns.pause(other, campaign_id)
            elif step == "in flight recorded":  # the batch's two messages are recorded
                for row in other.scalars(
                    select(Delivery).where(Delivery.campaign_id == campaign_id).limit(2)
                ):
                    row.status = DeliveryStatus.SENT
            other.commit()
        return step != "ended"

    progress = follow(campaign_id, poll=0.01, alive=runner_alive)
    assert progress.status == "paused" and progress.counts["sent"] == 2
    assert f"campaign {campaign_id} paused: pending 2, sent 2" in capsys.readouterr().out


def test_test_addresses_may_be_given_in_one_value_separated_by_commas(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    """As the admin's test form takes them: `--test "a@x.com, b@x.com"` is two addresses, and a
    bad one is named with the option."""
    args = ["send", room.issue_slug, "--list", room.list_slug]
    sent = runner.invoke(app, [*args, "--test", "ed@example.org, Ana@Example.org"])
    assert sent.exit_code == 0, sent.output
    assert sorted(r.rcpt_tos[0] for r in relay.sink.received) == [
        "ana@example.org",
        "ed@example.org",
    ]
    bad = runner.invoke(app, [*args, "--test", "ed@example.org; not an address"])
    assert "--test 'not an address' is not a valid address" in str(bad.exception)
    assert no_campaign(session) and len(relay.sink.received) == 2


def test_with_a_broker_and_no_worker_the_bar_says_what_it_waits_for(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """With a broker `mailer send` cannot see the workers: a campaign no worker starts stays
    "starting", and after NO_WORKER_HINT_AFTER seconds the bar says it is waiting for a
    `mailer worker`, instead of waiting in silence; Ctrl-C leaves it queued."""
    redis_server.flush()
    env = mailer_env(tmp_path, f"sqlite:///{tmp_path / 'm.db'}", "smtp://127.0.0.1:1", 8000)
    env["MAILER_BROKER_URL"] = redis_server.url
    send = _sample_send(env, tmp_path)
    guard = threading.Timer(90, send.kill)  # no hint at all: fail, not hang
    guard.start()
    try:
        assert send.stdout is not None
        seen = ""
        for line in send.stdout:
            seen += line
            if "no worker has started" in line:
                break
        send.send_signal(signal.SIGINT)
        seen += send.communicate(timeout=60)[0]
    finally:
        guard.cancel()
        send.kill()
    said = " ".join(seen.split())
    assert "no worker has started campaign 1 after" in said, seen
    assert "is `mailer worker` running with this MAILER_BROKER_URL?" in said
    assert "stopped following; the workers go on" in said
    assert "planned" in run_cli(env, "campaign", "status", "1", cwd=tmp_path).stdout


def _sending_campaign(session: Session, room: Newsroom) -> int:
    """A campaign of the room's issue to its whole list, created and marked sending, as a
    start would leave it (no deliveries yet): what `follow` is then run against."""
    from mailer.sending.models import CampaignStatus

    issue = get_issue(session, room.issue_slug)
    cleared = campaigns.check(
        campaigns.resolve_audience(session, issue, room.list_slug), None, get_settings()
    )
    campaign_id = campaigns.create(session, issue, cleared).id
    campaigns.set_status(
        session, campaign_id, CampaignStatus.SENDING, allowed_from=(CampaignStatus.PLANNED,)
    )
    return campaign_id


def test_scheduling_an_issue_again_to_the_same_list_warns_naming_the_first(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    """A second schedule of the same issue to the same list was created without a word (a
    forgotten schedule, a command run twice): it is still created, but the send says so
    before it asks, naming the campaign already due."""
    args = ["send", room.issue_slug, "--list", room.list_slug, "--yes"]
    first = runner.invoke(app, [*args, "--at", "2099-01-01T09:00"])
    assert first.exit_code == 0, first.output
    assert "already sending or due to send" not in first.output
    [campaign] = session.scalars(select(Campaign)).all()
    again = runner.invoke(app, [*args, "--at", "2099-01-02T09:00"])
    assert again.exit_code == 0, again.output
    assert (
        f"warning: campaign {campaign.id} is already sending or due to send this issue to list "
        f"{room.list_slug}; this creates another campaign" in " ".join(again.output.split())
    )
    assert len(session.scalars(select(Campaign)).all()) == 2


def test_the_report_of_a_cancelled_campaign_says_cancelled_once(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    """`mailer report` printed "status    cancelled cancelled by an editor"."""
    args = ["send", room.issue_slug, "--list", room.list_slug, "--yes", "--at", "2099-01-01T09:00"]
    assert runner.invoke(app, args).exit_code == 0
    [campaign] = session.scalars(select(Campaign)).all()
    cancelled = runner.invoke(app, ["campaign", "cancel", str(campaign.id)])
    assert cancelled.exit_code == 0, cancelled.output
    report = runner.invoke(app, ["report", str(campaign.id)])
    assert report.exit_code == 0, report.output
    assert "status    cancelled by an editor" in report.output
    assert "cancelled cancelled" not in report.output
