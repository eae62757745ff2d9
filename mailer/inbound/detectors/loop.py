"""Our own forwards coming back (they carry our loop-guard header): never acted on again."""

from __future__ import annotations

from mailer.inbound.detectors.base import Mail, Verdict
from mailer.inbound.message import LOOP_HEADER, has_loop_guard
from mailer.inbound.models import InboundKind


def detect(mail: Mail) -> Verdict | None:
    if not has_loop_guard(mail.msg, mail.domain):
        return None
    return Verdict(InboundKind.LOOP, "loop", f"carries {LOOP_HEADER}: {mail.domain}")
