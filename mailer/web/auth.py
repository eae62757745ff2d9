"""The admin area's session cookie, CSRF and login rate limits (accounts and API tokens themselves
are in mailer/accounts.py).

- The admin session is a cookie signed with the settings' secret (itsdangerous, timestamped): it
  holds the user id, the user's session version and a CSRF token. Logging out bumps the version,
  so a copied cookie stops working at logout, not only at expiry. The cookie is HttpOnly,
  SameSite=Lax, scoped to /admin, and Secure whenever PUBLIC_URL is https.
- CSRF: every form carries the session's token and every POST is checked against it (a
  session-bound synchroniser token; the login form gets an anonymous session for this), and must
  come from one of our own pages (`same_origin`, also used by the public preference centre).
- Failed logins are throttled per (account, client address) with growing delays, never per
  account alone (see `LoginThrottle`), and per client address across accounts.
"""

from __future__ import annotations

import hmac
import math
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from itsdangerous import BadData, BadSignature, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode
from limits import parse, storage, strategies
from sqlalchemy.orm import Session

from mailer.accounts import AdminUser, normalize_login
from mailer.settings import Settings, get_settings

SESSION_COOKIE = "mailer_admin"
SESSION_PATH = "/admin"
SESSION_MAX_AGE = 8 * 3600  # seconds: a working day, then log in again
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):  # noqa: N818  (a signal, not an error)
    """No valid admin session: the admin router answers with a redirect to the login page."""

    def __init__(self, next_url: str = ""):
        self.next_url = next_url


class CsrfRejected(Exception):  # noqa: N818
    """A state-changing request that cannot be shown to come from our own page: refused with 403.

    `reason` says which check failed, so that the page tells the person what to do about it:
    "cookie" (no valid session cookie came: blocked cookies, or a session too old), "token"
    (the form's token is not the session's: a page left open across a sign-in or out), "origin"
    (no Origin or Referer header, or another site's)."""

    def __init__(self, reason: str = "token"):
        super().__init__(reason)
        self.reason = reason


def check_request(request: Request, data: SessionData | None, submitted: str | None) -> None:
    """Raise CsrfRejected (with its reason) unless a state-changing request carries the session's
    token and comes from one of our own pages."""
    if data is None:
        raise CsrfRejected("cookie")
    if not csrf_matches(data, submitted):
        raise CsrfRejected("token")
    if not same_origin(request):
        raise CsrfRejected("origin")


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
    if not value or not _canonical_signature(value):
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


def _canonical_signature(value: str) -> bool:
    """Whether the signature is written the one way base64 writes it.

    A 20-byte HMAC takes 27 base64 characters, the last of which carries 2 unused bits: without
    this check four spellings of one signature verify, so a cookie with its last character
    changed could still be accepted. Only the spelling we issued is.
    """
    signature = value.rpartition(".")[2]
    try:
        return base64_encode(base64_decode(signature)).decode("ascii") == signature
    except BadData:
        return False


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


def csrf_matches(data: SessionData | None, submitted: str | None) -> bool:
    if data is None or not submitted:
        return False
    return hmac.compare_digest(data.csrf.encode(), submitted.encode())


# --- login rate limiting ----------------------------------------------------------------------
#
# Failed logins are counted per (account, client address), never per account alone: a lock on the
# account from any address is a button anyone can press to keep the real admin out. Each pair gets
# LOGIN_FREE_FAILURES tries; every failure after that locks the pair for a delay that doubles, from
# LOGIN_FIRST_DELAY up to LOGIN_MAX_DELAY, and a success clears the pair. One address trying many
# accounts (password spraying) meets LOGIN_LIMIT_PER_IP as well. The counts live in the rate-limit
# storage (Redis when the mailer has one, so every web process shares them), keyed by account and
# address, and expire on their own. A refusal carries the seconds to wait (Retry-After).
#
# Every attempt is reserved before its password is checked, never counted after: read-then-count
# let a burst of simultaneous posts all pass the check before any failure was counted (46 password
# checks from one burst of 100). A pair holds one attempt at a time (an atomic INCR in the storage,
# so in Redis across processes; a process lock besides, as the memory storage's own counts are not
# atomic): a second attempt while the first is being checked is refused for a second. The
# per-address window is hit (atomically) by the attempt itself, so it counts attempts, successes
# included, not only failures.

LOGIN_FREE_FAILURES = 5
LOGIN_FIRST_DELAY = 30  # seconds
LOGIN_MAX_DELAY = 15 * 60
LOGIN_FAILURE_MEMORY = 24 * 3600  # a pair's failures are forgotten a day after the first one
LOGIN_LIMIT_PER_IP = parse("20/minute")
LOGIN_ATTEMPT_HOLD = 30  # seconds: a crashed process's held attempt frees its pair after this


