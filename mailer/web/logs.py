"""What the web server writes to its logs: no capability tokens, no passwords.

- Access log: `/u/TOKEN` (unsubscribe and preferences) and `/confirm/TOKEN` are capabilities —
  whoever holds one can act for the reader — and log files are read, shipped and kept by more
  people than the mail is. The access line keeps the route and cuts the token:
  `"POST /u/[token]/preferences HTTP/1.1" 200`.
- Every line (the server's errors with their tracebacks, the mailer's warnings): URL passwords and
  `password=` parameters are replaced by `***` (`mailer.settings.redact`), so an SMTP or database
  URL quoted by an error does not put its password in the log.

`install()` adds the filters to the handlers that exist when the app is created (uvicorn's and
the root logger's, and logging's last-resort handler) and to the `uvicorn.access` logger; it is
idempotent, so several apps in one process (tests) do not stack filters.
"""

from __future__ import annotations

import logging
import re

from mailer.settings import redact

_TOKEN_PATH = re.compile(r"(?P<route>/(?:u|confirm)/)(?P<token>[^/?#\s\"]+)")
LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "mailer", "gunicorn.error")


def cut_tokens(text: str) -> str:
    """`text` with every `/u/TOKEN` and `/confirm/TOKEN` path segment replaced by `[token]`."""
    return _TOKEN_PATH.sub(lambda m: f"{m['route']}[token]", text)


def _clean(value: object) -> object:
    return redact(cut_tokens(value)) if isinstance(value, str) else value


class RedactingFilter(logging.Filter):
    """Cuts tokens and passwords out of a record's message, arguments and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        # The values, not a format string's placeholders (`/u/%s` must keep its `%s`).
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_clean(a) for a in record.args)
        elif isinstance(record.args, dict) and record.args:
            record.args = {k: _clean(v) for k, v in record.args.items()}
        elif isinstance(record.msg, str):
            record.msg = _clean(record.msg)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(cut_tokens(record.exc_text))
        return True


_FILTER = RedactingFilter()


def _add(target: logging.Filterer) -> None:
    if not any(isinstance(f, RedactingFilter) for f in target.filters):
        target.addFilter(_FILTER)


def install() -> None:
    """Attach the filter to every handler and logger that may print a request or an error."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        _add(logger)
        for handler in logger.handlers:
            _add(handler)
    if logging.lastResort is not None:
        _add(logging.lastResort)
