"""Why a delivery failed: one small vocabulary of bounce reasons, for both paths.

The same judgement serves the relay's reply while sending (`outcomes.outcome_of`) and a delivery
report that comes back later (the inbound detectors), so that a 550 5.7.1 gets the same decision
whichever way it reaches us. It lives in `sending` because inbound may import sending, not the
other way round.

Input: an RFC 3463 enhanced status code (``5.1.1``; may be missing) and the diagnostic text (the
SMTP reply or the report's Diagnostic-Code). Output: a `Reason` and whether the bounce is *hard*.

Hard is a property of the reason, never of the first digit: only failures of the address itself
(the mailbox or its domain does not exist, or it has moved) suppress the reader at once. That is
sisimai's rule (its `hardbounce` flag is set for userunknown, hostunknown, hasmoved and a permanent
notaccept). A full mailbox, a spam block or an authentication refusal is soft, even with a 5xx code:
it says something about the message or the sender, not about the reader, and it counts toward the
soft-bounce threshold instead.

How a reason is chosen:
1. a *specific* status code decides (``5.1.1`` user unknown, ``5.2.2`` mailbox full, ``5.7.26``
   authentication…);
2. otherwise (no code, or a generic one such as ``5.0.0``, ``5.5.0``, ``5.7.1``, ``4.7.0``) the
   phrases of the text decide, in the order of `REASONS` (English and Spanish; a missing or full
   mailbox also in German, French, Italian, Portuguese, Russian and Chinese, a full one in
   Japanese);
3. otherwise the generic code's own reason, else `other`.
An address-level reason under a temporary (4.x.x or 4xx) failure is a lookup that failed for now:
it becomes `network` (a domain) or `other` (a mailbox), both soft.

The reasons and their phrases are the table in mailer/sending/reason_phrases.py (`REASONS`);
adding a phrase there is one line, and one row in tests/sending/test_reasons.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailer.sending.reason_phrases import NO_LONGER_ACTIVE, REASONS, Reason, ReasonRule

__all__ = [
    "LOCAL_DELIVERY",
    "REASONS",
    "Judgement",
    "Reason",
    "ReasonRule",
    "is_hard",
    "judge",
    "named",
]

STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
_REPLY_CODE = re.compile(r"^\s*([245])\d\d\b")

_BY_REASON = {rule.reason: rule for rule in REASONS}
_BY_STATUS = {status: rule.reason for rule in REASONS for status in rule.statuses}
# Generic codes: they say little, so phrases come first and this is the fallback.
_GENERIC = {
    "x.1.0": Reason.USER_UNKNOWN,
    "x.1.3": Reason.USER_UNKNOWN,
    "x.2.1": Reason.MAILBOX_DISABLED,
    "x.4.1": Reason.NETWORK,
    "x.7.1": Reason.POLICY_BLOCKED,
    "x.7.0": Reason.POLICY_BLOCKED,
    "x.7.9": Reason.POLICY_BLOCKED,
    "x.7.8": Reason.AUTH_FAILURE,
    "x.3.4": Reason.OTHER,
}


# Refusals of *our* sender address (5.1.7, 5.1.8 "Sender address rejected"): about us, not the
# reader; checked before the reader-address phrases, which they resemble.
# Sender verification (a callout to our return path) that failed is the same refusal: Exim
# writes "Verification failed for <our sender>" over whatever it could not reach ("unrouteable
# mail domain", "Response: 550 5.1.1 User unknown": our address, not the reader's).
_SENDER_REJECTED = re.compile(
    r"sender (?:address )?(?:rejected|refused|denied|unknown|verify failed|domain)|"
    r"domain of sender address|sender address does not exist|bad sender|"
    r"mail from (?:address )?(?:rejected|refused)|\bfrom:\s*domain is invalid|valid from:|"
    r"\bverification failed for <|"
    r"sender (?:address )?(?:verification|verify|callout|call-?back)(?: check)? "
    r"(?:failed|failure|error)|"
    r"(?:could not|couldn't|cannot|can't|unable to) verify (?:the )?sender",
    re.I,
)
# A "user unknown" after the whole message was sent is a filter's answer, not a missing mailbox
# (the server accepted the recipient at RCPT), as sisimai treats it.
_COMMAND_PHRASES = re.compile(
    r"in reply to (rcpt to|mail from|end of data|data) command|"
    r"after (rcpt(?: to)?|mail from|end of data|data)\b|"
    r"did not like our (rcpt to|mail from|final data|data)|"
    r"\[(rcpt_to|mail_from|data)\]|smtp:(rcpt)|most progress was (rcpt) to|"
    r"does not like (recipient)|"
    r"smtp command\W+(rcpt|mail from|data)\b|"  # m-FILTER's "-------SMTP command" block
    r"^\W*(?:[45]\d\d[ -])?(?:[45]\.\d+\.\d+ )?(rcpt) to:\s*<",
    re.I,
)
# A transcript's lines, also once joined into one diagnostic line (">>> DATA <<< 550 …").
_TRANSCRIPT_SENT = re.compile(r"(?:^|\s)>>>\s*(rcpt|mail|data)\b", re.I)
_TRANSCRIPT_REFUSED = re.compile(r"(?:^|\s)<<<\s*[45]\d\d")
# A bare reply (no enhanced status code of its own) that names one recipient in angle brackets
# before its text ("550 <r@example.org>: User unknown") answered RCPT: the shape of Postfix's and
# Sendmail's per-recipient refusals, as sisimai reads them; a refusal after DATA is about the whole
# message. A reply with its own code ("550 5.2.1 <r@…>… User unknown") classified itself: its
# command must be said.
# The same holds for a bare reply that ends by naming the recipient it refuses, in angle brackets
# ("550 unknown user <r@example.org>"): a filter refusing the message after DATA names no one.
_RECIPIENT_REPLY = re.compile(
    r"\b[45]\d\d\b[ :-]*<[^<>\s@]+@[^<>\s]+>\s*(?::|\.\.\.)|"
    r"(?<![\d.])[45]\d\d[ :-]+[a-z][a-z' ]{2,40}\s<[^<>\s@]+@[^<>\s]+>",
    re.I,
)


# The command-like step of a refusal by the mailbox's own host, no SMTP command answered: its local
# delivery agent found no such user (Postfix's "X-Postfix; unknown user"). Address-level, as RCPT.
LOCAL_DELIVERY = "LOCAL"


def smtp_command(text: str) -> str:
    """The SMTP command a refusal answered ("RCPT", "MAIL", "DATA"), or "" when not said.

    Postfix says "in reply to RCPT TO command", Exim "after RCPT TO", DragonFly "did not like
    our RCPT TO", Sendmail shows a transcript (">>> RCPT To:" then "<<< 550 …"). Failing those,
    a reply that names the recipient before its text ("550 <r@example.org>: …") answered RCPT.
    """
    match = _COMMAND_PHRASES.search(text)
    if match:
        word = next(g for g in match.groups() if g).lower()
    else:
        refused = _TRANSCRIPT_REFUSED.search(text)
        sent = list(_TRANSCRIPT_SENT.finditer(text[: refused.start()])) if refused else []
        if not sent:
            return "RCPT" if _RECIPIENT_REPLY.search(text) else ""
        word = sent[-1].group(1).lower()
    if word.startswith(("rcpt", "recipient")):
        return "RCPT"
    if word.startswith("mail"):
        return "MAIL"
    return "DATA"


# Phrases that name the problem even against a specific status code: a "5.1.1" that says "too
# many recipients this hour" is a rate limit, a "5.1.0 sender rejected" is about us.
_OVERRIDES: tuple[tuple[Reason, re.Pattern[str]], ...] = (
    (Reason.AUTH_FAILURE, re.compile(r"\bspf\b|\bdkim\b|\bdmarc\b", re.I)),
    (
        Reason.RATE_LIMITED,
        re.compile(r"too many (?:recipients|messages|connections|mails)|rate ?limit", re.I),
    ),
    (
        Reason.POLICY_BLOCKED,
        re.compile(r"black ?list|block ?list|spamhaus|spamcop|\bdnsbl\b|\brbl\b", re.I),
    ),
    (Reason.MAILBOX_FULL, re.compile(r"over ?quota|mail ?box (?:is )?full", re.I)),
    # A lookup or route that failed is not a domain that does not exist, whatever the code (Postfix
    # gives 5.4.4 to "Name service error … Malformed or unexpected name server reply").
    (
        Reason.NETWORK,
        re.compile(
            r"host not found, try again|temporary failure in name resolution|"
            r"malformed (?:or unexpected )?name server reply|host name lookup failure|"
            r"no route to host|host is unreachable|unable to resolve route|too many hops|"
            r"hop count exceeded|mail forwarding loop|routing loop|message looping|"
            # Postfix's own words for a host it could not talk to ("delivery temporarily
            # suspended: connect to mx…: Connection refused"): not a suspended mailbox
            r"connect to \S+: connection (?:refused|timed out)|lost connection with \S+|"
            r"conversation with \S+ timed out",
            re.I,
        ),
    ),
    # Exchange Online gives its directory miss the null-MX code 5.1.10: the mailbox, not the domain.
    (Reason.USER_UNKNOWN, re.compile(r"resolver\.adr\.recipient ?notfound", re.I)),
    # Our message is too large: a reply about its size is about the message, whatever
    # address-level Status the reporting MTA guessed for it (Commtouch: 5.1.1 over "max message
    # size exceeded").
    (
        Reason.OTHER,
        re.compile(
            r"\b(?:message|mail|e-?mail) size (?:\d+ )?(?:limit )?(?:exceed|too)|"
            r"\bmax(?:imum)? message size exceeded|\bmessage (?:is )?too (?:large|big)|"
            r"exceeds? (?:the )?(?:fixed )?(?:maximum )?(?:allowed )?message size",
            re.I,
        ),
    ),
    # The reader's own filter refused us: the mailbox exists, even under a 5.1.1.
    (
        Reason.SPAM_OR_CONTENT,
        re.compile(
            r"refused due to recipient preferences|"
            r"(?:user|recipient) refuses to (?:receive|accept)|recipient id refuse to receive|"
            r"only accepting mail from specific|"
            r"you have been blocked by the recipient|rejected due to user rules|"
            r"has restricted sms e-?mail",
            re.I,
        ),
    ),
)


# Postfix's local(8)/pipe(8) and Sendmail's prog mailer when the command they ran failed.
_LOCAL_PROGRAM = re.compile(
    r"command died with status|command time limit exceeded|command output:|\bx-unix;", re.I
)


# The terse wording content filters and carriers' gateways also use to refuse a message: taken as
# a dead mailbox only with a user-unknown code or when it answered RCPT.
_FILTER_WORDING = re.compile(
    r"user ?(?:name )?unknown|unknown (?:user|recipient)|no such (?:user|recipient)|"
    r"recipient not found|invalid (?:user|address)|does not exist",
    re.I,
)
_ADDRESS_CODES = {"x.1.1", "x.1.0", "x.1.3", "x.1.4", "x.1.5", "x.1.351"}
# A mail system's own notice that says, in its own words, that the mailbox is not there: a
# subject (mailbox, account, address) and its absence, in English, Russian or Chinese. A filter
# refusing a message answers in its terse reply only; it does not explain that a mailbox is absent.
_NOTICE_SAYS_GONE = re.compile(
    r"(?:mail ?box|account|e-?mail address|recipient(?:'s)? address)(?: \S+)? "
    r"(?:does not|doesn't|did not) exist|no such mail ?box|invalid mail ?box|"
    r"(?:ящика|ящик|адреса|адрес|пользователя)[^.\n]{0,30}не существует|"
    r"(?:收件人|邮箱|地址|帐户|账户|用户)[^。\n]{0,60}不存在",
    re.I,
)
# Exim's own router refusing a local part ("This is a permanent error. … No Such User Here"):
# the recipient's own host, no remote server's reply quoted, so no filter answered after DATA.
_PERMANENT_NOTICE = re.compile(r"this is a permanent error", re.I)
_SMTP_REPLY = re.compile(r"(?<![\d.])[45]\d\d(?![\d.])|remote (?:mail )?server|\bsaid\b", re.I)
# What a filter's refusal or its notice mentions: then the terse wording stays a filter's answer.
_FILTER_MENTION = re.compile(
    r"spam|filter|content|polic|reputation|block|black ?list|junk|virus|unsolicited|"
    r"refus|reject|rbl|dnsbl",
    re.I,
)


def is_hard(reason: Reason) -> bool:
    """Whether a bounce for this reason suppresses the address at once (sisimai's rule)."""
    rule = _BY_REASON.get(reason)
    return rule.hard if rule else False


@dataclass(frozen=True)
class Judgement:
    """A failure's reason, whether it is hard, and the status code it was judged with."""

    reason: Reason
    hard: bool
    status: str  # RFC 3463 code as given or found in the text ("" when none)
    rule: str  # what decided: "status 5.1.1", "phrase 'mailbox full'", "default"


def find_status(text: str) -> str:
    """The first RFC 3463 enhanced status code in `text` ("5.1.1"), or ""."""
    match = STATUS.search(text)
    return ".".join(match.groups()) if match else ""


def _temporary(status: str, text: str) -> bool:
    if status:
        return status.startswith("4")
    match = _REPLY_CODE.match(text)
    return bool(match and match.group(1) == "4")


def own_notice_says_gone(notice: str, text: str) -> bool:
    """Whether the mail system's own notice, not a filter, says the reader's mailbox is gone.

    Either the notice explains in its own words that the mailbox does not exist, or Exim's router
    refused the local part itself ("This is a permanent error", no remote reply quoted); and
    neither the notice nor the reply mentions spam, content, policy or blocking. `notice` is the
    notice's human-readable text (without the returned original), `text` the failure's reply.
    """
    notice = " ".join(notice.split())
    if _FILTER_MENTION.search(notice) or _FILTER_MENTION.search(text):
        return False
    if _NOTICE_SAYS_GONE.search(notice) or _NOTICE_SAYS_GONE.search(text):
        return True
    return bool(_PERMANENT_NOTICE.search(notice) and not _SMTP_REPLY.search(text))


def judge(status: str, text: str, command: str | None = None, notice: str = "") -> Judgement:
    """Reason and hard/soft for one failure (pure). `status` may be "": found in `text` then.

    `command` is the SMTP command refused ("RCPT", "DATA"…); None: read from `text` if it says
    (`smtp_command`, which also takes a bare reply naming the recipient for RCPT). A terse "user
    unknown" without a user-unknown status code (x.1.1) is taken as a dead mailbox only when it
    answered RCPT: said after the message (DATA) or with no command known, it is a filter's
    answer (sisimai's Filtered rule: soft, the safe side when in doubt), unless the mail
    system's own `notice` (its human-readable text) says the mailbox does not exist and mentions
    no spam, content or policy (`own_notice_says_gone`): QQ's "收件人地址不存在", Yandex's
    "Такого ящика не существует" over a "550 5.7.1 No such user!", Exim's "No Such User Here".
    """
    # The code in the diagnostic itself is the remote server's; a report's Status may be the
    # reporting MTA's guess (a "5.1.1" over "550 5.7.1 IP address blacklisted").
    status = find_status(text) or status.strip()
    text = " ".join(text.split())
    key = "x." + status.split(".", 1)[1] if status else ""
    reason: Reason | None = None
    rule = ""
    for candidate, pattern in _OVERRIDES:
        match = pattern.search(text)
        if match:
            reason, rule = candidate, f"phrase {match.group(0)!r}"
            break
    if reason is None and (key in ("x.1.7", "x.1.8") or _SENDER_REJECTED.search(text)):
        reason, rule = Reason.POLICY_BLOCKED, "our sender address refused"
    if reason is None:
        reason = _BY_STATUS.get(status) or _BY_STATUS.get(key)
        rule = f"status {status}" if reason else ""
    if reason is None:
        for entry in REASONS:
            match = entry.phrases.search(text)
            if match:
                reason, rule = entry.reason, f"phrase {match.group(0)!r}"
                break
    if reason == Reason.USER_UNKNOWN and key == "x.2.1" and NO_LONGER_ACTIVE.search(text):
        # RFC 3463's 5.2.1: the mailbox exists but is disabled; an "inactive" under it may come
        # back (Gmail's inactive accounts, sisimai's "suspend").
        reason, rule = Reason.MAILBOX_DISABLED, f"{rule}, under 5.2.1 (disabled, not gone)"
    if reason is None and key in _GENERIC:
        reason, rule = _GENERIC[key], f"status {status}"
    if reason is None:
        reason, rule = Reason.OTHER, "default"
    if command is None:
        command = smtp_command(text)
    if command == "MAIL" and is_hard(reason):
        # Refused at MAIL FROM: the server rejected our sender, not the reader's address.
        reason, rule = Reason.POLICY_BLOCKED, f"{rule}, at MAIL FROM (our sender)"
    if is_hard(reason) and _LOCAL_PROGRAM.search(text):
        # A delivery program's exit code, which the MTA turned into a status (sysexits 67 ->
        # 5.1.1): the recipient's system failed, it did not say the address is gone.
        reason, rule = Reason.OTHER, f"{rule}, a local delivery program failed"
    if (
        reason == Reason.USER_UNKNOWN
        and key not in _ADDRESS_CODES
        and command not in ("RCPT", LOCAL_DELIVERY)
        and _FILTER_WORDING.search(rule)
        and not own_notice_says_gone(notice, text)
    ):
        reason, rule = Reason.SPAM_OR_CONTENT, f"{rule}, not at RCPT (a filter)"
    return named(reason, status, text, rule)


def named(reason: Reason, status: str, text: str, rule: str = "") -> Judgement:
    """The judgement for a reason already decided: by `judge`, or by a mail system's own notice
    (a bounce family's wording table, as sisimai's per-MTA tables). Pure.

    An address-level reason under a temporary failure (a 4.x.x status or a 4xx reply leading
    `text`) is a lookup that failed for now: `network` for a domain, `other` for a mailbox.
    """
    rule = rule or f"named {reason.value}"
    if is_hard(reason) and _temporary(status, text):
        reason = Reason.NETWORK if reason == Reason.HOST_UNKNOWN else Reason.OTHER
        rule += " (temporary)"
    return Judgement(reason, is_hard(reason), status, rule)
