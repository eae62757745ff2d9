"""Campaign tasks: start a campaign, send a batch of its deliveries, and the periodic tick.

Their Celery names stay `mailer.tasks.*` (queued tasks must survive an upgrade that moved them).

Tasks hold no state of their own: they read the campaign's status and delivery rows, claim work in
the database, and hand messages to a transport. What a task caches per process (the composer built
from the campaign's stored rendering, the rate limiter) is derived from the database and can be
thrown away at any time.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache

from celery.signals import worker_init
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from mailer.content.issues import content_of
from mailer.content.models import Issue
from mailer.db import get_engine, get_sessionmaker, session_scope, utcnow
from mailer.errors import ConfigError
from mailer.rendering.email_edition import RenderedIssue, render_issue, warm_up
from mailer.rendering.email_edition import preload as preload_email
from mailer.rendering.pdf_edition import preload as preload_pdf
from mailer.sending import batch, campaigns, deliveries, lease, owners, readiness, renderings, start
from mailer.sending.compose import CampaignInfo, Composer
from mailer.sending.dkim import Signer
from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from mailer.sending.ratelimit import SendRateLimiter
from mailer.sending.transport import make_transport
from mailer.settings import get_settings
from mailer.worker import app
from subscribers.models import MailingList

log = logging.getLogger(__name__)

RETRY_COUNTDOWN_MAX = 600  # longer waits are left to the periodic tick


@worker_init.connect
def _preload(**_: object) -> None:
    """In a worker's main process, before its pool forks: WeasyPrint (about a second of CPU to
    import) is then loaded once per worker, shared by its pool processes, instead of in the pool
    process that renders a campaign, while that campaign's first messages wait for the PDF.
    premailer likewise, which the CLI no longer imports with the tasks. Then a sample issue is
    rendered (`warm_up`): the first rendering in a process costs about 0.6 s of CPU more than
    the next, spent once here instead of in the start of the first campaign of each pool
    process. A sample that cannot be rendered (a firm's broken templates or fonts) does not stop
    the worker: the campaign's own rendering reports it. The DKIM keys are parsed here too
    (sending/dkim.py keeps them per process): RSA-2048's validation is ~37 ms of CPU, which each
    pool process would otherwise spend on its first batch; a key that cannot be read is reported
    by the first batch, which pauses the campaign naming the setting."""
    preload_pdf()
    preload_email()
    try:
        warm_up(get_settings())
    except Exception as exc:  # noqa: BLE001 - the warm-up is an optimisation, never a failure
        log.warning("rendering warm-up skipped: %s", exc)
    try:
        Signer.from_settings(get_settings())
    except ConfigError as exc:
        log.warning("DKIM keys not loaded: %s", exc)


@app.task(name="mailer.tasks.start_campaign", acks_late=True)
def start_campaign(campaign_id: int) -> int:
    """Render once, snapshot the audience in chunks, enqueue each chunk's batches as soon as it
    is committed; returns how many batches were enqueued.

    The start is leased in the database to one execution at a time and renewed while it runs
    (`StartLease`): a redelivered copy of this task, or beat, finding the lease held or the
    snapshot complete does nothing, so each chunk's batches are enqueued once by its owner. A
    start whose worker died is taken over once its lease expires (MAILER_STALE_AFTER) and resumes
    after the last committed chunk (`campaign.snapshot_through`); the new owner first enqueues
    the unfinished rows of the chunks already in (the dead one may have died between a chunk's
    commit and its enqueuing), which is harmless for those already queued: claims are atomic.

    Each chunk (MAILER_SNAPSHOT_CHUNK subscriber ids) is one transaction: its INSERT … SELECT,
    then the campaign's row locked and updated (`start.record_chunk`): the watermark, the
    total, and from the first chunk on the status `sending`, so the first batches send while
    later chunks are inserted. The campaign cannot finish before the last chunk is in
    (`snapshot_complete`). A pause stops the enqueuing, not the snapshot (`campaign resume`
    enqueues every unfinished row); a cancel stops the snapshot at the next chunk, whose rows are
    rolled back (the cancel skipped every row committed before it).
    """
    settings = get_settings()
    owner = f"start/{uuid.uuid4().hex[:12]}"
    with session_scope() as session:
        taken = start.take_start(session, campaign_id, owner, settings.stale_after)
    if not taken:
        log.info("campaign %s is started or being started elsewhere: not starting", campaign_id)
        return 0
    with StartLease(campaign_id, owner, settings.stale_after), ThreadPoolExecutor(1) as pool:
        try:
            with session_scope() as session:
                rendered = campaigns.get(session, campaign_id).rendered is not None
            rendering = None if rendered else pool.submit(_render, campaign_id)
            return _snapshot_and_enqueue(campaign_id, owner, rendering)
        except BaseException:
            with session_scope() as session:
                start.end_start(session, campaign_id, owner)
            raise


def _render(campaign_id: int) -> RenderedIssue:
    """The campaign's issue rendered (HTML and text templates, the PDF): reads only."""
    with get_sessionmaker()() as session:
        campaign = campaigns.get(session, campaign_id)
        mlist = session.get(MailingList, campaign.list_id)
        content = content_of(campaign.issue)
        # A private list's issue is in no public archive: its editions link to none.
        if mlist is not None and mlist.private:
            content = replace(content, web_edition=False)
        # The footer names the list the reader joined when it is not named as the newsletter.
        if mlist is not None and mlist.name.strip().casefold() != content.newsletter.casefold():
            content = replace(content, list_name=mlist.name.strip())
        return render_issue(content, get_settings())


def render(campaign_id: int) -> None:
    """Render the campaign's issue once and store it for every worker (done: nothing to do)."""
    with session_scope() as session:
        campaign = campaigns.get(session, campaign_id)
        if campaign.rendered is None:
            renderings.store_rendering(session, campaign, _render(campaign_id))


def _snapshot_and_enqueue(
    campaign_id: int, owner: str, rendering: Future[RenderedIssue] | None
) -> int:
    """The chunk loop of the start (see `start_campaign`); returns the batches enqueued.

    `rendering`, when the campaign has no stored rendering yet, runs in another thread while the
    first chunk is inserted (rendering is Python and the PDF, the chunk is the database's work):
    its result is stored in the first chunk's transaction, so a campaign is never `sending`
    without the rendering its batches compose from, and nothing waits for the rendering's
    commit (on SQLite, the chunk's open transaction would block it)."""
    with session_scope() as session:
        campaign = campaigns.get(session, campaign_id)
        campaigns.prepare_snapshot(session)
        if campaign.started_at is None:
            if campaign.scheduled_at is not None:  # counted days ago, maybe: count again
                campaign.recipients = start.audience_size(session, campaign)
            campaign.status_reason = f"starting: snapshot of {campaign.recipients} recipients"
        after = campaign.snapshot_through
        resumed = campaign.status == CampaignStatus.SENDING and after is not None
    batches = 0
    if resumed:  # the dead owner may have committed its last chunk and died before enqueuing it
        batches += enqueue_batches(campaign_id, subscribers=(None, after))
    with _ChunkEnqueuer(campaign_id) as enqueuer:
        return batches + _chunks(campaign_id, owner, after, rendering, enqueuer)


def _chunks(
    campaign_id: int,
    owner: str,
    after: int | None,
    rendering: Future[RenderedIssue] | None,
    enqueuer: _ChunkEnqueuer,
) -> int:
    """Insert the chunks after `after`, each in its own transaction, handing each committed one
    to `enqueuer`; returns the batches enqueued."""
    settings = get_settings()
    while True:
        try:
            began = time.perf_counter()
            with session_scope() as session:
                campaign = campaigns.get(session, campaign_id)
                through = start.chunk_end(session, after, settings.snapshot_chunk)
                added = start.snapshot_range(session, campaign, after, through)
                if rendering is not None:
                    waited = time.perf_counter()
                    renderings.store_rendering(session, campaign, rendering.result())
                    began += time.perf_counter() - waited  # the chunk's own time, not the PDF's
                status = start.record_chunk(
                    session, campaign_id, owner, added=added, through=through
                )
                if status == CampaignStatus.CANCELLED:
                    raise _Cancelled  # rolls the chunk back
            log.info(  # bench/volume.py adds these up: the snapshot's own time
                "campaign %s: snapshot chunk of %s rows in %.3f s",
                campaign_id,
                added,
                time.perf_counter() - began,
            )
            rendering = None  # stored with the first chunk
        except _Cancelled:
            with session_scope() as session:
                start.end_start(session, campaign_id, owner, keep_reason=True)
            log.info("campaign %s cancelled during its snapshot: snapshot stopped", campaign_id)
            return enqueuer.wait()
        if through is None and enqueuer.inline:  # its batches run here and now: analysed
            _snapshot_done(campaign_id)
        if status == CampaignStatus.SENDING:
            enqueuer.chunk(after, through)
        if through is None:
            if not enqueuer.inline:  # while the last chunk's batches are queued and sending
                _snapshot_done(campaign_id)
            batches = enqueuer.wait()
            if status == CampaignStatus.SENDING:
                with session_scope() as session:
                    campaigns.finish_if_done(session, campaign_id)
            return batches
        after = through


def _snapshot_done(campaign_id: int) -> None:
    """The complete snapshot's statistics (`start.analyze_deliveries`) and its total logged."""
    with session_scope() as session:
        start.analyze_deliveries(session)
        total = campaigns.get(session, campaign_id).total
    log.info("campaign %s: %s deliveries to send", campaign_id, total)


class _ChunkEnqueuer:
    """Enqueues each committed chunk's batches in a thread of its own while the start inserts
    the next chunk: computing a chunk's batch ranges and queueing them was about 8% of the
    snapshot's time at a million subscribers, spent with the next chunk waiting. One chunk's at a
    time, in order; an error (the broker down) is raised in the start at its next chunk.

    Without a broker (embedded), enqueuing a batch runs it, so it stays in line: the batches of a
    chunk send before the next chunk is inserted, never beside it on SQLite's one writer. A start
    killed with a chunk committed but not yet enqueued loses nothing: the next owner enqueues
    every unfinished row below the watermark first (`_snapshot_and_enqueue`)."""

    def __init__(self, campaign_id: int):
        self.campaign_id = campaign_id
        self.pool = None if app.conf.task_always_eager else ThreadPoolExecutor(1)
        self.inline = self.pool is None  # enqueuing a batch runs it
        self.pending: Future[int] | None = None
        self.batches = 0

    def __enter__(self) -> _ChunkEnqueuer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)  # a committed chunk's batches are still enqueued

    def chunk(self, after: int | None, through: int | None) -> None:
        """Enqueue the batches of the chunk (after, through], just committed."""
        if self.pool is None:
            self.batches += enqueue_batches(self.campaign_id, subscribers=(after, through))
            return
        self.wait()
        self.pending = self.pool.submit(
            enqueue_batches, self.campaign_id, subscribers=(after, through)
        )

    def wait(self) -> int:
        """Wait for the chunk being enqueued; returns the batches enqueued so far."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            self.batches += pending.result()
        return self.batches


class _Cancelled(Exception):
    """The campaign was cancelled while a chunk of its snapshot was being inserted."""


class StartLease(threading.Thread):
    """Renews a start's lease every third of its length, from a connection of its own (the
    start's transaction may be busy in one long INSERT … SELECT), until the start ends."""

    def __init__(self, campaign_id: int, owner: str, seconds: float):
        super().__init__(daemon=True, name=f"start-lease-{campaign_id}")
        self.campaign_id, self.owner, self.seconds = campaign_id, owner, seconds
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.seconds / 3):
            try:
                with get_engine().connect() as conn:
                    renewed = start.renew_start(conn, self.campaign_id, self.owner, self.seconds)
                    conn.commit()
            except SQLAlchemyError as exc:  # the database is away: the start will fail too
                log.warning(
                    "campaign %s: cannot renew the start's lease: %s", self.campaign_id, exc
                )
                continue
            if not renewed:
                return

    def __enter__(self) -> StartLease:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.join()


