"""Fault: no `mailer beat` at all, or several. Workers run the periodic tick themselves, one of them
per interval (the tick's slot in the database), so losing any one process stops no recovery.

With two workers and no beat, one SIGKILLed mid-batch has its rows sent by the other within
2 × MAILER_STALE_AFTER plus the send time, although the broker would hand its tasks out again
only after the visibility timeout (15 minutes here, the default). A scheduled campaign starts
with workers alone, and once however many workers and beats tick.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mailer.sending.models import CampaignStatus, Delivery, DeliveryClaim, DeliveryStatus
from tests.builders import Newsroom, add_subscribers
from tests.faults.conftest import audience
from tests.faults.support import Probe, RedisServer, Relay, Stack, duplicates_of, wait_until

pytestmark = pytest.mark.slow

STALE_AFTER = 5.0
STALL = 1.0  # seconds without a message arriving that count as waiting, not sending
BATCH_TASK = re.compile(rb"Task mailer\.tasks\.send_batch\[([^\]]+)\] received")


def _ours(owner: str | None, task_ids: set[str]) -> bool:
    """An owner is "<task id>/<execution>"."""
    return bool(owner) and owner.split("/")[0] in task_ids  # type: ignore[union-attr]


def _sent_by(probe: Probe, task_ids: set[str]) -> list[Any]:
    """(id, updated_at) of the rows any execution of these batch tasks recorded as sent."""
    with probe.engine.connect() as conn:
        rows = conn.execute(
            select(Delivery.id, Delivery.claimed_by, Delivery.updated_at).where(
                Delivery.status == DeliveryStatus.SENT
            )
        ).all()
    return [r for r in rows if _ours(r.claimed_by, task_ids)]


def _claims_of(probe: Probe, task_ids: set[str]) -> list[Any]:
    """The live claims (chunks being sent) of any execution of these batch tasks."""
    with probe.engine.connect() as conn:
        rows = conn.execute(select(DeliveryClaim)).all()
    return [r for r in rows if _ours(r.owner, task_ids)]


def _unsent_in(probe: Probe, claims: list[Any]) -> list[int]:
    """The pending rows in these claims' id ranges: claimed, not sent yet."""
    if not claims:
        return []
    with probe.engine.connect() as conn:
        return list(
            conn.scalars(
                select(Delivery.id).where(
                    Delivery.status == DeliveryStatus.PENDING,
                    or_(*(Delivery.id.between(c.lo, c.hi) for c in claims)),
                )
            )
        )


def test_with_no_beat_a_worker_killed_mid_batch_has_its_rows_sent_by_the_other(
    db: Session,
    room: Newsroom,
    relay: Relay,
    broker: RedisServer,
    probe: Probe,
    pg_url: str,
    stacks: Callable[..., Stack],
) -> None:
    add_subscribers(db, room.list_id, 200)
    expected = audience(db, room.list_id)
    stack = stacks(
        pg_url,
        broker.url,
        relay.url,
        MAILER_RATE_LIMIT="40/second",
        MAILER_STALE_AFTER=str(STALE_AFTER),
        MAILER_VISIBILITY_TIMEOUT="900",  # the broker's own redelivery is out of reach
    )
    victim = stack.worker("worker1", concurrency=2)
    stack.worker("worker2", concurrency=2)
    stack.cli("send", room.issue_slug, "--list", room.list_slug, "--yes", "--no-wait")

    def victim_tasks() -> set[str]:
        return {m.decode() for m in BATCH_TASK.findall(stack.log("worker1"))}

    def victim_mid_batch() -> bool:
        # It has sent part of a batch and holds claimed rows it has not sent yet.
        ids = victim_tasks()
        return bool(_sent_by(probe, ids)) and bool(_unsent_in(probe, _claims_of(probe, ids)))

    wait_until(victim_mid_batch, 90, "worker1 mid-batch", poll=0.02)
    killed_at = datetime.now(UTC)
    stack.kill(victim)
    ids = victim_tasks()
    claims = _claims_of(probe, ids)
    abandoned = _unsent_in(probe, claims)
    last_heartbeat = max(
        [r.updated_at for r in _sent_by(probe, ids)] + [c.claimed_at for c in claims]
    )
    assert len(relay.received) < len(expected)  # really mid-campaign
    print(f"\n  killed worker1 holding {len(abandoned)} claimed rows; no beat running")

    waited = wait_until(lambda: probe.done(1), 120, "the campaign to finish")
    print(f"  done {waited:.1f} s after the kill (MAILER_STALE_AFTER={STALE_AFTER:g})")

    # Everyone got it; the only copies are messages in flight in the killed worker (2 processes).
    assert duplicates_of(relay.received, expected) <= 2
    assert probe.counts(1) == {"sent": len(expected)}

    # From the recorded times. The abandoned rows were not taken from their owner while it could
    # still be alive: not before stale_after since its last recorded outcome.
    with probe.engine.connect() as conn:
        resent = conn.scalar(select(func.min(Delivery.sent_at)).where(Delivery.id.in_(abandoned)))
    assert resent is not None and resent >= last_heartbeat + timedelta(seconds=STALE_AFTER)
    # After the kill the campaign waited at most 2 × stale_after in all: the rest of the time
    # messages were arriving at the relay (the send time). A wait is a gap between arrivals
    # longer than STALL; without a tick in the workers it would last the visibility timeout.
    arrivals = sorted(
        r.received_at for r in relay.received if r.received_at > killed_at.timestamp()
    )
    times = [killed_at.timestamp(), *arrivals]
    waits = [b - a for a, b in zip(times, times[1:], strict=False) if b - a > STALL]
    print(
        f"  abandoned rows out again {(resent - killed_at).total_seconds():.1f} s after the kill; "
        f"waits after the kill: {', '.join(f'{w:.1f} s' for w in waits) or 'none'}, "
        f"sending the rest: {times[-1] - times[0] - sum(waits):.1f} s"
    )
    assert sum(waits) <= 2 * STALE_AFTER


