"""Admin accounts and API tokens: who may use the admin area and the API.

Shared by the web (login, bearer tokens) and the CLI (`mailer admin …`), so it lives below both.

- Passwords are hashed with argon2id (argon2-cffi); a login for an unknown address still spends one
  hash verification, so response time does not tell which addresses exist.
- API tokens are random 256-bit strings shown once; only their SHA-256 is stored, which is enough
  for a value that cannot be guessed and keeps the per-request check cheap.
- A token holds scopes (SCOPES: read, subscribers, send) and an expiry, so a script that only
  reads counts cannot add subscribers without opt-in or send a campaign, and a token forgotten
  in a CI secret stops working on its own. A new token expires after DEFAULT_TOKEN_DAYS unless
  its creator says otherwise (`never` must be asked for).
- Changing a password or disabling a user ends every session of that user (its session version
  is bumped, which the session cookies carry).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Boolean, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mailer.db import utcnow
from mailer.errors import MailerError
from subscribers.db import Base, UTCDateTime

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_PASSWORD = 10
TOKEN_PREFIX = "mlr_"  # noqa: S105  (a marker, not a secret)
SCOPES = {
    "read": "read lists, subscribers, segments, issues and campaigns",
    "subscribers": "create lists; add subscribers (active, without opt-in) and unsubscribe them",
    "send": "create campaigns (send an issue to a list) and pause, resume, cancel or retry them",
}
DEFAULT_TOKEN_DAYS = 90


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    """argon2id with the library's current recommended parameters. Made (and argon2 imported) on
    first use: every engine loads this module for its table, few commands hash a password."""
    from argon2 import PasswordHasher

    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the address is unknown, so both paths cost one argon2 verification.
    Made on first use: every entry point imports this module (its tables), few log anyone in."""
    return _hasher().hash(secrets.token_urlsafe(16))


