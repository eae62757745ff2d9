"""The base of the mailer's error hierarchy and the errors of the shared root modules.

Each stage keeps its own errors beside the code that raises them (content/errors.py,
rendering/errors.py, sending/campaigns.py…), all subclasses of `MailerError`. Every error a user
can cause carries a message that says what to do, so the CLI can print it as is and exit non-zero
without a traceback.

Advice that names a command or an option (`--at`, `mailer segment list`) is the CLI's: the error's
`str()` keeps it, word for word, and the raiser also gives `web=`, the same message for someone in
the browser or the API, with each input written as `{name}` (its API key: `{at}`, `{segment}`).
mailer/web/errors.py fills those in with the form's label on a page and the JSON key in the API.
"""


class MailerError(Exception):
    """Base of every error the mailer raises on purpose.

    `web`: the message without CLI advice, `{name}` for each input it names (see above); None
    when `str()` names no command or option and so reads the same everywhere."""

    web: str | None = None

    def __init__(self, *args: object, web: str | None = None) -> None:
        super().__init__(*args)
        self.web = web


class ConfigError(MailerError):
    """A setting is missing or malformed."""


class NotFound(MailerError):
    """A named object (issue, list, partner, campaign…) does not exist."""


class TokenError(MailerError):
    """A token was forged, altered or is otherwise unusable."""


class ComposeError(MailerError):
    """A message cannot be built (e.g. a recipient address no header can carry safely).

    Raised by mailer/headers.py, which every message builder (sending, inbound) shares."""


class DatabaseUnreachable(MailerError):
    """The database named by MAILER_DATABASE_URL cannot be reached: no server listens there, the
    database does not exist, the login is refused. Built by `cannot_connect`."""


def cannot_connect(url: str, driver_message: str) -> DatabaseUnreachable:
    """The one-line error for a database that refused or never answered the connection: the URL
    (the caller's printer redacts its password) and the driver's own first line, without the
    driver's prefixes ("connection failed: ", libpq's "FATAL:  ")."""
    first = (driver_message.strip().splitlines() or [""])[0]
    first = first.removeprefix("connection failed: ").replace("FATAL:  ", "")
    reason = " ".join(first.split()) or "no reason given"
    return DatabaseUnreachable(
        f"cannot connect to the database {url}: {reason}; check MAILER_DATABASE_URL"
    )
