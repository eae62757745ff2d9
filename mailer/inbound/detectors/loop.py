"""Our own mail coming back: a forward carrying our loop-guard header, or one of our newsletters
itself (its Message-ID is ours and it carries List-Unsubscribe), returned as it was sent by a
forwarding rule or a mailbox that redirects. Never acted on again, and never read as a bounce:
the newsletter's text names the partner's address beside words like "error" or "failure"."""

from __future__ import annotations

from email.utils import parseaddr

from mailer.inbound.detectors.base import Mail, Verdict
from mailer.inbound.message import LOOP_HEADER, has_loop_guard
from mailer.inbound.models import InboundKind


def _our_newsletter(mail: Mail) -> bool:
    """The top-level message is one we sent: a notice about it has its own Message-ID (the
    reporting system's) and carries ours only inside, where this does not look."""
    message_id = parseaddr(str(mail.msg.get("Message-ID", "") or ""))[1].lower()
    return bool(message_id.endswith("@" + mail.domain.lower()) and mail.msg.get("List-Unsubscribe"))


def detect(mail: Mail) -> Verdict | None:
    if has_loop_guard(mail.msg, mail.domain):
        return Verdict(InboundKind.LOOP, "loop", f"carries {LOOP_HEADER}: {mail.domain}")
    if _our_newsletter(mail):
        return Verdict(InboundKind.LOOP, "loop", "our own newsletter came back as it was sent")
    return None
