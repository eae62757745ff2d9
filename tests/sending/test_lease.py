"""The tick's slot in the database: one taker per slot on SQLite and PostgreSQL, even when many
processes ask at the same instant; an expired slot goes to the next one who asks."""

from __future__ import annotations

import threading
from datetime import timedelta

from mailer.db import get_engine, utcnow
from mailer.sending import lease, tasks
from mailer.settings import Settings


def test_a_slot_is_refused_while_held_and_taken_again_once_expired(settings: Settings) -> None:
    engine = get_engine()
    now = utcnow()
    assert lease.take(engine, "tick", seconds=10, holder="worker-a", now=now)
    assert not lease.take(engine, "tick", seconds=10, holder="worker-b", now=now)
    assert not lease.take(
        engine, "tick", seconds=10, holder="worker-b", now=now + timedelta(seconds=9)
    )
    assert lease.holder_of(engine, "tick") == ("worker-a", now + timedelta(seconds=10))
    # The holder died or simply did not come back: the slot expires, the next asker gets it.
    later = now + timedelta(seconds=10)
    assert lease.take(engine, "tick", seconds=10, holder="worker-b", now=later)
    assert lease.holder_of(engine, "tick") == ("worker-b", later + timedelta(seconds=10))
    # Another name is another slot.
    assert lease.take(engine, "other", seconds=10, holder="worker-a", now=now)


def test_of_many_simultaneous_takers_exactly_one_gets_the_slot(settings: Settings) -> None:
    engine = get_engine()
    now = utcnow()
    barrier = threading.Barrier(8)
    won: list[str] = []

    def ask(name: str) -> None:
        barrier.wait()
        if lease.take(engine, "tick", seconds=5, holder=name, now=now):
            won.append(name)

    # First round: nobody has the row yet (concurrent inserts); second: concurrent updates.
    for round_now in (now, now + timedelta(seconds=5)):
        now = round_now
        won.clear()
        threads = [threading.Thread(target=ask, args=(f"w{i}",)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1, won
        assert lease.holder_of(engine, "tick") == (won[0], now + timedelta(seconds=5))


def test_the_tick_runs_once_per_interval_whoever_calls_it(settings: Settings) -> None:
    # Two workers' timers (or a worker and a beat) calling within one interval: one runs.
    first = tasks.tick()
    second = tasks.tick()
    assert first == {"started": 0, "recovered": 0, "enqueued": 0}
    assert second is None


def test_a_tick_that_did_something_is_logged_in_words() -> None:
    """The worker's and beat's log said "tick: {'started': 1, 'recovered': 0, 'enqueued': 2}"."""
    assert tasks.tick_summary({"started": 1, "recovered": 0, "enqueued": 2}) == (
        "1 campaign started, 2 batches enqueued"
    )
    assert tasks.tick_summary({"started": 2, "recovered": 1, "enqueued": 1}) == (
        "2 campaigns started, 1 delivery recovered from stopped workers, 1 batch enqueued"
    )
