"""The dates of source lines, as an editor copies them from an outlet's dateline.

The briefing writes `M/D/YY` (US order); an editor pasting from the outlet writes `5 April 2025`,
`April 5, 2025`, `5 de abril de 2025` or `2025-04-05`. Each of these is unambiguous, so each is
read; day-first numeric dates (`5/4/25`) are not, and stay month first as the format says.
Also the issue's own date, as the PDF edition's name and the file's name carry it.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import PurePath

# Month names and their abbreviations, English and Spanish (the firm writes both editions).
MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            "january jan enero ene",
            "february feb febrero",
            "march mar marzo",
            "april apr abril abr",
            "may mayo",
            "june jun junio",
            "july jul julio",
            "august aug agosto ago",
            "september sep sept septiembre setiembre set",
            "october oct octubre",
            "november nov noviembre",
            "december dec diciembre dic",
        ),
        start=1,
    )
    for name in names.split()
}
MONTH_PATTERN = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
# M/D/YY (US order, as the briefing writes it), 2025-04-05, 5 April 2025, 5 de abril de 2025,
# April 5, 2025: each is unambiguous, and an editor copying an outlet's dateline writes any.
DATE_PATTERN = (
    r"(?:\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}\s+(?:de\s+)?{MONTH_PATTERN}\s+(?:de(?:l)?\s+)?\d{{4}}"
    rf"|{MONTH_PATTERN}\s+\d{{1,2}},?\s+\d{{4}})"
)
DATE_FORMATS = (
    "M/D/YY (month first), `5 April 2025`, `April 5, 2025`, `5 de abril de 2025` or `2025-04-05`"
)


def parse_date(text: str) -> date:
    """A source line's date in one of DATE_FORMATS; ValueError for one that does not exist.

    `M/D/YY` is US order, as the briefing writes it, and YY means 20YY; a month written out
    cannot be misread, whichever side of the day it stands."""
    if "/" in text:
        month, day, year = (int(part) for part in text.split("/"))
        return date(year + 2000 if year < 100 else year, month, day)
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
        year, month, day = (int(part) for part in text.split("-"))
        return date(year, month, day)
    words = [w for w in re.split(r"[\s,.]+", text.lower()) if w and w not in ("de", "del")]
    numbers = [int(w) for w in words if w.isdigit()]
    names = [MONTHS[w] for w in words if w in MONTHS]
    if len(numbers) != 2 or len(names) != 1:
        raise ValueError(text)
    return date(numbers[1], names[0], numbers[0])


# The date in the PDF edition's name (`MI-SecurityChatter-040925`, MMDDYY) and in a file
# name (`security-chatter-2025-04-09.txt`).
PDF_DATE = re.compile(r"-(?P<mmddyy>\d{6})$")
FILE_DATE = re.compile(r"(?P<iso>\d{4}-\d{2}-\d{2})")


def date_from_pdf_name(pdf_name: str) -> date | None:
    """The MMDDYY suffix of the PDF name, if it has one."""
    match = PDF_DATE.search(pdf_name)
    if match is None:
        return None
    digits = match["mmddyy"]
    try:
        return date(2000 + int(digits[4:]), int(digits[:2]), int(digits[2:4]))
    except ValueError:
        return None


def date_from_path(path: str | None) -> date | None:
    """A `YYYY-MM-DD` in the file's name, if any."""
    if path is None:
        return None
    match = FILE_DATE.search(PurePath(path).name)
    if match is None:
        return None
    try:
        return date.fromisoformat(match["iso"])
    except ValueError:
        return None
