"""The send rate as a property of the relay's recorded arrival times, not of wall-clock margins.

The limiter (`mailer.sending.ratelimit`, a moving window) guarantees that no span of one window
holds more than `limit` acquisitions. The relay does not see acquisitions: each message reaches it
some time after its worker took its place in the window (composing, the SMTP dialogue, a process
descheduled on a busy machine). Allowing each message up to one whole window of that delay, the
arrivals of messages i..j (sorted) came from acquisitions spread over at least
(their span + one window), so:

    arrival[j] - arrival[i] >= (ceil((j - i + 1) / limit) - 2) * window

for every i < j. That bound holds however slow the machine is (slowness only spreads arrivals
out) and fails when the limiter lets through more than its window allows: with no limiter, the
whole campaign lands within a second or two; here it must span (ceil(n / limit) - 2) windows.
"""

from __future__ import annotations

import math

from mailer.sending.ratelimit import parse_rate


def window_of(rate: str) -> tuple[int, float]:
    """The limit and the window in seconds of a MAILER_RATE_LIMIT value, as the limiter reads it."""
    item = parse_rate(rate)
    assert item is not None, f"{rate!r} sets no limit"
    return item.amount, float(item.get_expiry())


def busiest_window(times: list[float], window: float) -> int:
    """The most arrivals in any span of `window` seconds (reported, not asserted)."""
    times = sorted(times)
    counts = (sum(1 for t in times[i:] if t < start + window) for i, start in enumerate(times))
    return max(counts, default=0)


def assert_within_rate(times: list[float], rate: str) -> str:
    """Fail naming the first pair of arrivals that came closer than the limit allows; return a
    one-line summary (messages, span, busiest window) for the test to print."""
    limit, window = window_of(rate)
    times = sorted(times)
    for i in range(len(times)):
        for j in range(i + 1, len(times)):
            least = (math.ceil((j - i + 1) / limit) - 2) * window
            assert times[j] - times[i] >= least, (
                f"messages {i}..{j} ({j - i + 1} of them) reached the relay within "
                f"{times[j] - times[i]:.2f} s; a limit of {rate} allows no less than {least:.0f} s"
            )
    span = times[-1] - times[0] if times else 0.0
    return (
        f"{len(times)} messages over {span:.1f} s, busiest {window:g} s window "
        f"{busiest_window(times, window)} (limit {limit} per {window:g} s)"
    )
