"""When a scheduled campaign goes out: the `--at` of `mailer send` and the web's "send at" field."""

from __future__ import annotations

from datetime import datetime

from mailer.errors import MailerError


def parse_when(value: str) -> datetime:
    """ISO 8601; a time without an offset is the machine's local time."""
    try:
        when = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except ValueError as exc:
        raise MailerError(
            f"--at {value!r} is not a time: use ISO 8601, e.g. 2026-12-01T09:00 or "
            "2026-12-01T09:00+01:00"
        ) from exc
    return when.astimezone() if when.tzinfo is None else when
