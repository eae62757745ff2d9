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
   mailbox also in German, French, Italian, Portuguese and Russian);
3. otherwise the generic code's own reason, else `other`.
An address-level reason under a temporary (4.x.x or 4xx) failure is a lookup that failed for now:
it becomes `network` (a domain) or `other` (a mailbox), both soft.

Adding a reason or a phrase: one entry in `REASONS`, one row in tests/sending/test_reasons.py.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
_REPLY_CODE = re.compile(r"^\s*([245])\d\d\b")


class Reason(enum.StrEnum):
    """The bounce vocabulary (stored on bounce events, shown by `mailer inbound classify`)."""

    USER_UNKNOWN = "user_unknown"  # the mailbox does not exist
    HOST_UNKNOWN = "host_unknown"  # the domain does not exist or accepts no mail (null MX)
    HAS_MOVED = "has_moved"  # the reader's address has changed (5.1.6)
    MAILBOX_FULL = "mailbox_full"  # over quota
    MAILBOX_DISABLED = "mailbox_disabled"  # suspended, inactive, locked (may come back)
    POLICY_BLOCKED = "policy_blocked"  # our IP or domain refused by policy, blocklist, PTR
    SPAM_OR_CONTENT = "spam_or_content"  # the message taken for spam, a virus, bad content
    AUTH_FAILURE = "auth_failure"  # SPF, DKIM, DMARC: our authentication failed
    RATE_LIMITED = "rate_limited"  # too many messages or connections
    EXPIRED = "expired"  # gave up after retrying (queue lifetime)
    NETWORK = "network"  # connection, DNS or TLS trouble on the way
    OTHER = "other"  # anything else: soft


@dataclass(frozen=True)
class ReasonRule:
    """One reason: whether it is hard, the status codes that name it and its phrases."""

    reason: Reason
    hard: bool
    statuses: frozenset[str]  # specific RFC 3463 codes (class digit replaced by "x")
    phrases: re.Pattern[str]  # matched on lower-case text


def _phrases(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.I)


