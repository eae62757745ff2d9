"""Source-line dates: every way an editor copies an outlet's dateline, and impossible ones."""

from __future__ import annotations

import re
from datetime import date

import pytest

from mailer.content.dates import DATE_PATTERN, parse_date


@pytest.mark.parametrize(
    "written",
    [
        "4/5/25",
        "04/05/2025",
        "2025-04-05",
        "5 April 2025",
        "5 APR. 2025",
        "April 5, 2025",
        "Apr 5 2025",
        "5 de abril de 2025",
        "5 abr 2025",
        "abril 5, 2025",
    ],
)
def test_every_written_form_of_a_date_is_that_date(written: str) -> None:
    assert re.fullmatch(DATE_PATTERN, written, re.IGNORECASE)
    assert parse_date(written) == date(2025, 4, 5)


@pytest.mark.parametrize("written", ["2/30/25", "31 April 2025", "2025-13-01"])
def test_a_date_that_does_not_exist_is_refused(written: str) -> None:
    with pytest.raises(ValueError):
        parse_date(written)


@pytest.mark.parametrize("written", ["April 5th 2025", "5 Aprile 2025", "5.4.2025", "April 2025"])
def test_other_text_is_not_a_date(written: str) -> None:
    assert re.fullmatch(DATE_PATTERN, written, re.IGNORECASE) is None