class AdminUser(Base):
    """Someone who may log in to /admin. Only an argon2 hash of the password is kept."""

    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped on logout and password change: every session cookie issued before is then refused.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A bearer token for /api/v1. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Space-separated names from SCOPES. Tokens made before scopes existed hold all of them.
    scopes: Mapped[str] = mapped_column(
        String(100), default="read", server_default="read subscribers send"
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: never

    @property
    def scope_list(self) -> list[str]:
        return [s for s in SCOPES if s in self.scopes.split()]

    def state(self, now: datetime | None = None) -> str:
        """`active`, `expired` or `revoked`."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return "expired"
        return "active"


class AuthError(MailerError):
    """An admin account or token cannot be created or used as asked."""


# --- admin users -------------------------------------------------------------------------------


def normalize_login(email: str) -> str:
    return email.strip().lower()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise AuthError("the password is longer than 1024 characters")


def create_user(session: Session, email: str, password: str) -> AdminUser:
    """A new admin user (the caller commits). AuthError for a taken or unusable address."""
    login = normalize_login(email)
    if "@" not in login or len(login) > 320 or any(c.isspace() for c in login):
        raise AuthError(f"{email!r} is not an email address")
    _check_password(password)
    if session.scalar(select(AdminUser.id).where(AdminUser.email == login)) is not None:
        raise AuthError(f"an admin user {login} exists already")
    user = AdminUser(email=login, password_hash=_hasher().hash(password), session_version=0)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> AdminUser | None:
    """The active user with this address and password, or None (same cost either way)."""
    user = session.scalar(select(AdminUser).where(AdminUser.email == normalize_login(email)))
    stored = user.password_hash if user is not None and user.active else _dummy_hash()
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    user.last_login_at = utcnow()
    return user


def require_user(session: Session, email: str) -> AdminUser:
    user = session.scalar(select(AdminUser).where(AdminUser.email == normalize_login(email)))
    if user is None:
        known = ", ".join(session.scalars(select(AdminUser.email).order_by(AdminUser.email)))
        raise AuthError(
            f"no admin user {normalize_login(email)!r}; admin users: {known or 'none yet'}"
        )
    return user


def end_sessions(user: AdminUser) -> None:
    """Every session cookie issued to this user stops working (logout, password change,
    disabling): the cookies carry the version this bumps."""
    user.session_version = (user.session_version or 0) + 1


def set_password(session: Session, email: str, password: str) -> AdminUser:
    """A new password for an admin user; their sessions end (the caller commits)."""
    user = require_user(session, email)
    _check_password(password)
    user.password_hash = _hasher().hash(password)
    end_sessions(user)
    return user


def change_own_password(user: AdminUser, current: str, new: str, repeated: str) -> None:
    """An admin changing their own password: the current one must be right (a session left open
    on a shared screen must not be enough to take the account), the new one typed twice alike
    and long enough. Their sessions end (the caller commits and issues the new one's cookie).
    Raises AuthError saying which of the three is wrong."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        _hasher().verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise AuthError("the current password is not right; nothing was changed") from None
    if new != repeated:
        raise AuthError("the two new passwords differ; type the same one twice")
    if new == current:
        raise AuthError("the new password is the current one; choose another")
    _check_password(new)
    user.password_hash = _hasher().hash(new)
    end_sessions(user)


def set_active(session: Session, email: str, active: bool) -> AdminUser:
    """Enable or disable an admin user; disabling ends their sessions at once."""
    user = require_user(session, email)
    if not active:
        end_sessions(user)
    user.active = active
    return user


def list_users(session: Session) -> list[AdminUser]:
    return list(session.scalars(select(AdminUser).order_by(AdminUser.email)))


# --- API tokens -------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_scopes(values: Iterable[str]) -> list[str]:
    """`["read,send"]`, `["read", "send"]` → `["read", "send"]`; AuthError for an unknown one."""
    wanted = {part.strip().lower() for value in values for part in value.split(",")} - {""}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise AuthError(
            f"unknown scope {unknown[0]!r}; scopes: "
            + "; ".join(f"{name} ({what})" for name, what in SCOPES.items())
        )
    if not wanted:
        raise AuthError("a token needs at least one scope: " + ", ".join(SCOPES))
    return [s for s in SCOPES if s in wanted]


_DURATION = re.compile(r"^(\d+)\s*([hdwy])$")
# A token meant to outlive any review is `never`, said so; a date centuries ahead is a slip.
MAX_TOKEN_YEARS = 10
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_expiry(text: str, now: datetime | None = None) -> datetime | None:
    """When a token given `--expires TEXT` expires: `90d`, `12h`, `8w`, `1y`, a date
    (`2026-12-31`, the end of that day in UTC), an ISO time, or `never` (None)."""
    now = now or utcnow()
    value = text.strip().lower()
    if value == "never":
        return None
    match = _DURATION.match(value)
    when: datetime
    latest = now + timedelta(days=365 * MAX_TOKEN_YEARS)
    if match:
        count, unit = int(match.group(1)), match.group(2)
        span = timedelta(days=365) if unit == "y" else _UNITS[unit]
        # Compared as counts: a huge count would overflow the datetime before any comparison.
        when = latest + span if count > (latest - now) / span else now + count * span
    else:
        try:
            if len(value) == 10:
                when = datetime.combine(date.fromisoformat(value), time.max, tzinfo=UTC)
            else:
                when = datetime.fromisoformat(text.strip())
                when = when if when.tzinfo else when.replace(tzinfo=UTC)
        except ValueError:
            advice = (
                "is not understood: give a duration (90d, 12h, 8w, 1y), a date (2026-12-31) "
                "or never"
            )
            raise AuthError(
                f"--expires {text!r} {advice}", web=f"{{expires}} {text!r} {advice}"
            ) from None
    if when > latest:
        far = (
            f"{text!r} is too far ahead: the latest is {MAX_TOKEN_YEARS} years from now "
            f"({latest:%Y-%m-%d}); give an earlier date or a shorter duration, or never for a "
            "token that does not expire"
        )
        raise AuthError(f"--expires {far}", web=f"{{expires}} {far}")
    if when <= now:
        past = f"{text!r} is in the past ({when:%Y-%m-%d %H:%M} UTC)"
        raise AuthError(f"--expires {past}", web=f"{{expires}} {past}")
    return when


def create_token(
    session: Session,
    name: str,
    *,
    scopes: Iterable[str] = ("read",),
    expires_at: datetime | None | Literal["default"] = "default",
) -> tuple[str, ApiToken]:
    """A new bearer token (returned once, never stored) and its row (the caller commits).

    `expires_at` None means never; by default the token expires in DEFAULT_TOKEN_DAYS."""
    name = name.strip()
    if not name or len(name) > 100 or any(ord(c) < 32 for c in name):
        raise AuthError("a token needs a name of 1-100 characters (what or who uses it)")
    chosen = parse_scopes(scopes)
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise AuthError(f"a token named {name!r} exists already; choose another name")
    if expires_at == "default":
        expires_at = utcnow() + timedelta(days=DEFAULT_TOKEN_DAYS)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        token_hash=_token_hash(token),
        prefix=token[:12],
        scopes=" ".join(chosen),
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return token, row


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)))


def revoke_token(session: Session, name: str) -> ApiToken:
    row = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if row is None:
        raise AuthError(f"no API token named {name!r}")
    row.revoked_at = row.revoked_at or utcnow()
    return row


_LAST_USED_EVERY = 60.0  # seconds: record use at most this often, not on every request


def token_row(session: Session, token: str | None) -> ApiToken | None:
    """The row matching a presented bearer token, whatever its state (see `ApiToken.state`), or
    None; records its use when it is active."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    now = utcnow()
    if row is None or row.state(now) != "active":
        return row
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > _LAST_USED_EVERY:
        row.last_used_at = now
    return row