def test_workers_alone_start_a_scheduled_campaign_once_and_so_do_two_beats(
    db: Session,
    room: Newsroom,
    relay: Relay,
    broker: RedisServer,
    probe: Probe,
    pg_url: str,
    stacks: Callable[..., Stack],
) -> None:
    expected = audience(db, room.list_id)
    # A start takes seconds (it renders the PDF): no broker redelivery of a running start.
    stack = stacks(
        pg_url, broker.url, relay.url, MAILER_STALE_AFTER="10", MAILER_VISIBILITY_TIMEOUT="900"
    )
    stack.worker("worker1", concurrency=1)
    stack.worker("worker2", concurrency=1)
    # Both campaigns are scheduled up front (a command takes seconds to start on a loaded
    # machine, and a time already past is refused): the first falls due with workers alone, the
    # second once two beats tick beside them, four tick runners in all.
    first_at = datetime.now(UTC) + timedelta(seconds=20)
    out = stack.cli(
        "send", room.issue_slug, "--list", room.list_slug, "--at", first_at.isoformat(), "--yes"
    )
    assert "scheduled" in out
    second_at = datetime.now(UTC) + timedelta(seconds=35)
    stack.cli(
        "send", room.issue_slug, "--list", room.list_slug, "--at", second_at.isoformat(),
        "--force-resend", "--yes",
    )  # fmt: skip
    wait_until(lambda: probe.done(1), 60, "the first scheduled campaign, with no beat")
    assert min(r.received_at for r in relay.received) >= first_at.timestamp()  # not before

    stack.spawn("beat", name="beat1")
    stack.spawn("beat", name="beat2")
    wait_until(
        lambda: (
            b"Sending due task tick" in stack.log("beat1")
            and b"Sending due task tick" in stack.log("beat2")
        ),
        30,
        "both beats to send ticks",
    )
    assert probe.status(2) == CampaignStatus.SCHEDULED  # the beats are up before it falls due
    wait_until(lambda: probe.done(2), 60, "the second scheduled campaign, with two beats")

    # One snapshot per campaign, whoever ticked (a start's log line names its campaign).
    for cid in (1, 2):
        snapshots = sum(
            len(re.findall(rb"campaign %d: [0-9]+ deliveries to send" % cid, stack.log(w)))
            for w in ("worker1", "worker2")
        )
        assert snapshots == 1, f"campaign {cid} snapshotted {snapshots} times"
    second = [r for r in relay.received if r.received_at >= second_at.timestamp()]
    assert duplicates_of(second, expected) == 0
    assert duplicates_of([r for r in relay.received if r not in second], expected) == 0
