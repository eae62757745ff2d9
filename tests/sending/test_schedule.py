"""`--at` / "send at" (mailer/sending/schedule.py): read in MAILER_TIMEZONE, shown in it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from mailer.errors import MailerError
from mailer.sending.schedule import describe, parse_when, require_future


def test_a_time_that_is_not_one_is_refused_with_examples_that_would_be_accepted() -> None:
    """The example in the error was a fixed date, in the past by the time a user read it:
    copying it got a second refusal. It is a time the same check accepts."""
    zone = ZoneInfo("America/Mexico_City")
    with pytest.raises(MailerError) as caught:
        parse_when("next tuesday", zone)
    examples = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?:[+-]\d\d:\d\d)?", str(caught.value))
    assert len(examples) == 2, str(caught.value)
    now = datetime.now(UTC)
    for example in examples:
        when = parse_when(example, zone)
        require_future(when, now, zone)  # raises for a past time
        assert when.astimezone(zone).hour == 9


def test_a_time_without_a_zone_is_read_in_mailer_timezone_and_shown_in_both() -> None:
    zone = ZoneInfo("America/Mexico_City")
    when = parse_when("2099-01-01T09:00", zone)
    assert when.astimezone(UTC) == datetime(2099, 1, 1, 15, 0, tzinfo=UTC)
    assert describe(when, zone) == "2099-01-01 09:00 CST (2099-01-01 15:00 UTC)"
