"""A CSV row's attribute cells as the subscriber's attributes, and what could not be kept.

Two shapes come in: one column per attribute (`Sector`, `attr.Notes`), and listmonk's export,
whose `attributes` column holds all of them as one JSON object (`{"city": "Madrid", "tier":
"gold"}`); storing that as one attribute named `attributes` left every segment on `city` empty.
A value that cannot be kept (longer than ATTR_MAX, a control character, a JSON cell that is not
an object) does not cost the row: the rest of it is imported and the report names the row, the
column and why (the caller turns each message into a note). Pure functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from subscribers.errors import InvalidInput
from subscribers.lifecycle import clean_text
from subscribers.text import has_control_characters

ATTR_PREFIX = "attr."
# Characters in one attribute value: room for a CRM's notes field (HubSpot, Salesforce), far
# below what would make a subscriber's row heavy. A longer value is reported, not truncated.
ATTR_MAX = 2_000
ATTR_KEY_MAX = 64
# Header names of a column holding the attributes as one JSON object (listmonk's export).
JSON_COLUMNS = ("attributes", "attribs")


def _as_text(value: Any) -> str:
    """A JSON value as the attribute's text: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def json_attributes(cell: str, column: str) -> tuple[dict[str, Any], list[str]]:
    """The attributes a JSON-object cell holds, and what is wrong with the cell, if anything
    (a cell that is no JSON object is kept whole under the column's own name)."""
    text = cell.strip()
    if not text:
        return {}, []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return {column: text}, [
            f"{column!r} is not a JSON object ({exc.msg} at character {exc.pos + 1}); "
            f"kept as the text of attribute {column!r}"
        ]
    if not isinstance(data, dict):
        return {column: text}, [
            f"{column!r} holds {type(data).__name__} JSON, not an object of attributes; kept "
            f"as the text of attribute {column!r}"
        ]
    return {str(key): _as_text(value) for key, value in data.items()}, []


def _key_problem(key: str) -> str | None:
    if not key.strip() or len(key) > ATTR_KEY_MAX or has_control_characters(key):
        return (
            f"an attribute name must be one line of 1 to {ATTR_KEY_MAX} characters "
            f"(found {key[:40]!r})"
        )
    return None


def _cells(
    record: list[str], columns: list[tuple[str, int]]
) -> Iterator[tuple[int, str, str, list[str]]]:
    """(position, key, raw value, problems) of every attribute the row's cells hold."""
    for key, pos in columns:
        if pos >= len(record):
            continue
        if key.lower() in JSON_COLUMNS:
            values, problems = json_attributes(record[pos], key)
            for name, value in values.items():
                yield pos, name, value, problems
                problems = []
            for problem in problems:  # an empty object with a problem: still said
                yield pos, "", "", [problem]
        else:
            yield pos, key, record[pos], []


def row_attributes(
    record: list[str], columns: list[tuple[str, int]], header: list[str]
) -> tuple[dict[str, str], list[str]]:
    """The row's attributes, and one message per value not kept (naming its column)."""
    attributes: dict[str, str] = {}
    notes: list[str] = []
    for pos, key, raw, problems in _cells(record, columns):
        where = f"column {pos + 1} ({header[pos]!r})" if pos < len(header) else f"column {pos + 1}"
        notes.extend(f"{where}: {problem}" for problem in problems)
        if not key:
            continue
        problem = _key_problem(key)
        if problem is None:
            try:
                attributes[key] = clean_text(raw, f"{ATTR_PREFIX}{key}", ATTR_MAX)
                continue
            except InvalidInput as exc:
                problem = str(exc)
        notes.append(f"{where}: {problem}; this value was not stored, the rest of the row was")
    return attributes, notes
