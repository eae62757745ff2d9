"""A batch's send loop: claim a chunk of rows, compose each message, wait for the rate limit,
hand it to the relay, record its outcome; the campaign paused when the relay refuses for good.

The write protocol and the crash bound it keeps are mailer/sending/deliveries.py's; the Celery
task around this loop is tasks.py's `send_batch`.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.orm import Session

from mailer.db import get_engine, get_sessionmaker, session_scope, utcnow
from mailer.errors import MailerError
from mailer.sending import campaigns, deliveries, outcomes
from mailer.sending.compose import Composer, OutgoingMessage
from mailer.sending.models import CampaignStatus, DeliveryStatus
from mailer.sending.ratelimit import SendRateLimiter
from mailer.sending.transport import Reply, Sent, Transport
from mailer.settings import get_settings
from subscribers.models import SuppressionReason
from subscribers.suppression import add_suppression

log = logging.getLogger(__name__)

CHUNK = 25  # rows claimed at a time within a batch
SKIPPED = outcomes.Outcome(DeliveryStatus.SKIPPED)
SENDING = CampaignStatus.SENDING.value


class CampaignStopped(Exception):
    """The campaign is no longer sending (paused, cancelled): raised from the transport's
    `ready`, so the message it was about to end is cut off undelivered."""

    def __init__(self, status: str):
        super().__init__(f"campaign {status}")
        self.status = status


def pause_for(campaign_id: int, why: str) -> None:
    """Pause a sending campaign with `why` (shown by `campaign status`, `mailer send`, the web)."""
    with session_scope() as session:
        campaigns.set_status(
            session,
            campaign_id,
            CampaignStatus.PAUSED,
            allowed_from=(CampaignStatus.SENDING,),
            reason=f"paused: {why}; fix it, then `mailer campaign resume {campaign_id}`",
        )
    log.error("campaign %s paused: %s", campaign_id, why)


def send_range(
    campaign_id: int,
    lo: int,
    hi: int,
    owner: str,
    transport: Transport,
    composer: Composer,
    limiter: SendRateLimiter,
) -> dict[str, int]:
    """Claim chunks of the range and send them until none is due or the campaign is no longer
    sending. The claim reads the status, and so does every outcome's write (`Recorder`): before
    each message's end of data the batch knows the status as of the previous outcome, so a pause
    or a cancel stops it with at most the message in flight delivered (and one whose end of data
    crossed the commit). A cancelled batch marks the rest of its chunk skipped itself: the cancel
    leaves rows under a live claim to their owner (`campaigns.cancel`), so a row shown skipped is
    never sent afterwards.

    The claims' session holds one connection for the whole batch: a session on the engine would
    give its connection back at each commit and check one out again, with the pool's pre-ping
    (a round trip), three times per chunk."""
    engine = get_engine()
    autocommit = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    with (
        engine.connect() as claims,
        get_sessionmaker()(bind=claims) as session,
        autocommit as connection,
        outcomes.Recorder(connection, owner, campaign_id) as recorder,
    ):
        campaign = campaigns.get(session, campaign_id)
        claim = partial(
            deliveries.claim_recipients,
            campaign_id=campaign_id,
            lo=lo,
            hi=hi,
            owner=owner,
            limit=CHUNK,
            list_id=campaign.list_id,
            issue_id=campaign.issue_id,
            resend=campaign.force_resend,
        )
        session.commit()
        sender = _Sender(campaign_id, campaign.started_at or utcnow(), session, recorder)
        sender.composer, sender.limiter, sender.transport = composer, limiter, transport
        done: int | None = None  # a chunk's claim, ended in the next claim's transaction
        while (chunk := claim(session, release=done)).claim_id is not None:
            stop = sender.send_chunk(chunk)
            recorder.committed()  # before the claim ends: no row pending under no claim
            if stop:
                deliveries.release(session, chunk.claim_id)
                break
            done = chunk.claim_id
        if recorder.last_at is not None and recorder.campaign_status != SENDING:
            # Stopped by a pause or a cancel: its sending time runs to the last outcome.
            campaigns.stopped_sending(session, campaign_id, recorder.last_at)
            session.commit()
        return sender.tally


class _Sender:
    """One batch's sending state: the tally, the refusals in a row, what it sends with."""

    composer: Composer
    limiter: SendRateLimiter
    transport: Transport

    def __init__(
        self,
        campaign_id: int,
        started_at: datetime,
        session: Session,
        recorder: outcomes.Recorder,
    ):
        settings = get_settings()
        self.campaign_id, self.started_at = campaign_id, started_at
        self.session, self.recorder = session, recorder
        self.base_delay, self.autopause_after = settings.retry_base_delay, settings.autopause_after
        self.deadline = timedelta(hours=settings.retry_deadline_hours)
        self.tally = {s.value: 0 for s in DeliveryStatus}
        self.refusals = 0
        self.unreachable: Reply | None = None  # the last reply said no server answered
        self.answered: set[int] = set()  # the chunk's rows whose outcome is recorded

    def send_chunk(self, chunk: deliveries.Chunk) -> bool:
        """Record the chunk's skipped rows, send the others; True when the batch must stop (the
        relay refused for good, or too many refusals in a row: the campaign is paused).

        The messages are streamed (`Transport.submit`): a message's replies come back with the
        next one's, so `waiting` holds the recipients submitted and not yet answered, in order.
        The previous outcome is committed before a message can be delivered (the transport's
        `ready`): never two messages unrecorded, and the commit's wait overlaps this send."""
        recorder, tally = self.recorder, self.tally
        for did, why in chunk.skip:
            recorder.record(did, SKIPPED, why)
            tally["skipped"] += 1
        self.answered = set()
        try:
            return self._send_all(chunk.send)
        except CampaignStopped as stop:
            self.transport.abort()
            if stop.status == CampaignStatus.CANCELLED.value:
                for rcpt in chunk.send:
                    if rcpt.delivery_id not in self.answered:
                        recorder.record(rcpt.delivery_id, SKIPPED, "campaign cancelled")
                        tally["skipped"] += 1
            log.info("campaign %s %s: its batch stopped mid-chunk", self.campaign_id, stop.status)
            return True

    def ready(self) -> None:
        """The transport's `ready`: the previous outcome committed, and the campaign, as that
        outcome's statement read it, still sending (else CampaignStopped)."""
        self.recorder.committed()
        self._check()

    def _check(self) -> None:
        status = self.recorder.campaign_status
        if status is not None and status != SENDING:
            raise CampaignStopped(status)

    def _send_all(self, send: list[deliveries.Claimed]) -> bool:
        tally, transport = self.tally, self.transport
        recorder = self.recorder
        waiting: deque[tuple[deliveries.Claimed, OutgoingMessage]] = deque()
        ready = self.ready
        self.unreachable = None  # each chunk tries the relay again
        for rcpt in send:
            self._check()
            if self.unreachable is not None:
                # The relay cannot be reached: defer the rest without hammering it.
                if self._answered(rcpt, self.unreachable, None):
                    return True
                continue
            message = _compose_or_fail(self.composer, rcpt, recorder, tally)
            if message is None:
                self.answered.add(rcpt.delivery_id)
                continue
            if not self.limiter.acquire(wait=False):
                # A message held for its end of data must not wait on the limit: end it first.
                if self._replies(waiting, transport.flush(ready)):
                    return True
                self.limiter.acquire()
            waiting.append((rcpt, message))
            if self._replies(waiting, transport.submit(message, ready=ready)):
                return True
        return self._replies(waiting, transport.flush(ready))

    def _replies(
        self,
        waiting: deque[tuple[deliveries.Claimed, OutgoingMessage]],
        sent: list[Sent],
    ) -> bool:
        """Record the replies the transport returned, in the order submitted; True when the
        batch must stop (a message the transport still holds is then cut off, undelivered)."""
        for message, replies in sent:
            rcpt, submitted = waiting.popleft()
            assert message is submitted, "a transport answers in the order of submission"
            # Keyed by the envelope address: an IDN domain is sent in its ASCII (IDNA) form.
            if self._answered(rcpt, replies[message.recipients[0]], message.message_id):
                self.transport.abort()
                return True
        return False

    def _answered(self, rcpt: deliveries.Claimed, reply: Reply, message_id: str | None) -> bool:
        """Record one recipient's outcome from the relay's reply; True when the batch must stop."""
        if reply.fatal:
            pause_for(self.campaign_id, f"the relay refused: {reply}")
            return True
        self.answered.add(rcpt.delivery_id)
        # Code 0: no server answered; the rest of the chunk is deferred until one does again.
        self.unreachable = reply if reply.code == 0 else None
        now = utcnow()
        outcome = outcomes.outcome_of(
            reply,
            attempts=rcpt.attempts,
            started_at=self.started_at,
            now=now,
            base_delay=self.base_delay,
            deadline=self.deadline,
        )
        self.recorder.record(
            rcpt.delivery_id,
            outcome,
            reply,
            attempts=rcpt.attempts,
            message_id=message_id,
            now=now,
        )
        self.tally[outcome.status.value] += 1
        if outcome.suppress:
            _suppress_hard_bounce(self.session, self.campaign_id, rcpt.email, reply)
        self.refusals = self.refusals + 1 if reply.permanent else 0
        if self.refusals >= self.autopause_after:
            _autopause(self.session, self.campaign_id, self.refusals, reply)
            return True
        return False


