"""Per-client limits for public forms (the `limits` library: a moving window per key).

Why: the subscribe form sends an email to whatever address is typed in, so without a limit it is a
tool to flood someone's inbox or to burn the firm's sending reputation. Four windows apply: one
per client IP (`SUBSCRIBE_PER_IP`), one per target mailbox (`CONFIRMATIONS_PER_ADDRESS`, keyed by a
keyed digest of the mailbox with case and +tags ignored, so the storage holds no address and
`victim+1@…` counts as `victim@…`), the mails one client IP may cause an hour
(`client_confirmation_share`), and one for all forms together (MAILER_CONFIRMATIONS_PER_HOUR).

Storage: Redis when the settings name one (several web processes then share the windows), process
memory otherwise. Each app instance gets its own `WebLimiter` (see `limiter_for`), so a test's
fresh app starts with empty windows.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse, storage, strategies
from starlette.requests import Request

from mailer.settings import get_settings

SUBSCRIBE_PER_IP = "5/minute"
CONFIRMATIONS_PER_ADDRESS = "3/hour"
# Confirmation mails one client address may cause an hour: a tenth of the default site-wide budget
# (MAILER_CONFIRMATIONS_PER_HOUR, 200), so one client cannot spend it and shut the form for everyone
# (5 posts a minute alone would be 300 an hour). With a smaller budget configured, a tenth of that.
CONFIRMATIONS_PER_CLIENT = "20/hour"
NAMESPACE = "mailer-web"


def client_confirmation_share(per_hour: int) -> RateLimitItem:
    """The confirmation mails one client address may cause an hour: CONFIRMATIONS_PER_CLIENT, and
    never more than a tenth of the site's budget (at least one), so that it takes ten clients
    to spend the budget whatever MAILER_CONFIRMATIONS_PER_HOUR says."""
    share = min(parse(CONFIRMATIONS_PER_CLIENT).amount, max(1, per_hour // 10))
    return parse(f"{share}/hour")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window lets the next request through (0 if allowed)


class WebLimiter:
    def __init__(self, storage_url: str | None) -> None:
        self.storage = storage.storage_from_string(storage_url or "memory://")
        self.strategy = strategies.MovingWindowRateLimiter(self.storage)

    def hit(self, rule: str | RateLimitItem, *key: str) -> Verdict:
        """Count one event for `key` under `rule`; refused once the window is full."""
        item = parse(rule) if isinstance(rule, str) else rule
        if self.strategy.hit(item, NAMESPACE, *key):
            return Verdict(True, 0)
        stats = self.strategy.get_window_stats(item, NAMESPACE, *key)
        return Verdict(False, max(1, int(stats.reset_time - time.time()) + 1))


_CREATING = threading.Lock()


def limiter_for(request: Request) -> WebLimiter:
    """The app's limiter, created on first use from the settings (under a lock: a burst of
    first requests each making its own in-memory limiter would each start from zero)."""
    state = request.app.state
    with _CREATING:
        limiter: WebLimiter | None = getattr(state, "web_limiter", None)
        if limiter is None:
            limiter = WebLimiter(get_settings().ratelimit_storage())
            state.web_limiter = limiter
    return limiter


def client_ip(request: Request) -> str:
    """The client's address, the one every per-client limit is keyed by: the peer that
    connected, or, when that peer is one of MAILER_TRUSTED_PROXIES, the address it forwarded
    in X-Forwarded-For (uvicorn rewrites the peer so, as `mailer web` configures it; a header
    from any other peer is ignored)."""
    return request.client.host if request.client else "unknown"
