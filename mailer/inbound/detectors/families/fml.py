"""fml mailing-list server notices (X-MLServer: fml, from the list's -admin address): the list
refused a post or caught a loop, and says so in a sentence ending with the list's address
("You are not a member of this mailing list <list@example.org>.", "Duplicated Message-ID in
<list@example.org>.") before "Original mail as follows:".

The failed recipient is the list; the reason comes from fml's sentence, else its Subject (as
sisimai's FML table reads them): a refused post (not a member, a rejected sender, spam) is a
policy refusal of the sender, a loop alarm or an fml system error is `other`. Both are soft: the
list exists.
"""

from __future__ import annotations

import re

from mailer.inbound.detectors.base import ADDRESS, Mail, Verdict, failure, family_bounce
from mailer.sending.reasons import Reason

NAME = "fml"
_ORIGINAL = re.compile(r"^\s*original mail as follows:", re.I | re.M)
_LIST = re.compile(rf"<(?P<address>{ADDRESS.pattern})>\.\s*$")
_WORDING: tuple[tuple[Reason, re.Pattern[str]], ...] = (
    (
        Reason.POLICY_BLOCKED,
        re.compile(
            r"not (?:a )?member|reject(?:ed)? (?:mail|since|spammers)|spam mail from a spammer|"
            r"security alert",
            re.I,
        ),
    ),
    (
        Reason.OTHER,
        re.compile(
            r"duplicated message-id|loop (?:alert|back warning|condition)|unix from loop|"
            r"fml system error",
            re.I,
        ),
    ),
)


def claims(mail: Mail) -> bool:
    """fml's own notice: its header, the list's -admin sender and fml's Message-ID; a post the
    list merely distributed carries the header too, but not the other two."""
    server = str(mail.msg.get("X-MLServer", "") or "").lower()
    message_id = str(mail.msg.get("Message-ID", "") or "")
    return (
        server.startswith("fml")
        and mail.from_address.split("@")[0].endswith("-admin")
        and ".FML" in message_id
    )


def _reason(sentence: str, subject: str) -> Reason:
    for text in (sentence, subject):
        for reason, words in _WORDING:
            if words.search(text):
                return reason
    return Reason.OTHER


def detect(mail: Mail) -> Verdict | None:
    notice = mail.text
    end = _ORIGINAL.search(notice)
    if end:
        notice = notice[: end.start()]
    sentence = " ".join(line.strip() for line in notice.splitlines() if line.strip())
    found = []
    for line in notice.splitlines():
        match = _LIST.search(line)
        if match:
            reason = _reason(sentence, mail.subject)
            found.append(
                failure(match.group("address"), "", sentence[:600], "failed", reason=reason)
            )
    return family_bounce(NAME, "fml list notice", found)