@dataclass(frozen=True)
class LoginVerdict:
    allowed: bool
    retry_after: int = 0  # seconds until the next attempt may be made (0 when allowed)


def login_delay(failures: int) -> int:
    """Seconds a pair stays locked after its `failures`-th failure (0 while tries are free)."""
    if failures < LOGIN_FREE_FAILURES:
        return 0
    return min(LOGIN_MAX_DELAY, LOGIN_FIRST_DELAY * 2 ** (failures - LOGIN_FREE_FAILURES))


class LoginThrottle:
    """Growing delays per (account, address) and a per-address ceiling; see above."""

    def __init__(self, storage_url: str | None) -> None:
        backend = storage.storage_from_string(storage_url or "memory://")
        assert isinstance(backend, storage.Storage)  # a synchronous scheme (memory, redis)
        self.storage: storage.Storage = backend
        self.window = strategies.MovingWindowRateLimiter(backend)
        self._local = threading.Lock()

    @staticmethod
    def _pair(ip: str, email: str) -> str:
        return f"{normalize_login(email)[:320]}|{ip}"

    def _failures_key(self, ip: str, email: str) -> str:
        return f"mailer-login/failures/{self._pair(ip, email)}"

    def _lock_key(self, ip: str, email: str, failures: int) -> str:
        # One key per failure count, so each lock gets its own expiry.
        return f"mailer-login/lock/{failures}/{self._pair(ip, email)}"

    def _busy_key(self, ip: str, email: str) -> str:
        return f"mailer-login/busy/{self._pair(ip, email)}"

    def begin(self, ip: str, email: str) -> LoginVerdict:
        """May this address try this account now? When it may, the attempt is reserved (the pair
        held, the per-address window hit) before the password is checked; `failed` or
        `succeeded`, then `release`, end it."""
        with self._local:
            busy = self._busy_key(ip, email)
            if self.storage.incr(busy, LOGIN_ATTEMPT_HOLD) != 1:
                return LoginVerdict(False, 1)  # another attempt for this pair is being checked
            verdict = self._verdict(ip, email)
            if not verdict.allowed:
                self.storage.clear(busy)
            return verdict

    def _verdict(self, ip: str, email: str) -> LoginVerdict:
        failures = self.storage.get(self._failures_key(ip, email))
        if failures >= LOGIN_FREE_FAILURES:
            lock = self._lock_key(ip, email, failures)
            if self.storage.get(lock) > 0:
                wait = self.storage.get_expiry(lock) - time.time()
                return LoginVerdict(False, max(1, math.ceil(wait)))
        if not self.window.hit(LOGIN_LIMIT_PER_IP, "mailer-login/ip", ip):
            stats = self.window.get_window_stats(LOGIN_LIMIT_PER_IP, "mailer-login/ip", ip)
            return LoginVerdict(False, max(1, math.ceil(stats.reset_time - time.time())))
        return LoginVerdict(True)

    def failed(self, ip: str, email: str) -> int:
        """Count a failure of the reserved attempt; returns the pair's failures so far."""
        with self._local:
            failures = self.storage.incr(self._failures_key(ip, email), LOGIN_FAILURE_MEMORY)
            delay = login_delay(failures)
            if delay:
                self.storage.incr(self._lock_key(ip, email, failures), delay)
            return failures

    def succeeded(self, ip: str, email: str) -> None:
        """The right password from this address: its count starts again."""
        with self._local:
            self.storage.clear(self._failures_key(ip, email))

    def release(self, ip: str, email: str) -> None:
        """The reserved attempt is over (its failure, if any, already counted)."""
        with self._local:
            self.storage.clear(self._busy_key(ip, email))


def login_limiter(settings: Settings) -> LoginThrottle:
    """The login throttle: Redis when the settings name one, else this process's memory.

    The web app keeps one per app instance (a fresh app starts with empty counts)."""
    return LoginThrottle(settings.ratelimit_storage())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(request: Request) -> bool:
    """True when a state-changing request comes from one of our own pages: its Origin, else its
    Referer, must be MAILER_PUBLIC_URL's origin or the origin the request was made to.

    Browsers send Origin on every POST (our Referrer-Policy `same-origin` keeps it a real origin,
    not "null", for our own forms); a cross-site page posting to us gets a foreign or null Origin.
    A request with neither header is refused: every browser sends one, so only a non-browser (which
    cannot be a forged cross-site post) would lack both, and it has no use for a form.
    """
    allowed = {_origin(get_settings().public_url), _origin(str(request.base_url))}
    source = request.headers.get("origin")
    if source is None:
        referer = request.headers.get("referer")
        if not referer:
            return False
        source = _origin(referer)
    return source.lower() in allowed