def _compose_or_fail(
    composer: Composer,
    rcpt: deliveries.Claimed,
    recorder: outcomes.Recorder,
    tally: dict[str, int],
) -> OutgoingMessage | None:
    """The recipient's message, or None after recording the delivery as failed (an address or
    name that cannot be put in a header fails that one delivery, not the batch)."""
    try:
        return composer.compose(rcpt.delivery_id, rcpt.email, rcpt.name, track=rcpt.track)
    except MailerError as exc:
        recorder.record(
            rcpt.delivery_id,
            outcomes.Outcome(DeliveryStatus.FAILED),
            f"cannot compose: {exc}",
            attempts=rcpt.attempts,
        )
        tally["failed"] += 1
        return None


def _suppress_hard_bounce(session: Session, campaign_id: int, email: str, reply: Reply) -> None:
    """A hard bounce at SMTP time suppresses the address at once (committed: other workers and
    other campaigns must see it)."""
    add_suppression(
        session,
        email,
        get_settings().secret(),
        SuppressionReason.HARD_BOUNCE,
        detail=f"campaign {campaign_id}: {reply}"[:500],
    )
    session.commit()


def _autopause(session: Session, campaign_id: int, refusals: int, reply: Reply) -> None:
    campaigns.set_status(
        session,
        campaign_id,
        CampaignStatus.PAUSED,
        allowed_from=(CampaignStatus.SENDING,),
        reason=(
            f"paused automatically: the relay refused {refusals} messages in a row "
            f"(last reply: {reply}); fix the relay, then `mailer campaign resume {campaign_id}`"
        ),
    )
    session.commit()
    log.warning("campaign %s auto-paused after %s refusals: %s", campaign_id, refusals, reply)
