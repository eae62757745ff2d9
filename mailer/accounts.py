"""Admin accounts and API tokens: who may use the admin area and the API.

Shared by the web (login, bearer tokens) and the CLI (`mailer admin …`), so it lives below both.

- Passwords are hashed with argon2id (argon2-cffi); a login for an unknown address still spends one
  hash verification, so response time does not tell which addresses exist.
- API tokens are random 256-bit strings shown once; only their SHA-256 is stored, which is enough
  for a value that cannot be guessed and keeps the per-request check cheap.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mailer.db import utcnow
from mailer.errors import MailerError
from subscribers.db import Base, UTCDateTime

MIN_PASSWORD = 10
TOKEN_PREFIX = "mlr_"  # noqa: S105  (a marker, not a secret)

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the address is unknown, so both paths cost one argon2 verification.
    Made on first use: every entry point imports this module (its tables), few log anyone in."""
    return _hasher.hash(secrets.token_urlsafe(16))


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
    user = AdminUser(email=login, password_hash=_hasher.hash(password), session_version=0)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> AdminUser | None:
    """The active user with this address and password, or None (same cost either way)."""
    user = session.scalar(select(AdminUser).where(AdminUser.email == normalize_login(email)))
    stored = user.password_hash if user is not None and user.active else _dummy_hash()
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user


# --- API tokens -------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str) -> tuple[str, ApiToken]:
    """A new bearer token (returned once, never stored) and its row (the caller commits)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise AuthError("a token needs a name of 1-100 characters (what or who uses it)")
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise AuthError(f"a token named {name!r} exists already; choose another name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, token_hash=_token_hash(token), prefix=token[:12])
    session.add(row)
    session.flush()
    return token, row


def revoke_token(session: Session, name: str) -> ApiToken:
    row = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if row is None:
        raise AuthError(f"no API token named {name!r}")
    row.revoked_at = row.revoked_at or utcnow()
    return row


_LAST_USED_EVERY = 60.0  # seconds: record use at most this often, not on every request


def token_row(session: Session, token: str | None) -> ApiToken | None:
    """The unrevoked token row matching a presented bearer token, or None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > _LAST_USED_EVERY:
        row.last_used_at = now
    return row
