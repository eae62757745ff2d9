"""Issue content's errors: an issue file that cannot be read, a partner that cannot be added."""

from mailer.errors import MailerError


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


class PartnerError(MailerError):
    """A partner cannot be added as asked (bad or duplicate slug or email)."""
