"""One row per kind of mail the detectors must know (tests/data/bounces/sisimai): the kind, the
rule that decided, the failed recipient, its reason and hard/soft. Adding a detector adds a row."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.inbound.judgement import judge
from mailer.inbound.models import InboundKind
from tests.inbound_support import DOMAIN

SISIMAI = Path(__file__).parent.parent / "data" / "bounces" / "sisimai"
FLUFL = Path(__file__).parent.parent / "data" / "bounces"
BOUNCES = f"bounces+2-7i2yu7zqadredljl@{DOMAIN}"

ROWS = [
    # (sample, kind, rule, recipient, reason, hard)
    (
        "bsd/lhost-dragonfly-01.eml",
        "bounce",
        "text",
        "pseudo-local-part@google.example.com",
        "auth_failure",
        False,
    ),
    (
        "bsd/lhost-dragonfly-04.eml",
        "bounce",
        "text",
        "postmaster@cx.libsisimai.org",
        "host_unknown",
        True,
    ),
    (
        "bsd/lhost-amazonworkmail-04.eml",
        "bounce",
        "rfc3464",
        "chatoraneko@example.jp",
        "mailbox_full",
        False,
    ),
    ("bsd/lhost-v5sendmail-01.eml", "bounce", "text", "kijitora@example.com", "network", False),
    (
        "bsd/lhost-amazonses-09.eml",
        "bounce",
        "family:amazonses",
        "bounce@simulator.amazonses.com",
        "user_unknown",
        True,
    ),
    (
        "bsd/lhost-amazonses-11.eml",
        "complaint",
        "family:amazonses",
        "complaint@simulator.amazonses.com",
        "feedback:abuse",
        False,
    ),
    ("bsd/lhost-amazonses-12.eml", "delivered", "family:amazonses", "", "", False),
    ("bsd/lhost-gmail-01.eml", "bounce", "text", "userunknown@example.jp", "user_unknown", True),
    ("bsd/lhost-qmail-01.eml", "bounce", "text", "kijitora@example.ne.jp", "user_unknown", True),
    # "User Unknown" under a policy code, no RCPT named: a filter's answer (sisimai: filtered).
    (
        "bsd/lhost-messagingserver-03.eml",
        "bounce",
        "rfc3464",
        "sabineko@example.org",
        "spam_or_content",
        False,
    ),
    (
        "bsd/arf-02.eml",
        "complaint",
        "rfc5965",
        "this-local-part-does-not-exist-on-yahoo@yahoo.com",
        "feedback:abuse",
        False,
    ),
    (
        "bsd/arf-18.eml",
        "complaint",
        "rfc5965",
        "kijitora@example.com",
        "feedback:auth-failure",
        False,
    ),
    ("bsd/rfc3834-01.eml", "auto_reply", "rfc3834", "", "", False),
    ("mac/lhost-x1-01.eml", "bounce", "text", "kijitora@example.co.jp", "spam_or_content", False),
]


@pytest.mark.parametrize(("sample", "kind", "rule", "recipient", "reason", "hard"), ROWS)
def test_each_kind_of_mail_is_judged_by_its_detector(
    sample: str, kind: str, rule: str, recipient: str, reason: str, hard: bool
) -> None:
    got = judge((SISIMAI / sample).read_bytes(), mail_from=None, rcpt_to="", domain=DOMAIN)
    assert (got.kind.value, got.rule) == (kind, rule), got.reason
    if recipient:
        found = next(f for f in got.failures if f.names(recipient))
        assert (found.reason, found.hard) == (reason, hard), found


def test_a_qmail_bounce_without_from_is_still_a_bounce() -> None:
    """flufl.bounce raises on a message without From; the other detectors still answer."""
    raw = (FLUFL / "qmail_01.txt").read_bytes()
    head, _, body = raw.partition(b"\n\n")
    head = b"\n".join(line for line in head.split(b"\n") if not line.lower().startswith(b"from:"))
    got = judge(head + b"\n\n" + body, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    assert got.kind == InboundKind.BOUNCE
    assert [f.recipient for f in got.failures] == ["userx@example.de"]


def test_a_detector_that_raises_does_not_hide_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: the RFC 3464 parser crashes; the text reader still finds the bounce."""
    from mailer.inbound import detectors

    def broken(mail: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(detectors, "STANDARD", (("rfc3464", broken),))
    raw = (SISIMAI / "bsd/lhost-postfix-06.eml").read_bytes()
    got = judge(raw, mail_from="", rcpt_to=BOUNCES, domain=DOMAIN)
    assert got.kind == InboundKind.BOUNCE and got.rule in ("text", "flufl.bounce")
