"""RFC 3834 automatic responses (out-of-office, vacation), and what real responders send instead.

RFC 3834 asks responders to say `Auto-Submitted: auto-replied`; many also (or only) send
X-Autoreply, X-Autorespond, Precedence, Exchange's inbox-rule headers, or just an "Out of office:" /
"Respuesta automática:" label before the subject they answer; help desks' acknowledgements and
spam quarantines' digests often send no header at all. A bounce often carries Auto-Submitted
too, so this detector runs after the bounce detectors.
"""

from __future__ import annotations

import re

from mailer.inbound.departures import find_departure
from mailer.inbound.detectors import away, challenge
from mailer.inbound.detectors.base import PERSONS_SUBJECT, Mail, Verdict, persons_reply
from mailer.inbound.message import body_text, fold, header, normalise, reply_text
from mailer.inbound.models import InboundKind

# Matched on the subject folded by `fold` (lower case, no accents, punctuation kept), a reply's
# "Re:" removed first. A responder's label is the first thing in its subject, after any
# bracketed tag a gateway adds ("[EXTERNAL] Out of office: …"), and is followed by a separator
# and the subject it answers ("Automatic reply: Security Chatter"), by a return date ("Ausente
# hasta el 20"), or by nothing; or it is bracketed itself ("[Auto-Reply] …", "【自動返信】…").
# A person's subject goes on in prose after the same words ("Out of office next week - can we
# meet today?", "Abwesenheit im Mai", "Automatic reply rules for our team"): not a label.
_TAG = r"^(?:\[[^]]*\]\s*)?"
_LABEL_END = rf"\s*(?:$|[:\u2013\u2014|(]|-(?:\s|$)|\s(?:{away.UNTIL_WORDS})(?:\s|\b))"
_BRACKETS = {"[": "]", "(": ")", "\u3010": "\u3011", "<": ">"}


def _label(words: str) -> re.Pattern[str]:
    """A responder's label `words`: first and followed by a separator, or bracketed alone."""
    opening = re.escape("".join(_BRACKETS))
    closing = re.escape("".join(_BRACKETS.values()))
    return re.compile(rf"{_TAG}(?:(?:{words}){_LABEL_END}|[{opening}]\s*(?:{words})\s*[{closing}])")


