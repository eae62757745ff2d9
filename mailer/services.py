"""Which service an exception says could not be reached: Redis (the rate limits, the broker), the
database or the broker, with the setting that points at it. Shared by the web's error pages
(mailer/web/outages.py) and the in-process sender (mailer/sending/dispatch.py), so both name the
same service and setting for the same failure, with its passwords hidden."""

from __future__ import annotations

from collections.abc import Iterator

from mailer.settings import redact

# (top-level module, exception class names) → what it is and the settings that name it.
_SERVICES: tuple[tuple[str, frozenset[str], str, str], ...] = (
    (
        "redis",
        frozenset({"ConnectionError", "TimeoutError", "BusyLoadingError", "AuthenticationError"}),
        "Redis",
        "MAILER_RATELIMIT_STORAGE_URL, else MAILER_BROKER_URL",
    ),
    (
        "sqlalchemy",
        frozenset({"OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError"}),
        "the database",
        "MAILER_DATABASE_URL",
    ),
    ("kombu", frozenset({"OperationalError"}), "the broker", "MAILER_BROKER_URL"),
    ("amqp", frozenset({"ConnectionError", "RecoverableConnectionError"}), "the broker", ""),
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and those it was raised from or during, each once."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def unreachable_service(exc: BaseException) -> tuple[str, str, str] | None:
    """(service, settings naming it, the error's first line, passwords hidden) when `exc` says
    a service could not be reached or answered too late; None for anything else (a bug)."""
    for error in _chain(exc):
        root = type(error).__module__.split(".")[0]
        for module, names, service, settings in _SERVICES:
            if root == module and type(error).__name__ in names:
                detail = redact(str(error).strip().splitlines()[0] if str(error).strip() else "")
                return service, settings or "MAILER_BROKER_URL", detail[:300]
    return None


def described(found: tuple[str, str, str]) -> str:
    """`cannot reach Redis (MAILER_…): Error 111 …`: the service, its setting, its error."""
    service, settings, detail = found
    return f"cannot reach {service} ({settings})" + (f": {detail.rstrip('.')}" if detail else "")
