"""Settings and health in the admin area: every setting as the running process sees it, read-only,
with secrets hidden and URL passwords redacted (`settings.redact`); and live checks — the
database answers, the broker answers, the relay answers EHLO (with the extensions it offers), and
the DKIM key's public half as the DNS TXT record to publish.

Each check has a short timeout and reports its failure as text: the page is what an admin opens
when something is wrong, so it must itself never fail.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from fastapi import Request, Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from mailer.settings import Settings, get_settings, redact
from mailer.web.admin.forms import DB, Admin, protected_router, render

TIMEOUT = 5.0  # seconds, for each network check
HIDDEN_WORDS = ("secret", "password", "key", "token")

router = protected_router()


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: not applicable here
    detail: str
    lines: tuple[str, ...] = ()


def shown_settings(settings: Settings) -> list[tuple[str, str]]:
    """(MAILER_ variable, value as shown) for every setting; secrets say only whether they are
    set, URLs lose their passwords."""
    out = []
    for name, info in type(settings).model_fields.items():
        env = info.alias or f"MAILER_{name.upper()}"
        value: Any = getattr(settings, name)
        if name == "secret_key":
            shown = settings.secret_source()
        elif any(word in name for word in HIDDEN_WORDS) and not name.endswith("_file"):
            shown = "set (hidden)" if value else "not set"
        elif value is None:
            shown = "not set"
        else:
            shown = redact(str(value))
        out.append((env, shown))
    return out


def check_database(session: Session) -> Check:
    started = time.perf_counter()
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - reported on the page
        return Check("Database", False, redact(str(exc)))
    ms = (time.perf_counter() - started) * 1000
    backend = session.get_bind().dialect.name
    return Check("Database", True, f"{backend} answered in {ms:.0f} ms")


def check_broker(settings: Settings) -> Check:
    url = settings.broker_url
    if not url:
        return Check("Broker", None, "none configured: campaigns are sent by the web process")
    if not url.startswith(("redis://", "rediss://")):
        return Check("Broker", None, f"{redact(url)}: only Redis brokers are checked here")
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        client.ping()
        version = client.info("server").get("redis_version", "?")
        client.close()
    except Exception as exc:  # noqa: BLE001
        return Check("Broker", False, f"{redact(url)}: {redact(str(exc))}")
    return Check("Broker", True, f"{redact(url)} answered PING (Redis {version})")


def check_relay(settings: Settings) -> Check:
    """Connect, EHLO (and STARTTLS when configured), list the extensions; no login, no mail."""
    from mailer.sending.transport import SMTPTransport

    url = settings.smtp_url
    if url.startswith("outbox://"):
        return Check("Relay", None, f"{url}: messages are written as .eml files, no relay")
    try:
        relay = SMTPTransport.from_url(url)
        conn: smtplib.SMTP
        if relay.security == "tls":
            context = ssl.create_default_context()
            conn = smtplib.SMTP_SSL(relay.host, relay.port, timeout=TIMEOUT, context=context)
        else:
            conn = smtplib.SMTP(relay.host, relay.port, timeout=TIMEOUT)
        try:
            code, banner = conn.ehlo()
            if relay.security == "starttls":
                conn.starttls(context=ssl.create_default_context())
                code, banner = conn.ehlo()
            features = tuple(
                f"{name.upper()} {value}".strip() for name, value in conn.esmtp_features.items()
            )
        finally:
            conn.close()
    except Exception as exc:  # noqa: BLE001
        return Check("Relay", False, f"{redact(url)}: {redact(str(exc)) or type(exc).__name__}")
    greeting = banner.decode("utf-8", "replace").splitlines()[0] if banner else ""
    return Check("Relay", code == 250, f"{redact(url)}: EHLO {code} {greeting}", features)


def dkim_record(settings: Settings, *, ed25519_key: bool = False) -> Check:
    """The TXT record that publishes a signing key's public half (RFC 6376 §3.6.1): the RSA key
    of MAILER_DKIM_KEY_FILE, or with `ed25519_key` the optional second key of
    MAILER_DKIM_ED25519_KEY_FILE (RFC 8463 §4.2: p= is the raw 32-byte public key)."""
    if ed25519_key:
        title, variable = "DKIM Ed25519", "MAILER_DKIM_ED25519_KEY_FILE"
        key_file, selector = settings.dkim_ed25519_key_file, settings.dkim_ed25519_selector
        unset = "messages carry the RSA signature only"
    else:
        title, variable = "DKIM", "MAILER_DKIM_KEY_FILE"
        key_file, selector = settings.dkim_key_file, settings.dkim_selector
        unset = "messages are not signed"
    domain = settings.dkim_domain
    if not key_file:
        return Check(title, None, f"no key ({variable}): {unset}")
    try:
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except Exception as exc:  # noqa: BLE001
        return Check(title, False, f"{key_file}: cannot read the private key ({exc})")
    if isinstance(key, rsa.RSAPrivateKey):
        kind = "rsa"
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        kind = "ed25519"  # RFC 8463: the raw 32-byte key
        der = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    else:
        return Check(title, False, f"{key_file}: neither an RSA nor an Ed25519 key")
    value = f"v=DKIM1; k={kind}; p={base64.b64encode(der).decode('ascii')}"
    # DNS strings hold at most 255 bytes: longer values are published as several strings.
    strings = " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))
    name = f"{selector or 'SELECTOR'}._domainkey.{domain or settings.mail_domain}."
    return Check(title, True, f"publish as TXT at {name}", (f"{name} IN TXT ( {strings} )",))


@router.get("/settings")
def settings_page(request: Request, session: DB, admin: Admin) -> Response:
    settings = get_settings()
    checks = [
        check_database(session),
        check_broker(settings),
        check_relay(settings),
        dkim_record(settings),
        dkim_record(settings, ed25519_key=True),
    ]
    return render(
        request,
        "settings.html.j2",
        {"title": "Settings and health", "checks": checks, "rows": shown_settings(settings)},
        admin=admin,
        active="settings",
    )