# Labels that say the answer is automatic, only a responder's in that place.
_AUTO_LABEL = _label(
    r"(?:out of (?:the )?office\s+)?(?:automatic reply|auto(?:matic)?[ -]?repl(?:y|ied)|"
    r"auto[ -]?respon(?:se|der)|autorespuesta|vacation reply|respuesta automatica|"
    r"reponse automatique|abwesenheitsnotiz|automatische antwort|resposta automatica|"
    r"risposta automatica)"
)
# Words that also begin people's own subjects ("Out of office next week", "Absence of Peru
# coverage", "Fuera de la oficina la próxima semana"): a label only in a label's place, and
# only with a body that reads as a responder's notice (`away.NOTICE`).
_AWAY_LABEL = _label(away.AWAY_WORDS)
# What a responder says of its owner, as the whole subject (with a return date at most):
# Lotus Notes/Domino's "Jane Doe/NY/Acme is out of the office.", and the same in Spanish,
# French and German. Matched on the `normalise`d subject; like `_AWAY_LABEL`, it needs a notice.
_AWAY_STATEMENT = re.compile(
    r"\b(?:is|am|are) (?:currently )?out of (?:the )?office|"
    r"\best (?:absente?|en conges)|\bist (?:nicht im buro|abwesend|ausser haus)|"
    r"\besta (?:fuera de la oficina|ausente|de vacaciones)"
)
_STATEMENT_TAIL = re.compile(
    r"\s*(?:(?:until|till|through|from|returning|back|hasta|desde|jusqu|du|bis|vom|ab)\b.*)?"
)
# A person asks the partner something; a responder states. A question mark in the message's own
# words (not in a link) tells them apart when only the subject says "automatic".
_ASKS = re.compile(r"[\w)]\s*[?\uff1f\u061f]|[\u00bf]")
# The one question responders ask: "Need something urgent? Call …", "¿Algo urgente?".
_URGENT_QUESTION = re.compile(
    rf"[\u00bf]?[^.!?\uff1f\u061f\n]*(?:{away.URGENT_WORDS})\w*[^.!?\uff1f\u061f\n]*[?\uff1f\u061f]"
)
_LINK = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
# Help desks' acknowledgements: Freshdesk's "Ticket Received - …", "Request received: …",
# "Case #00123 has been created" (a case without a number is a lawyer's word).
_TICKET_SUBJECT = re.compile(
    _TAG + r"(?:\S+\s+){0,2}(?:ticket(?:\s+#?\d+)?\s+(?:has been\s+)?"
    r"(?:received|created|opened|logged|acknowledged)|(?:support\s+)?request\s+(?:#?\d+\s+)?"
    r"(?:has been\s+)?received|(?:case|request|ticket)\s+#?\d{3,}\s+(?:has been\s+)?"
    r"(?:received|created|opened|logged))\b"
)
# An autoresponder that says so in its first lines ("This is an automated response", "Ce
# message a été envoyé automatiquement", "Esta es una respuesta automática"), read on the
# reader-words part of the body folded like the subject.
# "This is an automated reply." / "… message from …" / "… response to confirm …": the notice
# says what it is and stops or goes on to say why; "This is an automated response system we are
# building" is a person writing about one.
_SAYS_AUTOMATED = re.compile(
    r"\bthis is an? (?:automated|automatic|auto-?generated|auto-?reply|auto-?response)"
    r"(?: (?:reply|response|message|e-?mail|mail|notification|notice|acknowledge?ment))?"
    r"(?=\s*(?:[.,;:!\-\u2013\u2014(]|$|(?:from|to|sent|generated|and|please|do not|regarding"
    r"|for|confirming|in reply|in response|only)\b))|"
    r"\bthis (?:e-?mail|message|reply|response) (?:is|was|has been) (?:sent |generated )?"
    r"automatically\b|"
    r"\b(?:ceci est|il s'agit d') ?une? (?:reponse|message) automatique\b|"
    r"\bce message a ete (?:envoye|genere) automatiquement\b|"
    r"\b(?:esta es una|este es un) (?:respuesta|mensaje|correo) automatic[oa]\b|"
    r"\b(?:mensaje|correo|respuesta) (?:generad[oa] |enviad[oa] )?automaticamente\b|"
    r"\bdies ist eine automatische (?:antwort|nachricht|e-?mail)\b|"
    r"\bdiese (?:e-?mail|nachricht) wurde automatisch\b|"
    r"\besta e uma (?:resposta|mensagem) automatica\b"
)
# Mail clients' own "Automatic reply:" in other languages (away.AUTO_WORDS), labels like
# `_AUTO_LABEL`, matched on the folded subject.
_LOCALISED_LABEL = _label(away.folded(*away.AUTO_WORDS))
# Help desks' acknowledgements in the body, whatever the subject (Zendesk keeps the one it
# answers: "[Acme Support] Re: …"): a request or ticket named by its number has been received
# or created ("Your request (48213) has been received", "Su solicitud #4821 ha sido recibida"),
# or "we have received your request" beside a ticket number or a help desk's "reply above this
# line" marker. Matched on the folded own words.
_TICKET_NAMED = (
    r"(?:\(|\[)?\s*(?:#|n[o°º]\.?\s*|number\s*|nummer\s*|numero\s*)?"
    r"[a-z]{0,10}-?\d{3,}\s*(?:\)|\])?"
)
_TICKET_RECEIVED = re.compile(
    r"\byour (?:support |service )?(?:request|ticket|case|enquiry|inquiry)\s*"
    + _TICKET_NAMED
    + r"\s+(?:has been|was|is) (?:received|created|opened|logged|registered|submitted)\b|"
    r"\b(?:su|tu) (?:solicitud|ticket|caso|consulta|peticion)\s*"
    + _TICKET_NAMED
    + r"\s+(?:ha sido|fue) (?:recibid[oa]|cread[oa]|registrad[oa]|abiert[oa])\b|"
    r"\bvotre (?:demande|ticket|requete|dossier)\s*"
    + _TICKET_NAMED
    + r"\s+a (?:bien )?ete (?:recue?|creee?|enregistree?|ouverte?)\b|"
    r"\bihre? (?:anfrage|ticket|supportanfrage|fall)\s*"
    + _TICKET_NAMED
    + r"\s+(?:ist (?:bei uns )?eingegangen|wurde (?:erstellt|empfangen|registriert|eroffnet))\b|"
    r"\bsua (?:solicitacao|requisicao|chamado)\s*"
    + _TICKET_NAMED
    + r"\s+foi (?:recebid[oa]|criad[oa]|registrad[oa]|abert[oa])\b"
)
_TICKET_THANKS = re.compile(
    r"\bwe(?: have|'ve)? (?:successfully )?received your (?:support )?(?:request|ticket|"
    r"enquiry|inquiry)\b|\b(?:your|a) (?:support )?(?:request|ticket|case)(?: for support)? "
    r"has been (?:received|created|opened|logged)\b"
)
_TICKET_MARK = re.compile(
    r"\b(?:ticket|request|reference|incident)(?: (?:number|no\.?|id|#))?(?: is)?:?\s*"
    r"#?[a-z]{0,10}-?\d{3,}\b|##- ?please type your reply above this line|"
    r"please (?:reply|respond|type your (?:reply|response)) above this line"
)
# Spam-quarantine digests (Proofpoint's "End User Digest", "Spam Quarantine Summary",
# Mimecast's "On Hold Digest", Microsoft's "You have messages in quarantine"), which a reader's
# forwarding rule may send to us: the subject is the digest's (not a person's "Fwd:" of it), and
# its words speak of quarantined messages to release, without asking anything.
_QUARANTINE_SUBJECT = re.compile(
    _TAG + r"(?:[\w.-]+(?: \d+)?(?: security)?: )?(?:(?:(?:end user|spam|junk|junk mail|"
    r"quarantine|spam quarantine|message quarantine|held messages?|on hold) (?:digest|summary|"
    r"notification)|quarantine (?:report|notice))(?:$|\s*[:(\u2013\u2014-]|\s(?:for|\d))|"
    r"you have (?:\d+ )?(?:new )?messages? (?:held )?in quarantine\b|"
    r"(?:\d+ )?(?:new )?messages? (?:held|waiting) in (?:your )?quarantine\b)"
)
_QUARANTINE_WORDS = re.compile(
    r"\bquarantin|\bcuarentena\b|\bquarantane\b|\bquarentena\b|\bon hold\b|\bheld for you\b"
)
_QUARANTINE_ACTION = re.compile(
    r"\brelease\b|\bblock sender\b|\ballow sender\b|\bnot spam\b|\bliberar\b|\bfreigeben\b|"
    r"\bliberer\b"
)
_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
# "Re:", and its words in the readers' languages: Italian "R:"/"RIF:", Dutch "Antw:", German "AW:",
# Polish "Odp:" (forward "PD:"), Swedish "SV:" (forward "VB:"), Russian "Ответ:"/"Отв:"
# (forward "Пересл:"), Chinese Outlook's "答复:"/"回复:"/"回覆:" (forward "转发:"/"轉寄:"), with
# a full-width colon too…
REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|rv|res|fw|fwd|tr|wg|sv|r|rif|antw|enc|odp|pd|vb"
    r"|ответ|отв|пересл|答复|回复|回覆|答覆|转发|轉寄|轉發)"
    r"\s*(?:\[\d+\])?\s*[:\uff1a]\s*)+",
    re.I,
)


