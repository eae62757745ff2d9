"""A guard against a hang, not a measure of speed (bench/ measures speed; tests/test_test_honesty.py
refuses a test that asserts on elapsed time): `hang_guard(seconds)` raises Hung in the block when
it has not returned after `seconds` (SIGALRM, so main thread only). A pattern that backtracks
catastrophically, or a server that never answers or never hangs up, then fails the test with a
name instead of stalling the whole suite."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


class Hung(Exception):
    """The block did not return within the hang guard's allowance."""


@contextlib.contextmanager
def hang_guard(seconds: int) -> Iterator[None]:
    """Raise Hung if the block has not returned after `seconds`."""

    def hung(signum: int, frame: object) -> None:
        raise Hung(f"not done after {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
