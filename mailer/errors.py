"""The base of the mailer's error hierarchy and the errors of the shared root modules.

Each stage keeps its own errors beside the code that raises them (content/errors.py,
rendering/errors.py, sending/campaigns.py…), all subclasses of `MailerError`. Every error a user
can cause carries a message that says what to do, so the CLI can print it as is and exit non-zero
without a traceback.
"""


class MailerError(Exception):
    """Base of every error the mailer raises on purpose."""


class ConfigError(MailerError):
    """A setting is missing or malformed."""


class NotFound(MailerError):
    """A named object (issue, list, partner, campaign…) does not exist."""


class TokenError(MailerError):
    """A token was forged, altered or is otherwise unusable."""


class ComposeError(MailerError):
    """A message cannot be built (e.g. a recipient address no header can carry safely).

    Raised by mailer/headers.py, which every message builder (sending, inbound) shares."""