def why(mail: Mail) -> str | None:
    """Why the message is an automatic reply, or None."""
    msg = mail.msg
    auto = header(msg, "Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autorespond-From", "X-AutoReply-From"):
        if msg.get(name) is not None:
            return f"{name} header"
    if header(msg, "X-Auto-Response-Suppress") and msg.get("X-MS-Exchange-Inbox-Rules-Loop"):
        return "Exchange inbox rule"
    precedence = header(msg, "Precedence").lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    if header(msg, "X-Autogenerated").lower() in ("reply", "forward"):
        return "X-Autogenerated header"
    if "autoresponder" in header(msg, "X-POST-MessageClass").lower():
        return "X-POST-MessageClass: autoresponder"
    return _by_words(mail)


def _subject_label(subject: str, plain: str, *, whole: bool) -> str | None:
    """What the subject says of its sender (`subject` folded, `plain` normalised): "auto", a
    label only responders use in that place ("Automatic reply: …", "Ticket received - …");
    "away", words people use too, in a label's place ("Out of office: …", "Jane Doe/NY/Acme is
    out of the office."); None, a person's subject.

    `whole`: the subject was a reply ("Re: …"), and responders put their label first
    ("Automatic reply: RE: …"); after "Re:" only the label alone counts ("RE: Out of the
    Office"), since "Re: Out of office: new remote-work rules" answers an issue with that title.
    """
    for rule, strength in (
        (_AUTO_LABEL, "auto"),
        (_LOCALISED_LABEL, "auto"),
        (_TICKET_SUBJECT, "auto"),
        (_AWAY_LABEL, "away"),
    ):
        found = rule.match(subject)
        if found and not (whole and subject[found.end() :].strip(" .!:-")):
            return strength
    stated = _AWAY_STATEMENT.search(plain)
    if stated and _STATEMENT_TAIL.fullmatch(plain[stated.end() :]):
        return None if whole and plain[stated.end() :].strip() else "away"
    return None


