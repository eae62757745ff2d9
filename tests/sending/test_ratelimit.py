"""The shared send rate (`mailer.sending.ratelimit`) on a real Redis, and the property the
end-to-end rate tests check (tests/rates.py), shown to fail when nothing limits the sending."""

from __future__ import annotations

import threading
import time

import pytest

from mailer.errors import ConfigError
from mailer.sending.ratelimit import SendRateLimiter, parse_rate
from tests.rates import assert_within_rate
from tests.redis_server import RedisServer


def stamps(limiters: list[SendRateLimiter], each: int) -> list[float]:
    """One sender per limiter given, all acquiring at once as worker processes do; returns the
    time each message was let through."""
    times: list[float] = []
    lock = threading.Lock()

    def send(limiter: SendRateLimiter) -> None:
        for _ in range(each):
            limiter.acquire()
            with lock:
                times.append(time.time())

    workers = [threading.Thread(target=send, args=(lim,)) for lim in limiters]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert len(times) == len(limiters) * each
    return times


def test_senders_sharing_a_redis_window_obey_it(redis_server: RedisServer) -> None:
    redis_server.flush()
    rate = "20/second"
    # Two limiters on one Redis: two worker processes, each with its own connection.
    first = SendRateLimiter.from_settings(rate, redis_server.url)
    second = SendRateLimiter.from_settings(rate, redis_server.url)
    times = stamps([first, first, second, second], 15)
    print("\n  " + assert_within_rate(times, rate))


def test_the_rate_property_fails_when_nothing_limits() -> None:
    unlimited = SendRateLimiter.from_settings("0", None)
    times = stamps([unlimited, unlimited], 30)
    with pytest.raises(AssertionError, match="allows no less than"):
        assert_within_rate(times, "20/second")


@pytest.mark.parametrize("value", ["fast", "20/fortnight", "-3/second"])
def test_a_rate_that_is_not_one_names_the_setting(value: str) -> None:
    with pytest.raises(ConfigError, match="MAILER_RATE_LIMIT"):
        parse_rate(value)
