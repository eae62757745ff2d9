"""The judgement's detectors, one small module each, run in a declared order.

Order (the first detector that answers decides; each is guarded, so one that raises is logged and
skipped, never hiding the others):

1. `loop`: our own forward, or one of our newsletters as it was sent, came back;
2. `rfc5965`: a feedback (ARF) report: a complaint;
   `mdn`: a read receipt (RFC 8098): delivered, never a failure nor a reader's words;
   `challenge`: a challenge-response filter's request to verify, an auto-reply even when it
   comes as a delivery report (Boxbe) or from the null sender;
3. the `families` whose subject, sender or headers claim the message: a mail system's own
   format and wording, known better than the generic readers below know it;
4. `rfc3464`: a delivery status notification: failures (a bounce) or only successes (delivered);
5. only on mail that looks like a bounce (null sender, a mail system's From, a bounce subject, a
   report, or our bounces+ address): `text` (the failed address next to its error in any
   notice); then `flufl` (flufl.bounce's detectors), the last fallback;
6. `rfc3834`: an automatic reply, unless a mail system's notice (`mail_systems_notice`);
7. at a reply+ address: `optout` (the whole reply asks to stop this newsletter).

Adding a mail system's bounce format: a module in `families/` with `claims(mail)` and
`detect(mail)`, listed in `families.FAMILIES`; a sample in tests/data/bounces/; a row in
tests/inbound/test_detectors.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from mailer.inbound.detectors import (
    challenge,
    families,
    flufl,
    loop,
    mdn,
    optout,
    rfc3464,
    rfc3834,
    rfc5965,
    text,
)
from mailer.inbound.detectors.base import Mail, Verdict, persons_reply
from mailer.inbound.models import InboundKind

log = logging.getLogger(__name__)

Detector = Callable[[Mail], "Verdict | None"]


def _claimed_family(mail: Mail) -> Verdict | None:
    """The first claiming family's verdict; a family's claim is specific enough to skip the
    looks-like-a-bounce gate."""
    for family in families.FAMILIES:
        if not guarded(f"family:{family.NAME}:claims", family.claims, mail):
            continue
        verdict = guarded(f"family:{family.NAME}", family.detect, mail)
        if verdict is not None and (verdict.failures or verdict.kind != InboundKind.BOUNCE):
            return verdict
    return None


STANDARD: tuple[tuple[str, Detector], ...] = (
    ("loop", loop.detect),
    ("rfc5965", rfc5965.detect),
    ("mdn", mdn.detect),
    ("challenge", challenge.detect),
    ("families", _claimed_family),
    ("rfc3464", rfc3464.detect),
)
AFTER_BOUNCES: tuple[tuple[str, Detector], ...] = (
    ("rfc3834", rfc3834.detect),
    ("optout", optout.detect),
)


def guarded(name: str, detector: Detector, mail: Mail) -> Verdict | None:
    """Run one detector; a crash is logged and counts as "not mine"."""
    try:
        return detector(mail)
    except Exception:  # noqa: BLE001 - one detector's crash must never hide the others
        log.warning("detector %s failed on a message; trying the next one", name, exc_info=True)
        return None


def looks_like_bounce(mail: Mail) -> bool:
    """Worth scanning as a non-standard bounce: a client quoting an error is not.

    A mail system's envelope or From, a report, or our bounces+ address decide; failing those, a
    bounce-like subject, unless the message is a person's reply or forward of one (sent to our
    reply+ address, or with "Re:" / "Fwd:" and a mail client's quoting).
    """
    if mail.address_kind == "bounces" or mail.null_sender or mail.from_daemon:
        return True
    if mail.msg.get_content_type() == "multipart/report":
        return True
    if mail.address_kind == "reply" or persons_reply(mail):
        return False
    return bool(text.BOUNCE_SUBJECT.search(mail.subject))


def _plainly_auto_reply(mail: Mail) -> bool:
    """An RFC 3834 auto-reply that is not a mail system's: the heuristics must not read a
    vacation message's addresses as failed recipients."""
    if mail.from_daemon or text.BOUNCE_SUBJECT.search(mail.subject):
        return False
    return guarded("rfc3834", rfc3834.detect, mail) is not None


def mail_systems_notice(mail: Mail) -> bool:
    """A mail system's delivery notice, never an auto-reply whatever its Auto-Submitted says:
    Exchange's NDR header, or a mail system's From with a bounce subject ("Onbestelbaar: …")."""
    if families.exchange.NDR_HEADER in mail.msg:
        return True
    return mail.from_daemon and bool(text.BOUNCE_SUBJECT.search(mail.subject))


def run(mail: Mail) -> Verdict | None:
    """The first detector's verdict, in the declared order (None: nobody recognised it)."""
    for name, detector in STANDARD:
        verdict = guarded(name, detector, mail)
        if verdict is not None:
            return verdict
    if looks_like_bounce(mail) and not _plainly_auto_reply(mail):
        for name, detector in (("text", text.detect), ("flufl", flufl.detect)):
            verdict = guarded(name, detector, mail)
            if verdict is not None and (verdict.failures or verdict.kind != InboundKind.BOUNCE):
                return verdict
    for name, detector in AFTER_BOUNCES:
        if name == "optout" and mail.address_kind != "reply":
            continue
        if name == "rfc3834" and mail_systems_notice(mail):
            continue
        verdict = guarded(name, detector, mail)
        if verdict is not None:
            return verdict
    return None