def _by_words(mail: Mail) -> str | None:
    """A responder known by its words alone (no header says so): the subject's label or
    statement with a body that does not ask the partner anything, a help desk's
    acknowledgement, a spam quarantine's digest, a challenge-response filter's request.

    A person's reply ("Re:" and a mail client's quoting) is never one: its subject is the
    subject it answers (a newsletter titled "Out of office: new remote-work rules", say), and a
    responder does not quote. Nor is a person's new message whose subject begins with a
    responder's words: they are a label only in a label's place, words people also write ("Out
    of office: …") only over a responder's notice, and a question to the partner ("could we
    meet today?") is a person's. When in doubt the message reaches the partner."""
    if persons_reply(mail):
        return None
    own = reply_text(body_text(mail.msg))
    words = fold(_LINK.sub(" ", own[:3000]))
    stripped = REPLY_PREFIX.sub("", mail.subject)
    label = _subject_label(fold(stripped), normalise(stripped), whole=stripped != mail.subject)
    asks = _ASKS.search(_URGENT_QUESTION.sub(" ", words))
    if label and not asks and (label == "auto" or away.NOTICE.search(words)):
        return f"subject {mail.subject!r}"
    alone = None if asks else away.notice_alone(_LINK.sub(" ", own[:3000]))
    if alone:
        return f"an out-of-office notice in its words alone ({alone!r})"
    if _SAYS_AUTOMATED.search(fold(own[:600])):
        return "the message says it is an automatic response"
    if _TICKET_RECEIVED.search(words) or (
        _TICKET_THANKS.search(words) and _TICKET_MARK.search(words)
    ):
        return "a help desk acknowledges a request"
    # A digest's list of messages reads like a quoted header block: its whole text is read.
    text = fold(mail.text[:3000])
    if (
        _QUARANTINE_SUBJECT.match(fold(mail.subject))
        and not PERSONS_SUBJECT.match(mail.subject)
        and not _ASKS.search(words)
        and _QUARANTINE_WORDS.search(text)
        and _QUARANTINE_ACTION.search(text)
    ):
        return "a spam quarantine's digest"
    if challenge.asks_to_verify(text):
        return "a challenge-response filter asks the sender to verify"
    return None


def detect(mail: Mail) -> Verdict | None:
    reason = why(mail)
    if reason is None:
        return None
    # The responder's own words (not the issue it may quote) and its subject.
    words = f"{mail.subject}\n{reply_text(body_text(mail.msg))}"
    left = find_departure(
        words, not_contacts=frozenset({mail.from_address}), not_domain=mail.domain
    )
    if left is not None:
        reason += f"; a departure notice ({left.phrase!r})"
        return Verdict(InboundKind.AUTO_REPLY, "rfc3834:departure", reason, departure=left)
    return Verdict(InboundKind.AUTO_REPLY, "rfc3834", reason)
