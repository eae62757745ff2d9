"""The mailer package's error hierarchy.

Every error a user can cause carries a message that says what to do, so the CLI can print it as is
and exit non-zero without a traceback.
"""


class MailerError(Exception):
    """Base of every error the mailer raises on purpose."""


class ConfigError(MailerError):
    """A setting is missing or malformed."""


class NotFound(MailerError):
    """A named object (issue, list, partner, campaign…) does not exist."""


class IssueFormatError(MailerError):
    """An issue file cannot be read; names the file and line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path is not None and line is not None:
            where = f"{path}:{line}: "
        elif path is not None:
            where = f"{path}: "
        elif line is not None:
            where = f"line {line}: "
        super().__init__(f"{where}{message}")


class RenderError(MailerError):
    """A template failed to compile or its output lost content."""


class TokenError(MailerError):
    """A token was forged, altered or is otherwise unusable."""


class ComposeError(MailerError):
    """A message cannot be built (e.g. a recipient address no header can carry safely)."""