# Phrase order matters: the first rule whose phrases match decides (more specific first).
REASONS: tuple[ReasonRule, ...] = (
    ReasonRule(
        Reason.AUTH_FAILURE,
        False,
        frozenset({"x.7.20", "x.7.21", "x.7.22", "x.7.23", "x.7.24", "x.7.26", "x.7.509"}),
        _phrases(
            r"\bspf\b",
            r"\bdkim\b",
            r"\bdmarc\b",
            r"sender policy framework",
            r"(?:not|un)authenticated",
            r"authentication (?:fail|check|required|result)",
            r"fails? (?:to pass )?authentication",
            r"access denied\. sending domain .* does not pass",
        ),
    ),
    ReasonRule(
        Reason.MAILBOX_FULL,
        False,
        frozenset({"x.2.2"}),
        _phrases(
            r"mail ?box (?:is |was )?full",
            r"full mail ?box",
            r"over ?quota",
            r"quota (?:exceeded|exceed|full)",
            r"exceeded? (?:the |his |her |their )?(?:storage|quota|disk)",
            r"(?:storage|disk) (?:quota|space|allocation)",
            r"insufficient (?:system )?storage",
            r"mailbox (?:size|storage) limit",
            r"not enough (?:disk )?space",
            r"user has exceeded",
            r"is over (?:the )?(?:quota|limit)",
            r"buz[oó]n (?:est[aá] )?lleno",
            r"cuota (?:excedida|superada)",
            r"excede (?:la|su) cuota",
            r"bo[iî]te (?:aux lettres )?pleine|postfach (?:ist )?voll|caixa (?:postal )?cheia",
            r"casella piena",
            # the mailbox "… is full" with words between (the recipient's, de correo…)
            r"(?:postfach|bo[iî]te aux lettres|caixa|casella|buz[oó]n)\b[^.]{0,40}"
            r"\b(?:voll|pleine|cheia|piena|lleno)\b",
            r"(?:exceed|exceeds|exceeding) (?:their |the |his |her )?(?:mailbox )?quota",
            r"mail ?folder is full|quota violation",
        ),
    ),
    ReasonRule(
        Reason.HAS_MOVED,
        True,
        frozenset({"x.1.6"}),
        _phrases(
            r"\bhas moved\b",
            r"address (?:has )?changed",
            r"mailbox (?:has )?moved",
            r"user not local; please try",  # RFC 5321 4.2.2's 551 reply, with the new address
        ),
    ),
    ReasonRule(
        Reason.MAILBOX_DISABLED,
        False,
        frozenset({"x.7.13"}),
        _phrases(
            # not "your IP address has been blocked", "sender address …": those are about us
            r"(?<!ip )(?<!your )(?<!sender )(?:account|mail ?box|user|address|recipient)"
            r"(?: \S+)? (?:is |has been |was )?"
            r"(?:disabled|suspended|inactive|deactivated|locked|blocked|frozen|expired|closed)",
            r"(?:disabled|suspended|inactive|deactivated|locked|expired) "
            r"(?:mail ?box|account|user)",
            r"mailbox (?:is )?(?:currently )?not active",
            r"temporarily (?:disabled|suspended)",
            r"cuenta (?:est[aá] )?(?:deshabilitada|suspendida|bloqueada|inactiva|desactivada)",
            r"buz[oó]n (?:est[aá] )?(?:deshabilitado|desactivado|suspendido|inactivo)",
        ),
    ),
    ReasonRule(
        Reason.HOST_UNKNOWN,
        True,
        frozenset({"x.1.2", "x.1.10", "x.4.4", "x.7.27"}),
        _phrases(
            r"host (?:or domain name )?(?:unknown|not found)",
            r"domain (?:is )?(?:not reachable|unreachable)",
            r"host \S+ not found",
            r"unknown (?:host|domain)",
            r"domain (?:name )?(?:not found|does not exist|doesn't exist|unknown|is invalid)",
            r"no such (?:domain|host)",
            r"name or service not known",
            r"unrouteable (?:mail )?domain",
            r"all relevant mx records point to non-existent hosts",  # Exim
            r"\bnxdomain\b",
            r"no (?:mx|mail exchanger|valid mx)",
            # qmail-remote: "Sorry, I couldn't find any host by that name" / "… named x" /
            # "… find a mail exchanger or IP address"
            r"(?:couldn't|could not|can't|cannot) find (?:any host|a mail exchanger|an? mx)",
            r"does not accept (?:any )?mail",
            # a domain that takes no mail, not a reader refusing one sender ("… mail from x")
            r"not accepting (?:network )?(?:messages|mail)(?! from)",
            r"null mx",
            r"unable to route",
            r"dominio (?:no existe|desconocido|inexistente)",
            r"host desconocido",
        ),
    ),
    ReasonRule(
        Reason.USER_UNKNOWN,
        True,
        frozenset({"x.1.1", "x.1.4", "x.1.5"}),
        _phrases(
            r"user ?(?:name )?(?:unknown|not found|not exist|doesn't exist|does not exist)",
            r"unknown (?:user|recipient|mailbox|address|local[- ]part|account)",
            r"(?:recipient|addressee|address|mailbox|account|user)(?: \S+)? "
            r"(?:unknown|not found|not exist)",
            r"no such (?:user|mailbox|recipient|account|address|person|local user)",
            r"(?:does not|doesn't|did not|no longer) exists?",
            r"(?:invalid|bad|unknown|non-?existent|nonexisting|illegal) "
            r"(?:recipient|mailbox|address|user|account|destination)",
            r"not (?:a )?(?:valid|known|local) (?:recipient|user|mailbox|address)",
            r"(?:is|are) not (?:a )?(?:valid|known)",
            r"mailbox not found|no mailbox here|mailbox unknown",
            r"mailbox (?:is )?(?:currently )?unavailable",
            r"recipient name is not recognized",
            r"(?:address|recipient|mailbox) (?:could not|couldn't|cannot|can't) be found",
            r"doesn't have an? \S+ account|does not have an? \S+ account",
            r"recipient address rejected: access denied",  # Office 365 directory-based blocking
            r"unrouteable address",
            r"no valid recipients",
            r"not listed in (?:domino directory|public name & address book)",
            r"user (?:is )?(?:not|no longer) (?:here|valid|available|registered)",
            r"not our customer",
            r"usuario (?:desconocido|no existe|inexistente)",
            r"destinatario (?:desconocido|no existe|inexistente)",
            r"(?:direcci[oó]n|cuenta|buz[oó]n) (?:de correo(?: electr[oó]nico)? )?"
            r"(?:no existe|inexistente)",
            r"e-mail-adresse wurde\b[^.]{0,60}\bnicht gefunden",  # Exchange, German
            r"utilisateur inconnu|destinataire inconnu|adresse (?:destinataire )?invalide",
            r"benutzer unbekannt|unbekannter empf[aä]nger|usu[aá]rio desconhecido",
            r"utente sconosciuto",
            # "the recipient/mailbox does not exist / was not found", in the usual languages
            r"usuario no (?:encontrado|existe|v[aá]lido)",
            r"empf[aä]nger (?:wurde )?nicht gefunden|(?:postfach|mailbox|benutzer|empf[aä]nger)"
            r" (?:existiert nicht|nicht vorhanden)",
            r"(?:bo[iî]te aux lettres|destinataire|adresse|utilisateur) "
            r"(?:inexistante?|inconnue?)",
            r"(?:utente|casella(?: di posta)?|indirizzo|destinatario) (?:inesistente|non esiste)",
            r"(?:conta|caixa(?: postal| de correio)?|usu[aá]rio|destinat[aá]rio|endere[cç]o)"
            r"(?: de e-?mail)? (?:n[aã]o existe|inexistente|n[aã]o encontrad[oa])",
            r"(?:почтовый ящик|пользователь|адресат) (?:не существует|не найден)",
            r"user not known|n'existe (?:pas|plus)|no longer valid",
            r"invalid (?:final delivery )?userid",
        ),
    ),
    ReasonRule(
        Reason.RATE_LIMITED,
        False,
        frozenset({"x.7.28", "x.4.5"}),
        _phrases(
            r"too many (?:messages|connections|recipients|mails|emails|sessions|concurrent)",
            r"rate ?limit",
            r"throttl",
            r"(?:sending|receiving|message) rate",
            r"unusual (?:rate|volume)",
            r"unexpected volume",
            r"try again later.*(?:volume|rate)",
            r"demasiados (?:mensajes|correos|conexiones)",
        ),
    ),
    ReasonRule(
        Reason.SPAM_OR_CONTENT,
        False,
        frozenset({"x.6.0", "x.7.350", "x.7.351"}),
        _phrases(
            r"spam(?!haus|cop)",
            r"unsolicited",
            r"\bjunk\b",
            r"bulk (?:e-?)?mail",
            r"virus",
            r"malware",
            r"infected",
            r"phishing",
            r"content (?:filter|rejected|policy|not accepted)",
            r"message (?:content )?(?:rejected|refused) (?:due to|because of) (?:its )?content",
            r"(?:rejected|blocked) (?:due to|because of|for) (?:its )?content",
            r"prohibited (?:attachment|content|file)",
            r"\bfiltered\b",
            r"correo no deseado",
        ),
    ),
    ReasonRule(
        Reason.POLICY_BLOCKED,
        False,
        frozenset({"x.7.25", "x.7.7"}),
        _phrases(
            r"block ?list|black ?list|\blisted\b|\bdnsbl\b|\brbl\b|spamhaus|spamcop|barracuda",
            r"\bblocked\b",
            r"reputation",
            r"reverse (?:dns|lookup)|\bptr\b|rdns",
            r"relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited)",
            r"not permitted to relay",
            r"(?:access|sender|client|connection) (?:host )?(?:denied|rejected|refused)",
            r"denied|refused|not allowed|not permitted|prohibited|forbidden",
            r"\bpolicy\b|pol[ií]tica",
            r"\bbanned\b",
            r"bloquead[oa]|rechazad[oa]|denegad[oa]",
        ),
    ),
    ReasonRule(
        Reason.EXPIRED,
        False,
        frozenset({"x.4.7"}),
        _phrases(
            r"expired",
            r"retry (?:timeout|time) (?:exceeded|expired)",
            r"could not be delivered (?:with)?in",
            r"(?:too long|timed? ?out) in (?:the )?queue",
            r"queue (?:time|lifetime)",
            r"giving up",
            r"have been failing for",
            r"undeliverable for \d+",
            r"no se pudo entregar en",
        ),
    ),
    ReasonRule(
        Reason.NETWORK,
        False,
        frozenset({"4.4.1", "x.4.2", "x.4.3", "x.4.6", "x.4.0", "x.7.10"}),
        _phrases(
            r"connection (?:refused|reset|timed out|timeout|closed|lost|dropped)",
            r"(?:timed out|timeout)",
            r"no route to host",
            r"(?:network|host) (?:is )?unreachable",
            r"could not connect|unable to connect|cannot connect|failed to connect",
            r"lost connection",
            r"temporary failure in name resolution|dns (?:error|failure|lookup fail)",
            r"\btls\b|starttls|certificate",
            r"mail loop|loop detected|routing loop|too many hops",
            r"message looping|connection to (?:the )?mail exchanger failed",
            r"network error",
        ),
    ),
)

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
_SENDER_REJECTED = re.compile(
    r"sender (?:address )?(?:rejected|refused|denied|unknown|verify failed|domain)|"
    r"domain of sender address|sender address does not exist|bad sender|"
    r"mail from (?:address )?(?:rejected|refused)|\bfrom:\s*domain is invalid|valid from:",
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
_RECIPIENT_REPLY = re.compile(r"\b[45]\d\d\b[ :-]*<[^<>\s@]+@[^<>\s]+>\s*(?::|\.\.\.)")


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
            r"hop count exceeded|mail forwarding loop|routing loop|message looping",
            re.I,
        ),
    ),
    # Exchange Online gives its directory miss the null-MX code 5.1.10: the mailbox, not the domain.
    (Reason.USER_UNKNOWN, re.compile(r"resolver\.adr\.recipient ?notfound", re.I)),
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
        and command != "RCPT"
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
