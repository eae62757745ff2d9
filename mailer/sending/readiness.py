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

# CAN-SPAM (and its kin elsewhere) requires the sender's postal address in every commercial
# email: through a relay, readers would get the placeholder instead, so such a send is refused
# even outside production. The outbox (`mailer demo`) and test copies reach no reader.
POSTAL_ADDRESS_UNSET = (
    'MAILER_POSTAL_ADDRESS is not set: every footer would tell readers "Postal address not '
    "configured\", and anti-spam law (CAN-SPAM) requires the sender's postal address in every "
    "newsletter; set it to the firm's address (e.g. MAILER_POSTAL_ADDRESS=\"Firm · Street 1, "
    'City"); the outbox of `mailer demo` needs none'
)


def problems(settings: Settings, *, readers: bool = True) -> list[str]:
    """Each reason the settings cannot send a campaign, naming its variable (empty when ready).

    `readers` False for test copies, which go to the editor's own addresses only."""
    found = settings.production_problems() if settings.production else []
    if readers and not settings.production and _no_postal_address_for_readers(settings):
        found.append(POSTAL_ADDRESS_UNSET)  # production names it among the placeholders
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


def require(settings: Settings, *, readers: bool = True) -> None:
    """Raise ConfigError listing every problem: DKIM (the key files readable, an RSA key in
    MAILER_DKIM_KEY_FILE and an Ed25519 key in MAILER_DKIM_ED25519_KEY_FILE, each key's settings
    together), MAILER_SMTP_URL, the postal address for readers through a relay, and in
    production the placeholders. `readers` False for test copies."""
    found = problems(settings, readers=readers)
    if found:
        raise ConfigError("cannot send: " + "; ".join(found))


def _no_postal_address_for_readers(settings: Settings) -> bool:
    return settings.postal_address_unset() and not settings.relay_reaches_no_one()


def require_postal_address(settings: Settings) -> None:
    """ConfigError when a campaign's mail would reach readers without the firm's postal
    address: checked again where batches send, so a campaign created (or scheduled) before the
    setting was removed pauses with the reason instead of sending the placeholder."""
    if _no_postal_address_for_readers(settings):
        raise ConfigError(POSTAL_ADDRESS_UNSET)
