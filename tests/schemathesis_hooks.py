"""Checks schemathesis runs against the API with a read-only token (SCHEMATHESIS_HOOKS=this file).

Loaded by the `schemathesis` process, not by pytest: see tests/web's schemathesis tests.
"""

from __future__ import annotations

from typing import Any

import schemathesis

READS = {"GET", "HEAD", "OPTIONS"}


@schemathesis.check
def writes_are_forbidden(ctx: Any, response: Any, case: Any) -> None:
    """With a token holding only the `read` scope, every write is 403, whatever its input."""
    if case.method.upper() not in READS and response.status_code != 403:
        raise AssertionError(
            f"{case.method} {case.path} answered {response.status_code} to a read-only token"
        )


@schemathesis.check
def reads_are_allowed(ctx: Any, response: Any, case: Any) -> None:
    """…and no read is refused for its scope."""
    if case.method.upper() in READS and response.status_code in (401, 403):
        raise AssertionError(
            f"{case.method} {case.path} refused a read-only token: {response.status_code}"
        )
