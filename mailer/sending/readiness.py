"""Whether a campaign could be sent with the current settings, checked at every door (`mailer
send`, the admin's send form, the API) before the campaign is created.

A worker that finds the same problem later pauses the campaign with the reason (see tasks.py);
checking here first means the editor hears it at once, naming the variable, and no campaign
waits for a fix nobody knows is needed.
"""

from __future__ import annotations

from collections.abc import Callable

from mailer.errors import ConfigError
from mailer.sending.transport import check_url
from mailer.settings import Settings


def problems(settings: Settings) -> list[str]:
    """Each reason the settings cannot send a campaign, naming its variable (empty when ready)."""
    found = settings.production_problems() if settings.production else []
    checks: list[Callable[[], object]] = [lambda: check_url(settings.smtp_url)]
    if any(
        getattr(settings, name) for name in type(settings).model_fields if name.startswith("dkim_")
    ):
        # Only then: DKIM's library (cryptography, a tenth of `mailer send`'s imports) is needed
        # to read the keys; with no MAILER_DKIM_* set, Signer.from_settings finds nothing to check.
        from mailer.sending.dkim import Signer

        checks.insert(0, lambda: Signer.from_settings(settings))
    for check in checks:
        try:
            check()
        except ConfigError as exc:
            found.append(str(exc))
    return found


def require(settings: Settings) -> None:
    """Raise ConfigError listing every problem: DKIM (the key files readable, an RSA key in
    MAILER_DKIM_KEY_FILE and an Ed25519 key in MAILER_DKIM_ED25519_KEY_FILE, each key's settings
    together), MAILER_SMTP_URL, and in production the placeholders."""
    found = problems(settings)
    if found:
        raise ConfigError("cannot send: " + "; ".join(found))
