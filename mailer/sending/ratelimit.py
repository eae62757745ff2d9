"""One sending rate shared by every worker: a moving window kept in Redis, taken in small blocks.

A moving window (not a fixed one) so that no window-long span ever lets through more messages
than the limit, however the workers' batches line up. Without a Redis URL the window lives in
process memory, which is right for the embedded default where a single process sends.

Blocks. A round trip to Redis per message cost a worker about 0.35 ms of CPU, a third of its
budget per message, so a sender takes `block` tokens at once and uses them within `hold` seconds
(a twentieth of the window, at most one second); tokens left at the end of the hold are thrown
away. The guarantee is kept for the moments messages are let through, not only for the takes:

    in any span of one window, at most `limit` messages are let through.

Each token taken at time t is stamped t + hold (the latest moment it can be used), and a take of
k tokens at time t is granted only if the stamps later than t - window, plus k, are at most
`limit`. Proof: take a span [x, x + window) and, among the tokens used in it, the last granted
(at t < x + window). Every token granted before it and used in the span has a stamp ≥ x >
t - window, so it was counted when that take was granted: the span holds at most `limit`.
The price, when the limit binds, is a rate lower by hold ÷ (window + hold), under 5%; a limit too
low to fill a block within the hold (under 2 per hold) takes one token at a time with no hold,
exactly as a plain moving window does.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from limits import RateLimitItem, parse

from mailer.errors import ConfigError

KEY = "mailer-send-window"
MAX_BLOCK = 16

# KEYS[1]: the window's stamps, newest first. ARGV: now, limit, window, amount, stamp, ttl.
# Granted: pushes `amount` stamps and returns false; refused: returns the stamp that must leave
# the window first (the caller waits until then).
TAKE_LUA = """
local now, limit, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
local entry = redis.call('lindex', KEYS[1], limit - amount)
if entry and tonumber(entry) > now - window then
    return entry
end
for i = 1, amount do
    redis.call('lpush', KEYS[1], ARGV[5])
end
redis.call('ltrim', KEYS[1], 0, limit - 1)
redis.call('expire', KEYS[1], tonumber(ARGV[6]))
return false
"""


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


class Window(Protocol):
    def take(self, now: float, amount: int, stamp: float) -> float | None:
        """Grant `amount` tokens stamped `stamp` (None), or say when to try again."""
        ...


@dataclass
class RedisWindow:
    """The shared window: one Lua script per take, atomic in Redis."""

    url: str
    limit: int
    window: float

    def __post_init__(self) -> None:
        import redis

        self.script = redis.Redis.from_url(self.url).register_script(TAKE_LUA)

    def take(self, now: float, amount: int, stamp: float) -> float | None:
        ttl = int(stamp - now + self.window) + 1
        args: list[str | int] = [repr(now), self.limit, repr(self.window), amount, repr(stamp), ttl]
        entry = self.script(keys=[KEY], args=args)
        return None if entry is None else float(entry) + self.window


@dataclass
class MemoryWindow:
    """The same window in this process (no Redis: the embedded default's single sender)."""

    limit: int
    window: float
    stamps: deque[float] = field(default_factory=deque)  # newest first
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, now: float, amount: int, stamp: float) -> float | None:
        with self.lock:
            if len(self.stamps) > self.limit - amount:
                entry = self.stamps[self.limit - amount]
                if entry > now - self.window:
                    return entry + self.window
            self.stamps.extendleft([stamp] * amount)
            while len(self.stamps) > self.limit:
                self.stamps.pop()
            return None


@dataclass
class SendRateLimiter:
    window: Window | None
    block: int = 1
    hold: float = 0.0
    tokens: int = 0  # left from the last block
    until: float = 0.0  # usable until then
    # One sending process is one thread, but the embedded default may share a limiter.
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, rate: str, storage_url: str | None) -> SendRateLimiter:
        item = parse_rate(rate)
        if item is None:
            return cls(None)
        seconds = float(item.get_expiry())
        hold = min(seconds / 20, 1.0)
        block = min(MAX_BLOCK, int(item.amount * hold / seconds))
        if block < 2:
            block, hold = 1, 0.0
        window: Window
        if storage_url is None or storage_url == "memory://":
            window = MemoryWindow(item.amount, seconds)
        elif storage_url.startswith(("redis://", "rediss://", "unix://")):
            window = RedisWindow(storage_url, item.amount, seconds)
        else:
            raise ConfigError(
                "the sending rate is shared through Redis: set MAILER_RATELIMIT_STORAGE_URL "
                "(or a redis:// MAILER_BROKER_URL) to a Redis"
            )
        return cls(window, block, hold)

    def acquire(self, *, wait: bool = True) -> bool:
        """Block until one message may go, then True: the caller lets it through at once (see
        the module's guarantee). With `wait=False`, False instead of waiting when no token is
        free now (the batch first ends the message it holds, then waits)."""
        if self.window is None:
            return True
        with self.lock:
            return self._acquire(self.window, wait)

    def _acquire(self, window: Window, wait: bool) -> bool:
        if self.tokens and time.time() <= self.until:
            self.tokens -= 1
            return True
        while True:
            now = time.time()
            free_at = window.take(now, self.block, now + self.hold)
            if free_at is None:
                self.tokens, self.until = self.block - 1, now + self.hold
                if self.block == 1 or time.time() <= self.until:
                    return True
                self.tokens = 0  # the take itself outlasted the hold: those tokens are gone
                continue
            if not wait:
                return False
            time.sleep(min(max(free_at - now, 0.002), 1.0))
