"""When a scheduled campaign goes out: the `--at` of `mailer send`, the web's "send at" field and
the API's `at`, read in MAILER_TIMEZONE when they carry no zone, and shown in it with UTC beside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from mailer.errors import MailerError


def parse_when(value: str, zone: tzinfo) -> datetime:
    """ISO 8601; a time without an offset is in `zone` (MAILER_TIMEZONE). Returns an aware time.

    Raises MailerError with an example when the text is not a time."""
    try:
        when = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except ValueError as exc:
        # The examples are tomorrow at 09:00 in the zone: a fixed date would one day be in the
        # past, and copying it would then be refused for another reason.
        tomorrow = datetime.now(zone).replace(hour=9, minute=0, second=0, microsecond=0)
        tomorrow += timedelta(days=1)
        example = (
            f"use ISO 8601, e.g. {tomorrow:%Y-%m-%dT%H:%M} (in MAILER_TIMEZONE, {zone}) or "
            f"{tomorrow.isoformat(timespec='minutes')}"
        )
        raise MailerError(
            f"--at {value!r} is not a time: {example}",
            web=f"{{at}}: {value!r} is not a time: {example}",
        ) from exc
    return in_zone(when, zone)


def in_zone(when: datetime, zone: tzinfo) -> datetime:
    """`when` as an aware time: a naive one is taken to be in `zone`."""
    return when.replace(tzinfo=zone) if when.tzinfo is None else when


def describe(when: datetime, zone: tzinfo) -> str:
    """'2026-12-01 09:00 CST (2026-12-01 15:00 UTC)': local time first, as the editor thinks."""
    local = when.astimezone(zone)
    utc = when.astimezone(UTC)
    if local.utcoffset() == utc.utcoffset():
        return f"{utc:%Y-%m-%d %H:%M} UTC"
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({utc:%Y-%m-%d %H:%M} UTC)"


def require_future(when: datetime, now: datetime, zone: tzinfo) -> None:
    """Refuse a send time that has passed (it would otherwise go out at once, unasked)."""
    if when <= now:
        past = (
            f"the send time {describe(when, zone)} is in the past: it is now {describe(now, zone)}"
        )
        raise MailerError(
            f"{past}; give a later time, or leave --at out to send now",
            web=f"{past}; give a later time, or leave {{at}} empty to send now",
        )


# The statuses of a campaign that may not have started: planned, scheduled, and paused (an editor
# can pause a scheduled campaign before its time; resuming schedules it again).
_MAYBE_UNSTARTED = ("planned", "scheduled", "paused")


def not_started(status: str, total: int) -> bool:
    """Nothing snapshotted yet, so its total of 0 would read as "sends to nobody": every page
    and listing shows the recipients it was counted for instead. One rule for the CLI and the
    admin, so a campaign paused before its time is never "0 / 0 sent" in one and not the other."""
    return str(status) in _MAYBE_UNSTARTED and not total
