"""RFC 3834 automatic responses (out-of-office, vacation), and what real responders send instead.

RFC 3834 asks responders to say `Auto-Submitted: auto-replied`; many also (or only) send
X-Autoreply, X-Autorespond, Precedence, Exchange's inbox-rule headers, or just an "Out of office" /
"Respuesta automática" subject. A bounce often carries Auto-Submitted too, so this detector runs
after the bounce detectors.
"""

from __future__ import annotations

import re

from mailer.inbound.departures import Departure, find_departure
from mailer.inbound.detectors.base import Mail, Verdict, persons_reply
from mailer.inbound.message import body_text, fold, header, normalise, reply_text
from mailer.inbound.models import InboundKind

# Matched on the subject folded by `fold` (lower case, no accents, punctuation kept), a reply's
# "Re:" removed first. Labels that responders put before the subject they answer, after any
# bracketed tag a gateway adds ("[EXTERNAL] Out of office: …").
_TAG = r"^(?:\[[^]]*\]\s*)?"
_AUTO_SUBJECT = re.compile(
    _TAG + r"(?:out of (?:the )?office|automatic reply|auto(?:matic)?[ -]?repl(?:y|ied)|"
    r"autoresponse|auto[ -]?response|autorespuesta|away from (?:the )?office|vacation reply|"
    r"respuesta automatica|fuera de (?:la )?oficina|reponse automatique|abwesenheit|"
    r"automatische antwort|resposta automatica|risposta automatica|fuori ufficio)"
)
# Words that also begin people's subjects ("Absence of Peru coverage", "Ausencia de datos sobre
# Colombia"): a responder's label only as the whole subject, before a colon or dash ("Absence:
# …", "De vacaciones - …") or before a return date ("Ausente hasta el 20").
_AUTO_SUBJECT_WORD = re.compile(
    _TAG + r"(?:absence|ausencia|ausente|de vacaciones|on vacation|on holiday|i am away|"
    r"i'm away|estoy de vacaciones)\s*(?:$|[:\-\u2013\u2014(]|\s(?:hasta|until|till|jusqu|bis)\b)"
)
# What a responder says of its owner: Lotus Notes/Domino's "Jane Doe/NY/Acme is out of the
# office.", and the same in Spanish, French and German.
_AWAY_STATEMENT = re.compile(
    r"\b(?:is|am|are) (?:currently )?out of (?:the )?office\b|"
    r"\best (?:absente?|en conges) |\bist (?:nicht im buro|abwesend|ausser haus)\b|"
    r"\besta (?:fuera de la oficina|ausente|de vacaciones)\b"
)
# Help desks' acknowledgements: Freshdesk's "Ticket Received - …", "Request received: …",
# "Case #00123 has been created" (a case without a number is a lawyer's word).
_TICKET_SUBJECT = re.compile(
    _TAG + r"(?:\S+\s+){0,2}(?:ticket(?:\s+#?\d+)?\s+(?:has been\s+)?"
    r"(?:received|created|opened|logged|acknowledged)|(?:support\s+)?request\s+(?:#?\d+\s+)?"
    r"(?:has been\s+)?received|(?:case|request|ticket)\s+#?\d{3,}\s+(?:has been\s+)?"
    r"(?:received|created|opened|logged))\b"
)
# Challenge-response filters (Spam Arrest, Boxbe, Mailinblack, ChoiceMail…): the sender is asked
# to prove they are a person before the message is delivered. Two signs are needed in the
# notice's own words: a filter's name or its wording, and the request to verify.
_CHALLENGE_VENDOR = re.compile(
    r"spam ?arrest|boxbe|mailinblack|choicemail|bluebottle|sanebox|mailwasher|spamcease|"
    r"approved senders|guest list|pending (?:your )?verification|sender verification",
    re.I,
)
_CHALLENGE_ASK = re.compile(
    r"\b(?:verify|verification|confirm that you are|prove (?:that )?you are|are (?:a )?human|"
    r"not a (?:spammer|robot)|approve(?:d)? (?:you|your)|added to my|"
    r"confirmer|valider|verifier|un humain|confirmar|verificar|validar|un humano|"
    r"bestatigen|verifizieren)\b",
    re.I,
)
# An autoresponder that says so in its first lines ("This is an automated response", "Ce
# message a été envoyé automatiquement", "Esta es una respuesta automática"), read on the
# reader-words part of the body folded like the subject.
_SAYS_AUTOMATED = re.compile(
    r"\bthis is an? (?:automated|automatic|auto-?generated|auto-?reply|auto-?response)"
    r"(?: \w+)?\b|"
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
# Mail clients' own "Automatic reply:" in other languages (Outlook's localised prefixes and
# the usual vacation subjects), matched after `normalise` (so written here as it leaves it).
_LOCALISED_SUBJECTS = tuple(
    normalise(words)
    for words in (
        "Automatisch antwoord",
        "Afwezig",
        "Automatiskt svar",
        "Automatisk svar",
        "Autosvar",
        "Automaattinen vastaus",
        "Odpowiedź automatyczna",
        "Automatyczna odpowiedź",
        "Automatická odpověď",
        "Automatikus válasz",
        "Otomatik yanıt",
        "Автоматический ответ",
        "Автоответ",
        "自動応答",
        "自動返信",
        "不在通知",
        "自动回复",
        "自動回覆",
        "자동 회신",
        "자동 응답",
        "自动答复",
        "Αυτόματη απάντηση",
        "תשובה אוטומטית",
        "رد تلقائي",
        "Balasan otomatis",
        "Trả lời tự động",
        "Răspuns automat",
        "Automatski odgovor",
        "Automatická odpoveď",
        "Samodejni odgovor",
        "Автоматична відповідь",
        "Автовідповідь",
        "Автоматичен отговор",
        "Automātiskā atbilde",
        "Automatinis atsakymas",
        "Automaatne vastus",
        "ตอบกลับอัตโนมัติ",
    )
)
_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
# "Re:", and its words in the readers' languages: Italian "R:"/"RIF:", Dutch "Antw:", German "AW:"…
REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|rv|res|fw|fwd|tr|wg|sv|r|rif|antw|enc)\s*(?:\[\d+\])?\s*:\s*)+", re.I
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


