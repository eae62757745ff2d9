"""The shared send rate (`mailer.sending.ratelimit`) on a real Redis, and the property the
end-to-end rate tests check (tests/rates.py), shown to fail when nothing limits the sending."""

from __future__ import annotations

import threading
import time

import pytest
import redis

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


def test_a_limit_high_enough_takes_tokens_in_blocks_and_still_obeys_the_window(
    redis_server: RedisServer,
) -> None:
    """At 400/second a take is a block of 16 tokens used within 50 ms (ratelimit.py's
    guarantee): far fewer round trips to Redis than messages, and the arrivals still obey the
    limit as the end-to-end tests check it."""
    redis_server.flush()
    client = redis.Redis.from_url(redis_server.url)
    client.config_resetstat()
    rate = "400/second"
    first = SendRateLimiter.from_settings(rate, redis_server.url)
    second = SendRateLimiter.from_settings(rate, redis_server.url)
    assert (first.block, first.hold) == (16, 0.05)
    times = stamps([first, first, second, second], 300)  # 1,200 messages: three windows or more
    print("\n  " + assert_within_rate(times, rate))
    stats = client.info("commandstats")
    takes = sum(stats.get(f"cmdstat_{c}", {}).get("calls", 0) for c in ("evalsha", "eval"))
    assert takes < len(times) / 4, f"{takes} round trips for {len(times)} messages"


def test_without_redis_the_window_is_the_processs_own() -> None:
    rate = "400/second"
    limiter = SendRateLimiter.from_settings(rate, None)
    times = stamps([limiter, limiter], 500)
    print("\n  " + assert_within_rate(times, rate))


def test_a_storage_that_is_not_redis_is_refused_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match="MAILER_RATELIMIT_STORAGE_URL"):
        SendRateLimiter.from_settings("40/second", "memcached://127.0.0.1:11211")


def test_the_rate_property_fails_when_nothing_limits() -> None:
    unlimited = SendRateLimiter.from_settings("0", None)
    times = stamps([unlimited, unlimited], 30)
    with pytest.raises(AssertionError, match="allows no less than"):
        assert_within_rate(times, "20/second")


@pytest.mark.parametrize("value", ["fast", "20/fortnight", "-3/second"])
def test_a_rate_that_is_not_one_names_the_setting(value: str) -> None:
    with pytest.raises(ConfigError, match="MAILER_RATE_LIMIT"):
        parse_rate(value)
