"""flufl.bounce's detectors, the last fallback for bounce formats nothing else recognised.

Its detectors can raise on unusual input (a message without From, for example); `all_failures`
runs them in one chain, so one crash would hide the others. Each detector is run on its own here,
guarded, and the status code and reason come from the text near the address.
"""

from __future__ import annotations

import email
import email.policy
import logging

from flufl.bounce._scan import _DETECTORS  # type: ignore[import-untyped]

from mailer.inbound.detectors.base import Failure, Mail, Verdict, failure
from mailer.inbound.detectors.text import notice_text
from mailer.inbound.models import InboundKind

log = logging.getLogger(__name__)

# flufl.bounce's own order: most specific first (its private list; guarded like the rest).
DETECTORS = list(_DETECTORS)


# Bytes of a message flufl.bounce reads: a notice comes first; a 20 MB message took seconds.
MAX_SCANNED_BYTES = 512 * 1024


def _near(text: str, address: str) -> str:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if address.lower() in line.lower():
            return " ".join(x.strip() for x in lines[i : i + 4])
    return ""


def failures(mail: Mail) -> list[Failure]:
    # flufl.bounce reads every line of every part: its first MAX_SCANNED_BYTES only (the notice).
    legacy = email.message_from_bytes(mail.raw[:MAX_SCANNED_BYTES], policy=email.policy.compat32)
    temporary: set[bytes | str] = set()
    permanent: set[bytes | str] = set()
    for cls in DETECTORS:
        try:
            found = cls().process(legacy)
        except Exception:  # noqa: BLE001 - one detector choking must not hide the others
            log.debug("flufl.bounce %s could not scan a message", cls.__name__, exc_info=True)
            continue
        if isinstance(found, tuple) and len(found) == 2 and (found[0] or found[1]):
            temporary, permanent = set(found[0]), set(found[1])
            break
    out = []
    alone = len(permanent | temporary) == 1
    for is_permanent, found_set in ((True, permanent), (False, temporary - permanent)):
        for addr in sorted(found_set, key=str):
            recipient = addr.decode("utf-8", "replace") if isinstance(addr, bytes) else str(addr)
            action = "failed" if is_permanent else "delayed"
            # An address found in a header only (X-Failed-Recipients): a notice about it alone
            # is its diagnostic.
            near = _near(mail.text, recipient) or (notice_text(mail)[:600] if alone else "")
            out.append(failure(recipient, "", near, action))
    return out


def detect(mail: Mail) -> Verdict | None:
    found = failures(mail)
    if not found:
        return None
    return Verdict(
        InboundKind.BOUNCE, "flufl.bounce", f"bounce for {found[0].recipient}", tuple(found)
    )