def enqueue_batches(
    campaign_id: int,
    *,
    due_only: bool = False,
    subscribers: tuple[int | None, int | None] | None = None,
) -> int:
    """Enqueue a batch task per range of unfinished rows (of one snapshot chunk: `subscribers`,
    see campaigns.batch_ranges), after the caller's commit."""
    factory = get_sessionmaker()
    with factory() as session:
        ranges = campaigns.batch_ranges(
            session,
            campaign_id,
            get_settings().batch_size,
            due_only=due_only,
            subscribers=subscribers,
        )
    for lo, hi in ranges:
        send_batch.delay(campaign_id, lo, hi)
    if not ranges and subscribers is None:
        with session_scope() as session:
            campaigns.finish_if_done(session, campaign_id)
    return len(ranges)


@lru_cache(maxsize=8)
def _composer(campaign_id: int) -> Composer:
    """Built once per campaign per process from the rendering stored in the database."""
    factory = get_sessionmaker()
    with factory() as session:
        campaign = campaigns.get(session, campaign_id)
        issue: Issue = campaign.issue
        mlist = session.get(MailingList, campaign.list_id)
        assert mlist is not None
        info = CampaignInfo.for_issue(
            issue, list_slug=mlist.slug, list_name=mlist.name, campaign_id=campaign.id
        )
        rendered = renderings.load_rendering(session, campaign_id)
    return Composer(rendered, info, get_settings())


