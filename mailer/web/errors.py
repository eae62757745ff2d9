"""The one table from the stages' errors to HTTP statuses, for the admin pages and the API alike.

Every error a stage raises for a person to read is a `MailerError` or a `SubscribersError`; the
web answers it with the status below and the error's own message (an admin error page, or the
API's JSON `detail`), so the same mistake gets the same status wherever it was made.

The message is the error's `web` wording when it has one (its `str()` then gives CLI advice:
`--at`, `mailer segment list`), with each `{name}` in it filled in for the surface: the admin form's
label on a page (`FORM_LABELS`), the JSON key in the API (`API_NAMES`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mailer.accounts import AuthError
from mailer.errors import MailerError
from mailer.errors import NotFound as MailerNotFound
from mailer.sending.campaigns import CampaignStateError
from subscribers.errors import AlreadyExists, SubscribersError, Suppressed
from subscribers.errors import NotFound as SubscribersNotFound

# First match wins, so the specific errors come before the base classes.
STATUS_OF: tuple[tuple[tuple[type[Exception], ...], int], ...] = (
    ((MailerNotFound, SubscribersNotFound), 404),  # no such list, subscriber, issue, campaign…
    ((AlreadyExists, Suppressed, CampaignStateError, AuthError), 409),  # not in the current state
    ((MailerError, SubscribersError), 422),  # invalid input: the message says what and where
)


# How the admin forms name the inputs a shared error names by its API key (the labels of
# templates/web/admin/*.html.j2, so that the reader finds the field the message means).
FORM_LABELS: Mapping[str, str] = {
    "at": "“Schedule”",
    "segment": "a segment in “Audience”",
    "where": "“Or an expression”",
    "force_resend": "ticking “Also send to people who already received this issue”",
    "name": "“Name”",
    "company": "“Company”",
    "description": "“Description”",
    "private": "“Private”",
    "expires": "“Expires”",
}

# The same inputs in the JSON API's request bodies.
API_NAMES: Mapping[str, str] = {
    "at": "`at`",
    "segment": "`segment`",
    "where": "`where`",
    "force_resend": "`force_resend: true`",
    "name": "`name`",
    "company": "`company`",
    "description": "`description`",
    "private": "`private`",
    "expires": "`expires`",
}

_NAME = re.compile(r"\{([a-z_]+)\}")


def user_message(exc: BaseException, names: Mapping[str, str] = FORM_LABELS) -> str:
    """What a person in the browser (or, with `API_NAMES`, an API client) reads for `exc`: its
    `web` wording with each `{name}` it knows replaced, else `str(exc)` (no CLI advice in it).

    Only known names are replaced, so braces in a value the user typed are shown as typed."""
    web = getattr(exc, "web", None)
    if not web:
        return str(exc)
    return _NAME.sub(lambda m: names.get(m[1], m[0]), web)


# A paused campaign's stored reason ends with the CLI's way to resume it (`mailer campaign status`
# prints it as stored); the admin page has a Resume button, the API a resume operation.
_CLI_RESUME = re.compile(r"`mailer campaign resume \d+`")


def stored_reason(reason: str) -> str:
    """A campaign's stored status reason as the web shows it: without the CLI command."""
    return _CLI_RESUME.sub("resume the campaign", reason)


def http_status(exc: BaseException) -> int | None:
    """The HTTP status for a stage's error, or None for any other exception (a bug: let it be
    a 500 and be logged)."""
    for kinds, status in STATUS_OF:
        if isinstance(exc, kinds):
            return status
    return None


# The most of a refused value a 422 sends back: FastAPI echoes each invalid input whole, so a
# 45 KB segment expression refused for its length came back as 45 KB of JSON.
MAX_ECHOED_INPUT = 80


def _encodable(value: Any) -> Any:
    """`value` with every lone surrogate in its text written as `\\udXXX`: JSON text may hold
    one (`"\\ud800"`), UTF-8 cannot, and the 422 that echoed it failed as a 500."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value


def echoed(errors: list[Any]) -> list[Any]:
    """FastAPI's validation errors with each text `input` cut to MAX_ECHOED_INPUT characters
    (`…` where cut) and any lone surrogate in an input escaped; other fields as they were."""
    out = []
    for error in errors:
        value = error.get("input") if isinstance(error, dict) else None
        if isinstance(value, str) and len(value) > MAX_ECHOED_INPUT:
            value = value[:MAX_ECHOED_INPUT] + "…"
        if value is not None:
            error = {**error, "input": _encodable(value)}
        out.append(error)
    return out
