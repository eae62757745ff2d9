"""Who may use the admin area and the API: admin users, their session cookie, CSRF, bearer tokens.

- Passwords are hashed with argon2id (argon2-cffi); a login for an unknown address still spends one
  hash verification, so response time does not tell which addresses exist.
- The admin session is a cookie signed with the settings' secret (itsdangerous, timestamped): it
  holds the user id, the user's session version and a CSRF token. Logging out bumps the version,
  so a copied cookie stops working at logout, not only at expiry. The cookie is HttpOnly,
  SameSite=Lax, scoped to /admin, and Secure whenever PUBLIC_URL is https.
- CSRF: every form carries the session's token and every POST is checked against it (a
  session-bound synchroniser token; the login form gets an anonymous session for this).
- API tokens are random 256-bit strings shown once; only their SHA-256 is stored, which is enough
  for a value that cannot be guessed and keeps the per-request check cheap.
- Failed logins are rate-limited per address and per client IP with the `limits` library (moving
  window; in Redis when the mailer has one, so several web processes share the count).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse, storage, strategies
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.errors import MailerError
from mailer.models import AdminUser, ApiToken
from mailer.settings import Settings
from subscribers.db import utcnow

SESSION_COOKIE = "mailer_admin"
SESSION_PATH = "/admin"
SESSION_MAX_AGE = 8 * 3600  # seconds: a working day, then log in again
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MIN_PASSWORD = 10
TOKEN_PREFIX = "mlr_"  # noqa: S105  (a marker, not a secret)

LOGIN_LIMIT_PER_ADDRESS = parse("5/minute")
LOGIN_LIMIT_PER_IP = parse("20/minute")

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the address is unknown, so both paths cost one argon2 verification.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AuthError(MailerError):
    """An admin account or token cannot be created or used as asked."""


class LoginRequired(Exception):  # noqa: N818  (a signal, not an error)
    """No valid admin session: the admin router answers with a redirect to the login page."""

    def __init__(self, next_url: str = ""):
        self.next_url = next_url


class CsrfRejected(Exception):  # noqa: N818
    """A state-changing request without the session's CSRF token: refused with 403."""


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
    stored = user.password_hash if user is not None and user.active else _DUMMY_HASH
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


# --- the session cookie -----------------------------------------------------------------------


@dataclass(frozen=True)
class SessionData:
    """What the signed cookie carries. `user_id` is None before login (the login form's CSRF)."""

    csrf: str
    user_id: int | None = None
    version: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"c": self.csrf, "u": self.user_id, "v": self.version}


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret(), salt="mailer.admin.session")


def new_session(user: AdminUser | None = None) -> SessionData:
    """A fresh CSRF token (also at login, so a token seen before login is worthless after)."""
    if user is None:
        return SessionData(csrf=secrets.token_urlsafe(32))
    return SessionData(
        csrf=secrets.token_urlsafe(32), user_id=user.id, version=user.session_version
    )


def encode_session(data: SessionData, settings: Settings) -> str:
    return _serializer(settings).dumps(data.to_dict())


def decode_session(value: str | None, settings: Settings) -> SessionData | None:
    """The cookie's content if it is ours, unaltered and younger than SESSION_MAX_AGE."""
    if not value:
        return None
    try:
        raw = _serializer(settings).loads(value, max_age=SESSION_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("c"), str):
        return None
    uid, version = raw.get("u"), raw.get("v", 0)
    if uid is not None and not isinstance(uid, int):
        return None
    return SessionData(csrf=raw["c"], user_id=uid, version=int(version))


def cookie_options(settings: Settings) -> dict[str, Any]:
    """HttpOnly, SameSite=Lax, path /admin, Secure when the site is served over https."""
    return {
        "key": SESSION_COOKIE,
        "max_age": SESSION_MAX_AGE,
        "path": SESSION_PATH,
        "httponly": True,
        "samesite": "lax",
        "secure": settings.public_url.startswith("https://"),
    }


def session_user(session: Session, data: SessionData | None) -> AdminUser | None:
    """The logged-in user, if the session is a login that has not been revoked since."""
    if data is None or data.user_id is None:
        return None
    user = session.get(AdminUser, data.user_id)
    if user is None or not user.active or user.session_version != data.version:
        return None
    return user


def revoke_sessions(user: AdminUser) -> None:
    """Every cookie issued to this user stops working (logout, password change)."""
    user.session_version = (user.session_version or 0) + 1


def csrf_matches(data: SessionData | None, submitted: str | None) -> bool:
    if data is None or not submitted:
        return False
    return hmac.compare_digest(data.csrf.encode(), submitted.encode())


# --- login rate limiting ----------------------------------------------------------------------


def login_limiter(settings: Settings) -> strategies.MovingWindowRateLimiter:
    """A limiter for failed logins: Redis when the settings name one, else this process's memory.

    The web app keeps one per app instance (a fresh app starts with empty windows)."""
    return strategies.MovingWindowRateLimiter(
        storage.storage_from_string(settings.ratelimit_storage() or "memory://")
    )


def login_allowed(limiter: strategies.MovingWindowRateLimiter, ip: str, email: str) -> bool:
    """False once an address or an IP has failed too often within the last minute."""
    login = normalize_login(email)
    return limiter.test(LOGIN_LIMIT_PER_ADDRESS, "admin-login-address", login) and limiter.test(
        LOGIN_LIMIT_PER_IP, "admin-login-ip", ip
    )


def record_failed_login(limiter: strategies.MovingWindowRateLimiter, ip: str, email: str) -> None:
    limiter.hit(LOGIN_LIMIT_PER_ADDRESS, "admin-login-address", normalize_login(email))
    limiter.hit(LOGIN_LIMIT_PER_IP, "admin-login-ip", ip)


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