@lru_cache(maxsize=1)
def _limiter() -> SendRateLimiter:
    settings = get_settings()
    return SendRateLimiter.from_settings(settings.rate_limit, settings.ratelimit_storage())


def reset_caches() -> None:
    """Forget per-process caches (tests change settings between runs)."""
    _composer.cache_clear()
    _limiter.cache_clear()


@app.task(name="mailer.tasks.send_batch", bind=True, acks_late=True)
def send_batch(self, campaign_id: int, lo: int, hi: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Send the due deliveries of one id range, obeying the campaign's status between chunks."""
    # One owner per execution: a redelivered copy of this task must not take over rows that a
    # still-running first execution holds; abandoned ones come back through recover_abandoned.
    owner = owners.new_owner(self.request.id, embedded=bool(app.conf.task_always_eager))
    with get_sessionmaker()() as session:
        deliveries.recover_abandoned(
            session, stale_after=get_settings().stale_after, campaign_id=campaign_id, lo=lo, hi=hi
        )
    try:
        readiness.require_postal_address(get_settings())
        transport = make_transport(get_settings().smtp_url)
        # DKIM key, rate limit storage and settings: before any row is claimed
        composer, limiter = _composer(campaign_id), _limiter()
    except ConfigError as exc:
        # Retrying cannot cure a setting: pause, saying which, until someone fixes it.
        batch.pause_for(campaign_id, f"cannot send: {exc}")
        return {}
    try:
        tally = batch.send_range(campaign_id, lo, hi, owner, transport, composer, limiter)
    finally:
        transport.close()
    _after_batch(campaign_id, lo, hi)
    return tally


def _after_batch(campaign_id: int, lo: int, hi: int) -> None:
    """Finish the campaign when nothing is left, or come back when deferred rows fall due."""
    with session_scope() as session:
        if campaigns.finish_if_done(session, campaign_id):
            return
        next_due = session.scalar(
            select(func.min(Delivery.next_attempt_at)).where(
                Delivery.campaign_id == campaign_id,
                Delivery.id.between(lo, hi),
                Delivery.status == DeliveryStatus.DEFERRED,
            )
        )
    if next_due is None or app.conf.task_always_eager:
        return  # in-process runs retry from the caller's loop (see `run_due`)
    delay = max((next_due - utcnow()).total_seconds(), 0.0)
    if delay <= RETRY_COUNTDOWN_MAX:
        send_batch.apply_async((campaign_id, lo, hi), countdown=delay + 0.05)


TICK_LEASE = "tick"
# A slot a little shorter than the interval: runners whose timers drift by a few milliseconds
# must not skip a whole interval, yet two runners never tick in the same interval.
TICK_SLOT = 0.8
# Tasks of higher stages the tick also enqueues, named (sending cannot import them): the
# partners' follow-up digests (mailer/engagement/tasks.py).
TICK_TASKS = ("mailer.tasks.send_due_digests",)


@app.task(name="mailer.tasks.tick", acks_late=True)
def tick() -> dict[str, int] | None:
    """Periodic housekeeping: start due scheduled campaigns, recover abandoned work, retry
    deferred deliveries that fell due, finish campaigns with nothing left, and enqueue the
    periodic work of the stages above (TICK_TASKS).

    Every worker calls it from its own timer (mailer/worker.py) and any `mailer beat` sends it;
    whoever takes the interval's slot (mailer/sending/lease.py) runs it, the others return None.
    """
    interval = get_settings().beat_interval
    if not lease.take(get_engine(), TICK_LEASE, seconds=interval * TICK_SLOT):
        return None
    result = run_due()
    for name in TICK_TASKS:
        task = app.tasks.get(name)
        if task is not None:  # registered when its module is loaded (worker.TASK_MODULES)
            task.delay()
    if any(result.values()):
        log.info("tick: %s", tick_summary(result))
    return result


def tick_summary(result: dict[str, int]) -> str:
    """What a tick did, as a log line says it: "2 campaigns started, 5 deliveries recovered from
    stopped workers, 1 batch enqueued" (nonzero counts only), not a Python dict."""
    from subscribers.text import counted

    words = {
        "started": ("campaign", "campaigns", "started"),
        "recovered": ("delivery", "deliveries", "recovered from stopped workers"),
        "enqueued": ("batch", "batches", "enqueued"),
    }
    return ", ".join(
        f"{counted(n, words[key][0], words[key][1])} {words[key][2]}"
        for key, n in result.items()
        if n
    )


def run_due() -> dict[str, int]:
    settings = get_settings()
    now = utcnow()
    stale = now - timedelta(seconds=settings.stale_after)
    started: list[int] = []
    with get_sessionmaker()() as session:
        # Rows claimed by workers that stopped recording outcomes (killed, or their machine gone).
        recovered = deliveries.recover_abandoned(session, stale_after=settings.stale_after, now=now)
    with session_scope() as session:
        due = session.scalars(
            select(Campaign.id).where(
                Campaign.status == CampaignStatus.SCHEDULED, Campaign.scheduled_at <= now
            )
        ).all()
        for cid in due:
            # Planned = due and waiting for its start task; a second tick does not start it again.
            if campaigns.set_status(
                session, cid, CampaignStatus.PLANNED, allowed_from=(CampaignStatus.SCHEDULED,)
            ):
                started.append(cid)
        # Planned campaigns whose start task was lost (the broker restarted before a worker ran
        # it, or its worker died mid-start): planned for longer than stale_after, counted from
        # when a scheduled one fell due, and none holds the start's lease.
        started += session.scalars(
            select(Campaign.id).where(
                Campaign.status == CampaignStatus.PLANNED,
                Campaign.started_at.is_(None),
                func.coalesce(Campaign.scheduled_at, Campaign.created_at) < stale,
                start.lease_free(now),
                Campaign.id.not_in(started),
            )
        ).all()
        # Started campaigns whose snapshot stopped midway (their start's worker died): the
        # lease has expired, and a new start resumes after the last committed chunk.
        started += session.scalars(
            select(Campaign.id).where(
                Campaign.status.in_(start.SNAPSHOTTING),
                Campaign.started_at.is_not(None),
                Campaign.snapshot_complete.is_(False),
                start.lease_free(now),
            )
        ).all()
        sending = session.scalars(
            select(Campaign.id).where(Campaign.status == CampaignStatus.SENDING)
        ).all()
    for cid in started:
        start_campaign.delay(cid)
    enqueued = 0
    for cid in sending:
        if cid in started:
            continue
        enqueued += _requeue_idle(cid, now, stale, recovered=cid in recovered)
    return {
        "started": len(started),
        "recovered": sum(recovered.values()),
        "enqueued": enqueued,
    }


def _requeue_idle(campaign_id: int, now, stale, *, recovered: bool = False) -> int:  # type: ignore[no-untyped-def]
    """Enqueue work for a sending campaign whose due rows no queued task seems to hold.

    Deferred rows that fell due, and rows just given back from a dead worker (`recovered`: the
    rest of its batch went with it), are enqueued at once; other pending rows only when nothing
    of the campaign moved for a while (their tasks were lost with the broker's queue). Enqueuing
    a range twice is harmless: claims are atomic.
    """
    factory = get_sessionmaker()
    with factory() as session:
        due_deferred = session.scalar(
            select(func.count()).where(
                Delivery.campaign_id == campaign_id,
                Delivery.status == DeliveryStatus.DEFERRED,
                Delivery.next_attempt_at <= now,
            )
        )
        last_move = session.scalar(
            select(func.max(Delivery.updated_at)).where(Delivery.campaign_id == campaign_id)
        )
    idle = last_move is None or last_move < stale
    if due_deferred or idle or recovered:
        return enqueue_batches(campaign_id, due_only=True)
    with session_scope() as session:
        campaigns.finish_if_done(session, campaign_id)
    return 0
