"""`mailer send`: create a campaign, confirm, enqueue after the commit, and follow it."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from mailer.cli import click, sending_time
from mailer.content.issues import get_issue
from mailer.db import get_sessionmaker, session_scope, utcnow
from mailer.sending import campaigns, progress, readiness
from mailer.sending.models import CampaignStatus
from mailer.sending.schedule import describe, parse_when, require_future
from mailer.settings import Settings, get_settings
from subscribers.lists import get_list

if TYPE_CHECKING:
    from rich.progress import ProgressColumn

    from mailer.sending.dispatch import InProcessRunner

console = Console()

FINAL = {CampaignStatus.DONE.value, CampaignStatus.CANCELLED.value}
UNSTARTED = {CampaignStatus.PLANNED.value, CampaignStatus.SCHEDULED.value}
NO_WORKER_HINT_AFTER = 15.0  # seconds a campaign may wait for a worker before the bar says so


def _send_test_copies(settings: Settings, issue_slug: str, list_slug: str, test: list[str]) -> None:
    """`mailer send --test EMAIL…`: [TEST] copies now, to those addresses only (exit 1 when
    one is refused); `--at` is refused with it, since the copies do not wait."""
    # Rendering and composing: only test copies are made in this process (start-up).
    from mailer.sending.copies import send_test_copies, split_test_addresses
    from subscribers.addresses import parse_address
    from subscribers.errors import InvalidAddress

    addresses = []
    for typed in split_test_addresses(test):
        try:
            addresses.append(parse_address(typed).email)
        except InvalidAddress as exc:
            raise InvalidAddress(f"--test {typed!r} is not a valid address: {exc}") from None
    readiness.require(settings, readers=False)  # the editor's own addresses only
    with session_scope() as session:
        issue_id = get_issue(session, issue_slug).id
        # As the list will receive it: a private list's copy links to no web edition.
        private = get_list(session, list_slug).private
    results = send_test_copies(issue_id, addresses, web_edition=not private)
    for addr, reply in results.items():
        mark = "[green]sent[/]" if reply.accepted else "[red]not sent[/]"
        console.print(f"test copy to {addr}: {mark} ({reply})", highlight=False)
    if not all(r.accepted for r in results.values()):
        raise typer.Exit(1)


def _only_test_copies(*flags: tuple[str, bool]) -> None:
    """`--test` sends [TEST] copies now, to the addresses given and no one else: an option that
    chooses the audience or the campaign's timing would be silently ignored, so it is refused
    (a usage error, exit status 2) naming it. `flags`: (option as typed, whether it was given)."""
    given = [flag for flag, on in flags if on]
    if given:
        raise click.exceptions.UsageError(
            f"--test sends [TEST] copies now, to the addresses given only: {', '.join(given)} "
            f"would be ignored; leave {'it' if len(given) == 1 else 'them'} out, or send the "
            "campaign without --test"
        )


def send(
    issue_slug: str = typer.Argument(..., metavar="SLUG", help="The issue to send."),
    list_slug: str = typer.Option(..., "--list", help="The mailing list."),
    segment: str | None = typer.Option(None, "--segment", help="A saved segment of the list."),
    where: str | None = typer.Option(None, "--where", help="A segment expression."),
    at: str | None = typer.Option(None, "--at", help="Schedule for this time (ISO 8601)."),
    test: list[str] = typer.Option(  # noqa: B006
        [],
        "--test",
        metavar="EMAIL",
        help="Send [TEST] copies to these addresses only (repeat it, or separate them with "
        "commas; at most 10).",
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    no_wait: bool = typer.Option(False, "--no-wait", help="Return once the campaign is queued."),
    force_resend: bool = typer.Option(
        False, "--force-resend", help="Also send to whoever already received this issue."
    ),
) -> int | None:
    """Send an issue to a list (and segment), now or at a given time."""
    if test:
        _only_test_copies(
            ("--segment", segment is not None),
            ("--where", where is not None),
            ("--at", at is not None),
            ("--force-resend", force_resend),
            ("--no-wait", no_wait),
        )
    settings = get_settings()
    if test:
        _send_test_copies(settings, issue_slug, list_slug, test)
        return None

    scheduled_at = _send_time(at, settings)
    with session_scope() as session:
        issue = get_issue(session, issue_slug)
        audience = campaigns.resolve_audience(
            session, issue, list_slug, segment=segment, where=where, force_resend=force_resend
        )
        _show_audience(issue.title, issue.slug, segment, audience, scheduled_at, settings)
        # Before asking: a send that cannot go out (settings, nobody to send to, a past time)
        # is refused here, naming why, and no campaign is created.
        cleared = campaigns.check(audience, scheduled_at, settings)
        _warn_of_placeholders(settings)
        if not yes and not typer.confirm("Send?", default=False):
            console.print("not sent: no campaign was created")
            raise typer.Exit(0)
        campaign = campaigns.create(session, issue, cleared, force_resend=force_resend)
        campaign_id = campaign.id
    # Committed: only now may a worker see the campaign.
    console.print(f"campaign {campaign_id}")
    if scheduled_at:
        console.print(
            f"scheduled for {describe(scheduled_at, settings.zone())}; "
            "`mailer beat` starts it when due",
            highlight=False,
        )
        return campaign_id
    # Without a broker the work happens in this process: --no-wait only skips the bar and the
    # retry loop (deferred messages are then retried by `mailer beat`).
    from mailer.sending import dispatch  # the Celery app, which reads the settings

    runner = dispatch.start(campaign_id, keep_retrying=not no_wait, watch=False)
    follow_here(campaign_id, runner, no_wait)
    return campaign_id


def _show_audience(
    title: str,
    slug: str,
    segment: str | None,
    audience: campaigns.Audience,
    scheduled_at: datetime | None,
    settings: Settings,
) -> None:
    """What the send would reach, before the question; a campaign of the issue to the list
    that is not finished yet is named on stderr."""
    console.print(f"Issue:      {title} ({slug})", highlight=False)
    console.print(f"List:       {audience.list_slug}", highlight=False)
    console.print(
        f"Segment:    {segment or audience.expression or 'everyone on the list'}", highlight=False
    )
    console.print(f"Recipients: {audience.recipients}", highlight=False)
    if audience.already_received:
        who = (
            "1 reader already received this issue and is"
            if audience.already_received == 1
            else f"{audience.already_received} readers already received this issue and are"
        )
        console.print(
            f"            ({who} left out; --force-resend includes them)", highlight=False
        )
    if scheduled_at:
        console.print(f"When:       {describe(scheduled_at, settings.zone())}", highlight=False)
    if note := campaigns.under_way_note(audience):
        typer.echo(f"warning: {note}", err=True)


def _send_time(at: str | None, settings: Settings) -> datetime | None:
    """--at as a time in MAILER_TIMEZONE, None for now; a past time is refused here, before the
    summary of what would be sent (the send's own check repeats it later)."""
    if not at:
        return None
    when = parse_when(at, settings.zone())
    require_future(when, utcnow(), settings.zone())
    return when


def _warn_of_placeholders(settings: Settings) -> None:
    """Outside production, a send through a real relay with settings that still hold the
    sample's placeholders (From @localhost, links to 127.0.0.1, the sample firm's name) goes
    out, but readers would see them: each is named on stderr before the question (the postal
    address, which the law requires, was refused before: readiness). The outbox (the demo) is
    not mail anyone reads; production refuses instead."""
    if settings.production or settings.smtp_url.startswith("outbox://"):
        return
    unset = settings.production_problems()
    if not unset:
        return
    lines = [
        f"warning: {len(unset)} settings still hold placeholders that readers of this send "
        "would see (MAILER_PRODUCTION=true refuses to send with any):",
        *(f"- {problem}" for problem in unset),
    ]
    typer.echo("\n".join(lines), err=True)


def follow_here(campaign_id: int, runner: InProcessRunner | None, no_wait: bool) -> None:
    """Follow the campaign (unless `no_wait`) and wait for the in-process runner, if any.

    Ctrl-C without a broker stops the only process sending: the campaign is paused with that
    reason, so it is not left "sending" with no one to send it, and `mailer campaign resume`
    takes it up (messages in flight at that moment count as the crash bound allows). With a
    broker the workers go on; only the following stops."""
    from mailer.sending import dispatch, owners  # the Celery app, which reads the settings

    try:
        with _hang_up_interrupts():
            if not no_wait:
                if runner is None:  # the workers send: say so if none seems to be there
                    follow(campaign_id, no_worker_hint=NO_WORKER_HINT_AFTER)
                else:
                    follow(campaign_id, alive=runner.is_alive)
            dispatch.wait(runner)
        if runner is not None and _paused_by_a_failure(campaign_id):
            raise typer.Exit(1)  # a script must not read "sent" into a campaign that stopped
    except KeyboardInterrupt:
        if runner is None:
            console.print(
                f"stopped following; the workers go on: `mailer campaign status {campaign_id}`"
            )
            raise typer.Exit(130) from None
        # Unless it ended or was paused meanwhile.
        with session_scope() as session, suppress(campaigns.CampaignStateError):
            campaigns.pause(session, campaign_id, reason="interrupted: `mailer` was stopped")
        with session_scope() as session:
            # Stopped before the snapshot began: this process held the start, which ends now.
            unstarted = campaigns.release_unstarted(session, campaign_id)
        # This process sends no more: its claims end now, so a resume sends their rows at once.
        mine = owners.local_prefix()
        dispatch.give_back_abandoned(campaign_id, lambda owner: owner.startswith(mine))
        done = "not started" if unstarted else "paused"
        console.print(
            f"interrupted: campaign {campaign_id} {done}; "
            f"`mailer campaign resume {campaign_id}` sends the rest",
            highlight=False,
        )
        raise typer.Exit(130) from None


def _paused_by_a_failure(campaign_id: int) -> bool:
    """The run this process followed ended paused by what stopped its sending (a relay refusing
    everything, a service out of reach: `batch.pause_for`), not by an editor's pause."""
    from mailer.sending.models import Campaign, CampaignStatus

    with session_scope() as session:
        campaign = session.get(Campaign, campaign_id)
        return (
            campaign is not None
            and campaign.status == CampaignStatus.PAUSED
            and (campaign.status_reason or "").startswith("paused: ")
        )


@contextmanager
def _hang_up_interrupts() -> Iterator[None]:
    """A closed terminal (SIGHUP) or a plain `kill` (SIGTERM) stops this process as Ctrl-C does,
    so the campaign it was sending is paused, not left "sending" with nobody sending it."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGHUP, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def follow(
    campaign_id: int,
    poll: float = 0.3,
    alive: Callable[[], bool] | None = None,
    no_worker_hint: float | None = None,
) -> progress.Progress:
    """A progress bar until the campaign is done, cancelled or paused.

    `alive`: whether this process's in-process runner still sends. With one, the bar ends only
    when it has ended: a pause or cancel seen while its batch in flight is still being recorded
    would otherwise leave the last line counting fewer than `campaign status` straight after.
    Without one (a broker's workers send), the bar ends at the status.

    `no_worker_hint`: seconds after which a campaign no worker has started yet is said to be
    waiting for one (with a broker, `mailer send` cannot see the workers; a campaign that stays
    "starting" is most often one nobody runs `mailer worker` for).

    Each new reason the relay gives for deferring or failing mail is printed above the bar when it
    first appears, so a send that waits says why; the end shows them all with their counts."""
    from rich.progress import Progress

    factory = get_sessionmaker()
    said: set[tuple[str, str]] = set()
    began = time.monotonic()
    saw_the_start = False  # this bar followed the start (rendering), not only the sending
    hinted = no_worker_hint is None
    with Progress(*_columns(), console=console, transient=False) as bar:
        task = bar.add_task(
            "send",
            total=None,
            cid=campaign_id,
            sent=0,
            failed=0,
            deferred=0,
            rate=0.0,
            status="starting",
            clock=_clock(0.0),
        )
        while True:
            # Asked before reading: when the runner has ended, this read is after its last write
            # (asked after, a campaign done meanwhile would be reported as still sending).
            ended = alive is not None and not alive()
            with factory() as session:
                p = progress.progress(session, campaign_id)
                groups = (
                    progress.by_last_reply(session, campaign_id)
                    if p.counts["deferred"] or p.counts["failed"]
                    else []
                )
            waited = time.monotonic() - began
            if not hinted and p.status in UNSTARTED and no_worker_hint and waited > no_worker_hint:
                hinted = True
                bar.console.print(_no_worker(campaign_id, waited), highlight=False)
            _say_new_reasons(bar.console, groups, said)
            sending = p.sending_seconds
            saw_the_start = saw_the_start or sending is None
            bar.update(
                task,
                clock=_clock(time.monotonic() - began if sending is None else sending),
                total=p.total or None,
                completed=p.finished,
                sent=p.counts["sent"],
                failed=p.counts["failed"],
                deferred=p.counts["deferred"],
                rate=p.rate,
                status="starting" if sending is None and p.status in UNSTARTED else p.status,
            )
            stopped = p.status in FINAL or p.status == CampaignStatus.PAUSED.value
            if ended or (stopped and alive is None):
                break
            time.sleep(poll)
    summary = ", ".join(f"{k} {v}" for k, v in p.counts.items() if v)
    console.print(f"campaign {campaign_id} {p.status}: {summary or 'no recipients'}")
    if p.finished_at is not None and p.sending_seconds is not None:
        console.print(_durations(p, saw_the_start), highlight=False)
    for group in groups:
        console.print(f"  {group}", highlight=False, soft_wrap=True)
    if p.reason:
        console.print(p.reason, highlight=False, soft_wrap=True)
    return p


def _columns() -> tuple[ProgressColumn, ...]:
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

    return (
        TextColumn("[bold]campaign {task.fields[cid]}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "sent {task.fields[sent]} · failed {task.fields[failed]} · deferred "
            "{task.fields[deferred]} · {task.fields[rate]:.1f}/s · {task.fields[status]}"
        ),
        TextColumn("{task.fields[clock]}"),
    )


def _no_worker(campaign_id: int, waited: float) -> str:
    return (
        f"no worker has started campaign {campaign_id} after {waited:.0f} s: is `mailer worker` "
        "running with this MAILER_BROKER_URL? (Ctrl-C stops following; the campaign waits in "
        "the queue)"
    )


def _say_new_reasons(
    out: Console, groups: list[progress.ReplyGroup], said: set[tuple[str, str]]
) -> None:
    """Each reason the relay gives for deferring or failing mail, the first time it appears."""
    for group in groups:
        if (group.status, group.reply) not in said:
            said.add((group.status, group.reply))
            out.print(f"{group.status}: {group.reply}", highlight=False)


def _clock(seconds: float) -> str:
    """The bar's time column, beside the status: while `starting` (rendering the issue), the
    time since this process began following; from `sending` on, the campaign's own sending time
    (`Progress.sending_seconds`), which `mailer report` gives as its duration, to the nearest
    second (truncated, 1.96 s showed 0:00:01 beside the report's 2.0 s)."""
    return str(timedelta(seconds=int(seconds + 0.5)))


def _durations(p: progress.Progress, saw_the_start: bool) -> str:
    """The line under a finished campaign's summary: the sending time as `mailer report` gives
    it, and how long the start before it took when this process watched it (from the campaign's
    creation to its first recipients queued: mostly rendering the issue)."""
    if not (saw_the_start and p.started_at and p.created_at):
        return f"duration  {sending_time(p)}"
    starting = max((p.started_at - p.created_at).total_seconds(), 0.0)
    return f"duration  {sending_time(p, starting)}"