def _labelled(subject: str, plain: str, *, whole: bool) -> bool:
    """The subject is a responder's label or statement (`subject` folded, `plain` normalised).

    `whole`: the subject was a reply ("Re: …"), and responders put their label first
    ("Automatic reply: RE: …"); after "Re:" only the label alone counts ("RE: Out of the
    Office"), since "Re: Out of office: new remote-work rules" answers an issue with that title.
    """
    for rule in (_AUTO_SUBJECT, _AUTO_SUBJECT_WORD, _TICKET_SUBJECT):
        found = rule.match(subject)
        if found and not (whole and subject[found.end() :].strip(" .!:-")):
            return True
    away = _AWAY_STATEMENT.search(plain)
    if away and not (whole and plain[away.end() :].strip()):
        return True
    return plain in _LOCALISED_SUBJECTS if whole else plain.startswith(_LOCALISED_SUBJECTS)


def _by_words(mail: Mail) -> str | None:
    """A responder known by its words alone (no header says so): the subject's label or
    statement, a help desk's acknowledgement, a challenge-response filter's request.

    A person's reply ("Re:" and a mail client's quoting) is never one: its subject is the
    subject it answers (a newsletter titled "Out of office: new remote-work rules", say), and a
    responder does not quote. When in doubt the message reaches the partner."""
    if persons_reply(mail):
        return None
    stripped = REPLY_PREFIX.sub("", mail.subject)
    if _labelled(fold(stripped), normalise(stripped), whole=stripped != mail.subject):
        return f"subject {mail.subject!r}"
    if _SAYS_AUTOMATED.search(fold(reply_text(body_text(mail.msg))[:600])):
        return "the message says it is an automatic response"
    own = fold(mail.text[:3000])
    if _CHALLENGE_VENDOR.search(own) and _CHALLENGE_ASK.search(own):
        return "a challenge-response filter asks the sender to verify"
    return None


def detect(mail: Mail) -> Verdict | None:
    reason = why(mail)
    if reason is None:
        return None
    # The responder's own words (not the issue it may quote) and its subject.
    words = f"{mail.subject}\n{reply_text(body_text(mail.msg))}"
    left = find_departure(words, not_contacts=frozenset({mail.from_address}))
    if left is not None:
        ours = f"@{mail.domain.lower()}"
        contacts = tuple(a for a in left.contacts if not a.endswith(ours))
        left = Departure(left.phrase, contacts)
        reason += f"; a departure notice ({left.phrase!r})"
        return Verdict(InboundKind.AUTO_REPLY, "rfc3834:departure", reason, departure=left)
    return Verdict(InboundKind.AUTO_REPLY, "rfc3834", reason)
