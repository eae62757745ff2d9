"""The admin area's session cookie, CSRF and login rate limits (accounts and API tokens themselves
are in mailer/accounts.py).

- The admin session is a cookie signed with the settings' secret (itsdangerous, timestamped): it
  holds the user id, the user's session version and a CSRF token. Logging out bumps the version,
  so a copied cookie stops working at logout, not only at expiry. The cookie is HttpOnly,
  SameSite=Lax, scoped to /admin, and Secure whenever PUBLIC_URL is https.
- CSRF: every form carries the session's token and every POST is checked against it (a
  session-bound synchroniser token; the login form gets an anonymous session for this).
- Failed logins are rate-limited per address and per client IP with the `limits` library (moving
  window; in Redis when the mailer has one, so several web processes share the count).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse, storage, strategies
from sqlalchemy.orm import Session

from mailer.accounts import AdminUser, normalize_login
from mailer.settings import Settings

SESSION_COOKIE = "mailer_admin"
SESSION_PATH = "/admin"
SESSION_MAX_AGE = 8 * 3600  # seconds: a working day, then log in again
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

LOGIN_LIMIT_PER_ADDRESS = parse("5/minute")
LOGIN_LIMIT_PER_IP = parse("20/minute")


class LoginRequired(Exception):  # noqa: N818  (a signal, not an error)
    """No valid admin session: the admin router answers with a redirect to the login page."""

    def __init__(self, next_url: str = ""):
        self.next_url = next_url


class CsrfRejected(Exception):  # noqa: N818
    """A state-changing request without the session's CSRF token: refused with 403."""


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
