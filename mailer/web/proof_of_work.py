"""An optional proof-of-work on the subscribe form (ALTCHA's protocol, self-hosted, no third party).

Why: the per-IP and per-mailbox windows stop one client, not a botnet; a challenge that costs the
visitor's browser about half a second of hashing is nothing to a person subscribing once and a
real cost to a script sending thousands of confirmation mails. It is off unless
MAILER_SUBSCRIBE_POW is set (the number of hashes the hardest challenge needs).

The protocol is ALTCHA's (v1, SHA-256), so the server side is the `altcha` library's
`create_challenge`/`verify_solution`: the server picks a random number n ≤ max, publishes
SHA-256(salt + n) with an HMAC signature over it; the browser (templates/web/static/pow.js, a few
lines on WebCrypto, served from this site) tries numbers until the hash matches and posts
base64(JSON{algorithm, challenge, number, salt, signature}). The salt carries an expiry, which we
require. A solved payload is accepted once: its signature is remembered until the challenge expires
(in the web limiter's storage, so every web process shares it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import altcha

from mailer.web.ratelimit import WebLimiter

CHALLENGE_TTL = timedelta(minutes=20)
FIELD = "altcha"  # the form field carrying the solution, as ALTCHA's widget names it
MAX_PAYLOAD = 2000  # characters of a posted payload: a real one is ~300


def _key(secret: str) -> str:
    """The HMAC key for challenges: derived, so it is never the secret key itself."""
    return hashlib.sha256(b"mailer.subscribe.altcha:" + secret.encode()).hexdigest()


def new_challenge(secret: str, max_number: int, now: datetime | None = None) -> dict[str, Any]:
    """A fresh challenge as the browser receives it (JSON-ready)."""
    expires = (now or datetime.now(UTC)) + CHALLENGE_TTL
    challenge = altcha.create_challenge_v1(
        altcha.ChallengeOptionsV1(
            algorithm="SHA-256",
            max_number=max_number,
            hmac_key=_key(secret),
            expires=expires,
        )
    )
    return dict(challenge.to_dict())


def solution_is_valid(payload: str, secret: str, limiter: WebLimiter) -> bool:
    """True once for a correctly solved, unexpired challenge of ours; False for anything else.

    Never raises on garbage: a bad payload is simply not a proof."""
    if not payload or len(payload) > MAX_PAYLOAD:
        return False
    try:
        data = json.loads(base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError):
        return False
    if not isinstance(data, dict) or not isinstance(data.get("salt"), str):
        return False
    if not isinstance(data.get("number"), int) or not isinstance(data.get("signature"), str):
        return False
    if "expires=" not in data["salt"]:  # ours always carry one; without it a proof never expires
        return False
    ok, _error = altcha.verify_solution_v1(cast(Any, data), _key(secret), check_expires=True)
    if not ok:
        return False
    # Once only: the first use takes the signature's single slot for the challenge's lifetime.
    minutes = int(CHALLENGE_TTL.total_seconds() // 60)
    return limiter.hit(f"1/{minutes} minutes", "altcha-used", data["signature"]).allowed
