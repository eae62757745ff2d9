"""The subscribers package's error hierarchy; messages say what is wrong and where."""


class SubscribersError(Exception):
    """Base of every error the subscribers package raises on purpose.

    `web`: when `str()` gives CLI advice (`--pending`, `mailer list create`), the same message for
    the browser and the API, each input written as `{name}` (its API key); the web layer fills in
    the form's label or the JSON key (as mailer.errors.MailerError does)."""

    web: str | None = None

    def __init__(self, *args: object, web: str | None = None) -> None:
        super().__init__(*args)
        self.web = web


class NotFound(SubscribersError):
    """A list, subscriber or segment that was named does not exist."""


class InvalidAddress(SubscribersError):
    """An email address that cannot be accepted."""


class Suppressed(SubscribersError):
    """The address is on the suppression list and must not be (re)subscribed."""


class InvalidInput(SubscribersError):
    """A value given by the user (slug, language, tag, status…) is not acceptable."""


class AlreadyExists(SubscribersError):
    """Something with that name (a list slug…) exists already."""


class ImportFileError(SubscribersError):
    """A CSV file cannot be imported at all (no header, no email column, not UTF-8…).

    Row-level problems never raise: they are reported and the good rows are imported.
    """

    def __init__(self, message: str, *, path: str, line: int | None = None):
        self.path = path
        self.line = line
        where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")


def quoted(value: str, limit: int = 40) -> str:
    """`value` quoted for a message (as `repr` does), cut to `limit` characters with `…`: a
    message names what it refuses, and a 45 KB word is named by its start."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + "…"


# How much of a long expression line an error shows around its column: a terminal's line. The
# header keeps the real column, so 45 KB of `or` terms are not printed to point at one of them.
EXCERPT_WIDTH = 76
EXCERPT_BEFORE = 50


def excerpt(text: str, column: int, width: int = EXCERPT_WIDTH) -> tuple[str, int]:
    """(the part of `text` around the 1-based `column` that fits in `width` characters, with `…`
    where it was cut; the column's place in that part). Short text is returned whole."""
    if len(text) <= width:
        return text, column
    start = max(0, min(column - 1 - EXCERPT_BEFORE, len(text) - width))
    end = min(len(text), start + width)
    head = "…" if start > 0 else ""
    tail = "…" if end < len(text) else ""
    return f"{head}{text[start:end]}{tail}", column - start + len(head)


class SegmentSyntaxError(SubscribersError):
    """A segment expression cannot be parsed; points at the (1-based) column where it failed.

    `str()` is three lines: a header with the column, the offending line of the expression (of
    a long line, the `excerpt` around the column), and a caret under the column followed by what
    was expected, so a terminal or a <pre> block shows it as is.
    """

    def __init__(self, message: str, *, expression: str, column: int, line: int = 1):
        self.message = message
        self.expression = expression
        self.column = column
        self.line = line
        lines = expression.split("\n")
        # A tab is one column but several cells on a terminal: show it as a space so the caret
        # stays under the right character.
        text = (lines[line - 1] if 0 < line <= len(lines) else expression).replace("\t", " ")
        shown, at = excerpt(text, column)
        where = f"column {column}" if len(lines) == 1 else f"line {line}, column {column}"
        super().__init__(
            f"invalid segment expression ({where}): {message}\n{shown}\n{' ' * (at - 1)}^ {message}"
        )

    def __reduce__(self) -> tuple[object, tuple[str, str, int, int]]:
        # Keyword-only arguments defeat the default pickling, which Celery and multiprocessing
        # use to carry an error back from a worker.
        return (self._restore, (self.message, self.expression, self.column, self.line))

    @classmethod
    def _restore(
        cls, message: str, expression: str, column: int, line: int
    ) -> "SegmentSyntaxError":
        return cls(message, expression=expression, column=column, line=line)
