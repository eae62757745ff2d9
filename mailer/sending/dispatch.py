"""The one way to start, resume or retry a campaign, for the CLI, the web and the API alike: the
caller commits first, then the work is enqueued.

With a broker the work goes to Celery workers (`start_campaign`, or the batches of the rows left).
Without one (the embedded default, Celery eager) a task would run inside the caller and hold it for
the whole send, so it runs in a thread of this process instead — an `InProcessRunner`, which also
keeps retrying deferred messages until the campaign ends. The web leaves that thread running in the
background (`running()` tells whether it still is); the CLI follows it and `wait()`s for it.

Start-up: with a broker, starting a campaign publishes its start task by name and imports none of
the task modules (rendering, composing, the transport, the rate limiter with redis.asyncio: about
half of `mailer send`'s imports); they are imported where this process runs a task itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from mailer.db import get_sessionmaker
from mailer.errors import MailerError
from mailer.sending import owners, progress
from mailer.sending.models import CampaignStatus
from mailer.services import described, unreachable_service
from mailer.worker import app as celery_app

START_TASK = "mailer.tasks.start_campaign"  # mailer.sending.tasks.start_campaign's Celery name

log = logging.getLogger(__name__)

_runners: dict[int, threading.Thread] = {}
_lock = threading.Lock()


class InProcessRunner(threading.Thread):
    """Without a broker the sending happens here, beside the progress bar: start the campaign,
    then keep retrying deferred rows until it ends. An error is kept for the main thread."""

    def __init__(self, campaign_id: int, *, keep_retrying: bool, resume: bool = False):
        super().__init__(daemon=True, name=f"campaign-{campaign_id}")
        self.campaign_id = campaign_id
        self.keep_retrying = keep_retrying
        self.resume = resume  # a resumed or retried campaign: no new snapshot, just the rows left
        self.error: BaseException | None = None

    def run(self) -> None:
        from mailer.sending.tasks import enqueue_batches, run_due, start_campaign

        try:
            if self.resume:
                enqueue_batches(self.campaign_id)
            else:
                start_campaign(self.campaign_id)
            factory = get_sessionmaker()
            while self.keep_retrying:
                with factory() as session:
                    now = progress.progress(session, self.campaign_id)
                if now.status != CampaignStatus.SENDING.value:
                    return
                time.sleep(0.5)
                run_due()
        except BaseException as exc:  # handed to the main thread, which re-raises it
            self.error = exc if self._paused_for(exc) is None else None

    def _paused_for(self, exc: BaseException) -> str | None:
        """A service the sending needs cannot be reached (the rate limit's Redis, most often):
        pause the campaign saying which and how to go on, instead of leaving it "sending" with
        nobody sending it. Returns the reason, or None when `exc` is something else or the
        pause itself failed (the database down): the error then goes to the main thread."""
        found = unreachable_service(exc) if isinstance(exc, Exception) else None
        if found is None:
            return None
        from mailer.sending.batch import pause_for  # the sending modules: only a run needs them

        why = described(found)
        try:
            pause_for(self.campaign_id, why)
        except Exception:
            log.exception("campaign %s: could not pause it after: %s", self.campaign_id, why)
            return None
        return why


def embedded() -> bool:
    """True when there is no broker: tasks would run eagerly in this process."""
    return bool(celery_app.conf.task_always_eager)


def give_back_abandoned(campaign_id: int, owned: Callable[[str], bool] = owners.gone) -> int:
    """End the campaign's claims whose owner `owned` picks (by default: a stopped process of
    this machine); returns the unsent rows given back."""
    from mailer.sending import deliveries  # the write protocol, with the bounce reasons

    with get_sessionmaker()() as session:
        given_back = deliveries.end_claims(session, campaign_id, owned)
    if given_back:
        log.info(
            "campaign %s: %s unsent rows of stopped processes due again", campaign_id, given_back
        )
    return given_back


def _run_in_background(runner: InProcessRunner) -> None:
    def watch() -> None:
        runner.join()
        if runner.error is not None:
            log.error(
                "campaign %s: in-process sending failed: %r", runner.campaign_id, runner.error
            )
        with _lock:
            if _runners.get(runner.campaign_id) is watcher:
                del _runners[runner.campaign_id]

    watcher = threading.Thread(target=watch, daemon=True, name=f"watch-{runner.campaign_id}")
    with _lock:
        _runners[runner.campaign_id] = watcher
    runner.start()
    watcher.start()


def _dispatch(runner: InProcessRunner, *, watch: bool) -> InProcessRunner:
    if watch:
        _run_in_background(runner)
    else:
        runner.start()
    return runner


class BrokerUnreachable(MailerError):
    """The start task could not be published: the campaign stays planned, nothing was sent."""


def start(
    campaign_id: int, *, keep_retrying: bool = True, watch: bool = True
) -> InProcessRunner | None:
    """Start a committed campaign now (render, snapshot, send).

    With a broker: enqueue its start task and return None. Without: return the started runner;
    `watch` leaves it in the background (the web), else the caller follows it and `wait()`s.
    `keep_retrying=False` stops the runner after one pass (deferred rows then wait for the beat).
    """
    if embedded():
        runner = InProcessRunner(campaign_id, keep_retrying=keep_retrying)
        return _dispatch(runner, watch=watch)
    # By name, the message `start_campaign.delay` sends (the task sets no routing and no result
    # option of its own): the workers import the task modules, this process need not.
    ignore_result = celery_app.conf.task_ignore_result
    from kombu.exceptions import OperationalError  # kombu comes with the Celery app

    try:
        celery_app.send_task(START_TASK, args=(campaign_id,), ignore_result=ignore_result)
    except OperationalError as exc:
        raise BrokerUnreachable(
            f"campaign {campaign_id} is recorded but not started: the broker cannot be reached "
            f"({exc}). Start it (MAILER_BROKER_URL), then `mailer campaign resume "
            f"{campaign_id}`; `mailer beat` also starts it once the broker is back"
        ) from None
    return None


def after_resume(
    campaign_id: int, resumed: CampaignStatus, *, keep_retrying: bool = True, watch: bool = True
) -> InProcessRunner | None:
    """What a committed `campaigns.resume` asks for, by the status it returned: the rest sent
    (SENDING), the start run now (PLANNED: a scheduled campaign whose time passed while it was
    paused), or nothing (SCHEDULED: the beat starts it when due). The admin, the API and
    `mailer campaign resume` all call this, so they resume alike."""
    if resumed == CampaignStatus.SENDING:
        return continue_sending(campaign_id, keep_retrying=keep_retrying, watch=watch)
    if resumed == CampaignStatus.PLANNED:
        return start(campaign_id, keep_retrying=keep_retrying, watch=watch)
    return None


def continue_sending(
    campaign_id: int, *, keep_retrying: bool = True, watch: bool = True
) -> InProcessRunner | None:
    """After a committed resume or retry-failed: send the unfinished deliveries (as `start`).

    Without a broker, the claims of `mailer` processes of this machine that have stopped (Ctrl-C,
    a closed terminal, a kill) are ended first, so their unsent rows go out now rather than after
    MAILER_STALE_AFTER (mailer/sending/owners.py)."""
    if embedded():
        give_back_abandoned(campaign_id)
        runner = InProcessRunner(campaign_id, keep_retrying=keep_retrying, resume=True)
        return _dispatch(runner, watch=watch)
    from mailer.sending.tasks import enqueue_batches  # it reads the rows left, then publishes

    enqueue_batches(campaign_id)
    return None


def wait(runner: InProcessRunner | None) -> None:
    """Wait for an in-process run to end and re-raise its error here (nothing with a broker)."""
    if runner is None:
        return
    runner.join()
    if runner.error is not None:
        raise runner.error


def running(campaign_id: int) -> bool:
    """True while this process is sending the campaign in the background (embedded mode)."""
    with _lock:
        thread = _runners.get(campaign_id)
    return thread is not None and thread.is_alive()
