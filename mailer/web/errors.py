"""The one table from the stages' errors to HTTP statuses, for the admin pages and the API alike.

Every error a stage raises for a person to read is a `MailerError` or a `SubscribersError`; the
web answers it with the status below and the error's own message (an admin error page, or the
API's JSON `detail`), so the same mistake gets the same status wherever it was made.
"""

from __future__ import annotations

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


def http_status(exc: BaseException) -> int | None:
    """The HTTP status for a stage's error, or None for any other exception (a bug: let it be
    a 500 and be logged)."""
    for kinds, status in STATUS_OF:
        if isinstance(exc, kinds):
            return status
    return None
