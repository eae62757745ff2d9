"""The bounce vocabulary: each reason, whether it is hard, its specific status codes and the
phrases that name it in mail systems' replies and notices.

The table alone, kept apart from the rules that apply it (mailer/sending/reasons.py: which of a
status code or a phrase decides, the filter and temporary-failure rules) so that adding a phrase
is one line here and one row in tests/sending/test_reasons.py. The first rule whose phrases match
decides, so the more specific come first.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


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


# Not followed by what would make "does not accept mail" a refusal of some mail only.
_AT_ALL = (
    r"(?!\s+(?:from|with|containing|that|which|of|larger|bigger|over|above|exceeding|"
    r"at this time|right now|temporarily|for now)\b)"
)


def _phrases(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.I)


# Phrase order matters: the first rule whose phrases match decides (more specific first).
# A mailbox its provider has retired ("account is no longer active", "is a deactivated
# mailbox", "mailbox is inactive", "Inactive account", "account has been closed"): gone, a hard
# bounce, unless the remote server's own 5.2.1 says it still exists (reasons.py). Not about our
# sender or our IP.
NO_LONGER_ACTIVE = re.compile(
    r"no longer (?:active|in use|in service|used|maintained)|"
    r"(?<!ip )(?<!your )(?<!sender )(?:account|mail ?box|user|address|recipient)"
    r"(?: \S+){0,5}? (?:is |has been |was )?(?:inactive|deactivated|de-activated)\b|"
    r"\b(?:inactive|deactivated|de-activated) (?:e-?mail )?(?:mail ?box|account|user|address|"
    r"recipient)|"
    # closed or deleted by its provider ("The account you are trying to reach has been closed",
    # "mailbox deleted"), not a connection closed
    r"(?<!your )(?:account|mail ?box)(?: \S+){0,5}? (?:is |has been |was )?"
    r"(?:closed|deleted|removed|terminated|discontinued)\b(?! (?:the )?connection)|"
    # the same in Spanish, French, German and Portuguese ("la cuenta está inactiva", "ya no
    # está activa", "n'est plus active", "Postfach ist deaktiviert", "a conta está desativada")
    r"(?:cuenta|buz[oó]n|direcci[oó]n|compte|bo[iî]te aux lettres|adresse|konto|postfach|"
    r"e-mail-adresse|conta|caixa(?: postal)?|endere[cç]o)(?: \S+){0,4}? "
    r"(?:est[aá] |ha sido |fue |est |a [ée]t[ée] |ist |wurde |foi )?"
    r"(?:inactiv[ao]|desactivad[ao]|dad[ao] de baja|ya no (?:est[aá] )?activ[ao]|"
    r"d[ée]sactiv[ée]e?|n'est plus (?:active?|valide|utilis[ée]e?)|"
    r"deaktiviert|nicht mehr aktiv|gel[oö]scht|inativ[ao]|desativad[ao]|"
    r"n[aã]o est[aá] mais ativ[ao])",
    re.I,
)

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
            r"quota (?:usage |limit )?(?:exceeded|exceed|full|reached)",
            r"exceeded? (?:the |his |her |their )?(?:storage|quota|disk)",
            r"(?:storage|disk) (?:quota|space|allocation)",
            # "the user's maildir has overdrawn his diskspace quota" (Postfix's maildir delivery)
            r"disk ?space quota|overdrawn (?:\S+ ){0,3}quota",
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
            # Russian ("ящик переполнен", "превышен лимит размера ящика"), Chinese ("邮箱空间已满",
            # "容量不足") and Japanese ("メールボックスの容量を超えています") mail systems
            r"переполнен|превышен[аоы]? (?:лимит|квота|размер)",
            r"(?:邮箱|信箱|空间|容量)[^。\n]{0,10}(?:已满|不足)",
            r"(?:メールボックス|容量)[^。\n]{0,10}(?:超え|オーバー|一杯|いっぱい|満杯)",
            # the mailbox "… is full" with words between (the recipient's, de correo…)
            r"(?:postfach|bo[iî]te aux lettres|caixa|casella|buz[oó]n)\b[^.]{0,40}"
            r"\b(?:voll|pleine|cheia|piena|lleno)\b",
            r"(?:exceed|exceeds|exceeding) (?:their |the |his |her )?(?:mailbox )?quota",
            r"mail ?folder is full|quota violation",
            # "… mailbox is over the allowed quota", "inbox is full", "mailbox is at capacity",
            # "insufficient space in mailbox", "mailbox exceeds allowed size"
            r"over (?:the |its |their )?(?:allowed |storage |mailbox )?quota",
            r"(?:mail ?box|inbox|mail ?store|account)(?: \S+)? (?:is |was )?"
            r"(?:full|at (?:its )?capacity|out of (?:storage|disk )?space)",
            r"insufficient (?:disk |storage )?space",
            r"(?:mail ?box|inbox)\b[^.]{0,20}\bexceeds? (?:the |its )?(?:allowed|maximum) "
            r"(?:size|storage)",
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
            r"(?:disabled|suspended|locked|blocked|frozen|expired)",
            r"(?:disabled|suspended|locked|expired) (?:mail ?box|account|user)",
            r"mailbox (?:is )?(?:currently )?not active",
            # inactive for now only: a mailbox no longer active is gone (`NO_LONGER_ACTIVE`)
            r"(?:temporarily|temporary|currently) (?:disabled|suspended|inactive|deactivated)",
            r"(?:temporalmente|temporairement|vor[uü]bergehend|temporariamente) (?:\S+ )?"
            r"(?:inactiv|desactivad|d[ée]sactiv|deaktiviert|inativ|desativad|suspendid|gesperrt)",
            r"cuenta (?:est[aá] )?(?:deshabilitada|suspendida|bloqueada)",
            r"buz[oó]n (?:est[aá] )?(?:deshabilitado|suspendido)",
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
            # a domain that takes no mail at all, not a reader refusing some of it ("… mail from
            # x", "… mail with attachments or embedded images", "… at this time")
            r"does not accept (?:any )?mail" + _AT_ALL,
            r"not accepting (?:network )?(?:messages|mail)" + _AT_ALL,
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
            # German ("Empfänger ist unbekannt"), French (Orange's "destinataire invalide",
            # "adresse introuvable"), Russian ("нет такого пользователя") and Chinese
            # ("收件人地址不存在", "该邮箱不存在") mail systems
            r"empf[aä]nger (?:ist )?unbekannt",
            r"(?:adresse|destinataire|utilisateur)(?: e-?mail)? introuvable|destinataire invalide",
            r"нет такого (?:пользователя|адресата|адреса|почтового ящика|ящика)",
            r"(?:收件人|邮箱|信箱|地址|帐户|账户|用户)[^。\n，,]{0,20}不存在",
            r"invalid (?:final delivery )?userid",
            r"\berr\.nosuchuser\b",  # Sun/iPlanet Messaging Server's own code (RFC 3464's example)
            # qmail's and others' "no user by that name", RFC 5321's own "No mailbox by that
            # name is currently available", "Unknown local user", "User has no mailbox"
            r"no (?:such )?(?:user|mail ?box|account|recipient) by that name",
            # "No mail box available for this user", "no mailbox found for that address"
            r"no (?:such )?(?:mail ?box|account)(?: is)? (?:available |found |exists? )?"
            r"(?:for|with) (?:this|that|the|such an?) (?:user|recipient|address|name)",
            r"unknown local (?:user|recipient|mailbox|address)",
            r"(?:user|recipient|addressee) (?:has|have) no (?:mail ?box|account)",
            r"no valid recipient",
            # a directory lookup that found no such recipient (Exchange, Domino, LDAP gateways)
            r"(?:recipient|user|address|mailbox)(?: \S+)? not (?:found |listed |present )?"
            r"in (?:the |our )?(?:directory|address book|ldap)",
            r"failed directory lookup|directory lookup fail",
            NO_LONGER_ACTIVE.pattern,
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
            # Gmail's per-recipient limit: "… is receiving mail at a rate that prevents …",
            # "… is receiving mail too quickly" (4.2.1, which alone reads "disabled mailbox")
            r"receiving mail (?:at a rate|too quickly|too fast)",
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
            # an attachment refused: "illegal attachment" (Gmail), "not accepting mail with
            # attachments or embedded images" (AOL), "attachment not allowed"
            r"(?:illegal|forbidden|blocked|banned|dangerous|unsafe|disallowed|executable|"
            r"suspicious|unacceptable) attachment",
            r"attachments? (?:type )?(?:is |are )?(?:not allowed|not accepted|blocked|rejected)",
            r"(?:mail|messages?|e-?mails?) (?:with|containing) (?:attachments|embedded images)",
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
            r"messages from \S+ (?:weren't|were not|wasn't|was not) (?:sent|accepted)",
            r"messages from \S+ will be permanently deferred",  # Yahoo's [TSS09]
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
