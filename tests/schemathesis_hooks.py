"""Checks schemathesis runs against the API with a read-only token (SCHEMATHESIS_HOOKS=this file).

Loaded by the `schemathesis` process, not by pytest: see tests/web's schemathesis tests.
"""

from __future__ import annotations

from typing import Any

import schemathesis

READS = {"GET", "HEAD", "OPTIONS"}


def _judged(response: Any, case: Any) -> bool:
    """Schemathesis also probes without credentials (401 is right there) and with methods the
    schema does not define (405): only the schema's operations sent with the token under test
    are judged here."""
    if case.method.upper() != case.operation.method.upper():
        return False
    return str(response.request.headers.get("Authorization", "")).startswith("Bearer mlr_")


@schemathesis.check
def writes_are_forbidden(ctx: Any, response: Any, case: Any) -> None:
    """With a token holding only the `read` scope, every write is 403, whatever its input."""
    if not _judged(response, case):
        return
    if case.method.upper() not in READS and response.status_code != 403:
        raise AssertionError(
            f"{case.method} {case.path} answered {response.status_code} to a read-only token"
        )


@schemathesis.check
def reads_are_allowed(ctx: Any, response: Any, case: Any) -> None:
    """…and no read is refused for its scope."""
    if (
        _judged(response, case)
        and case.method.upper() in READS
        and response.status_code
        in (
            401,
            403,
        )
    ):
        raise AssertionError(
            f"{case.method} {case.path} refused a read-only token: {response.status_code}"
        )
