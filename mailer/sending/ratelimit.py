"""One sending rate shared by every worker, kept in Redis by the `limits` library.

A moving window (not a fixed one) so that no one-second span ever holds more than the limit, however
the workers' batches line up. Without a Redis URL the window lives in process memory, which is right
for the embedded default where a single process sends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItem, parse, storage, strategies

from mailer.errors import ConfigError

KEY = "mailer-send"


def parse_rate(value: str) -> RateLimitItem | None:
    """`40/second`, `50000/hour`, or `0` for unlimited."""
    value = value.strip()
    if value in {"", "0", "unlimited"}:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise ConfigError(
            f"MAILER_RATE_LIMIT {value!r} is not a rate: use e.g. 40/second, 50000/hour or 0"
        ) from exc


@dataclass
class SendRateLimiter:
    item: RateLimitItem | None
    limiter: strategies.MovingWindowRateLimiter | None

    @classmethod
    def from_settings(cls, rate: str, storage_url: str | None) -> SendRateLimiter:
        item = parse_rate(rate)
        if item is None:
            return cls(None, None)
        backend = storage.storage_from_string(storage_url or "memory://")
        return cls(item, strategies.MovingWindowRateLimiter(backend))

    def acquire(self) -> float:
        """Block until one message may go; returns the seconds spent waiting."""
        if self.item is None or self.limiter is None:
            return 0.0
        waited = 0.0
        while not self.limiter.hit(self.item, KEY):
            stats = self.limiter.get_window_stats(self.item, KEY)
            pause = min(max(stats.reset_time - time.time(), 0.002), 1.0)
            time.sleep(pause)
            waited += pause
        return waited
