"""Challenge-response filters (Spam Arrest, Boxbe, Bluebottle, Mailinblack, ChoiceMail…): the
reader's mailbox holds our message until the sender proves to be a person.

Such a request is an automatic reply, never a bounce: the reader's mailbox exists and nothing
failed, so nothing may count against them. Some filters send it as a delivery report (Boxbe's
"waitlisted" notice is a multipart/report with "Status: 4.7.0" and "X-Boxbe-Notice; Sender not
pre-approved"), some from the null sender, so `detect` runs before the bounce detectors. Two signs
are needed in the notice's own words: a filter's name or its wording, and the request to verify;
and the notice quotes no SMTP reply: a mail system's refusal ("550-Verification failed for <…>",
"sender verification failed") is a bounce whatever it says of verifying.
"""

from __future__ import annotations

import re

from mailer.inbound.detectors.base import Mail, Verdict, persons_reply
from mailer.inbound.message import fold
from mailer.inbound.models import InboundKind

# A filter's name or its own wording ("guest list", "approved senders"), and the request to
# verify: the two signs of a named challenge.
VENDOR = re.compile(
    r"spam ?arrest|boxbe|mailinblack|choicemail|bluebottle|sanebox|mailwasher|spamcease|"
    r"approved senders|guest list|pending (?:your )?verification|sender verification",
    re.I,
)
ASK = re.compile(
    r"\b(?:verify|verification|confirm that you are|prove (?:that )?you are|are (?:a )?human|"
    r"not a (?:spammer|robot)|approve(?:d)? (?:you|your)|added to my|add yourself to|"
    r"confirmer|valider|verifier|un humain|confirmar|verificar|validar|un humano|"
    r"bestatigen|verifizieren)\b",
    re.I,
)
# A challenge-response filter that names no vendor: it holds "your message" until the sender
# proves to be a person. Both are needed: a client may write that their message was held, or
# that a person should call, but not both in a responder's words. Matched on folded text.
HELD = re.compile(
    r"\byour (?:message|e-?mail)(?: to [^\n]{1,60}?)? (?:is|has been|was|will be) (?:being )?"
    r"(?:held|awaiting|pending|waiting|quarantined|on hold|kept|waitlisted)\b|"
    r"\bawaiting (?:your |the recipient's |my )?(?:verification|approval|confirmation)\b|"
    r"\bsu (?:mensaje|correo)(?: a [^\n]{1,60}?)? (?:esta|ha sido|fue|sera) (?:retenido|"
    r"pendiente|en espera|bloqueado)\b|"
    r"\bvotre (?:message|e-?mail|courriel)(?: a [^\n]{1,60}?)? (?:est|a ete|sera) (?:en attente|"
    r"retenu|bloque|mis en attente)\b|"
    r"\bihre (?:nachricht|e-?mail)(?: an [^\n]{1,60}?)? (?:wurde|ist|wird) (?:zuruckgehalten|"
    r"angehalten|blockiert)\b|"
    r"\bsua mensagem(?: para [^\n]{1,60}?)? (?:esta|foi|sera) (?:retida|pendente|em espera|"
    r"bloqueada)\b"
)
HUMAN = re.compile(
    r"\b(?:you are|you're|that you are) (?:a )?(?:real )?(?:human|person)\b|\bnot a (?:robot|"
    r"spammer|program|machine|bot)\b|\b(?:es usted|eres|que es) (?:una persona|un (?:ser )?humano)"
    r"\b|\b(?:etes|es) (?:bien )?(?:un humain|une personne)\b|\b(?:sind|ein) (?:ein )?mensch\b|"
    r"\b(?:e|voce e) (?:uma pessoa|um humano)\b"
)
# Asked to verify, in a filter's words ("Please verify your email address", "click the link
# below to have your message delivered", "Veuillez confirmer…", "Por favor, confirme…"): with a
# held message, a challenge (matched on folded text).
VERIFY_REQUEST = re.compile(
    r"\bplease (?:verify|confirm) (?:your|that you)\b|\bverify your (?:e-?mail|address|identity)\b|"
    r"\bclick (?:on )?(?:the|this) link(?: below)? to (?:verify|confirm|deliver|release|have)\b|"
    r"\bto (?:have|get) (?:it|your (?:message|e-?mail)) delivered\b|"
    r"\bpor favor,? (?:verifique|confirme|valide)\b|\bveuillez (?:confirmer|valider|verifier)\b|"
    r"\bbitte (?:bestatigen|verifizieren) sie\b|\bpor favor,? (?:confirme|verifique|valide)\b"
)
# A report's diagnostic that names the challenge (Boxbe's own notice type).
_DIAGNOSTIC = re.compile(r"x-boxbe-notice|sender not pre-?approved", re.I)
# An SMTP reply or status code quoted in the notice: a mail system's refusal, not a request.
_SMTP_REPLY = re.compile(
    r"(?<![\d.:])[45]\d\d[ -](?=[a-z<#(])|(?<![\d.])[45]\.\d{1,3}\.\d{1,3}(?![\d.]*\d)|"
    r"\bsmtp error\b|\bsaid:|\bin reply to\b"
)


def asks_to_verify(text: str) -> bool:
    """Whether `text` (folded) is a challenge: a filter's name or wording and the request to
    verify, or "your message is held" and a request to prove to be a person or to verify."""
    return bool(
        (VENDOR.search(text) and ASK.search(text))
        or (HELD.search(text) and (HUMAN.search(text) or VERIFY_REQUEST.search(text)))
    )


def _report_diagnostics(mail: Mail) -> str:
    """The delivery-status parts' fields, as text (the Diagnostic-Code a filter may set)."""
    return "\n".join(
        part.as_string()
        for part in mail.msg.walk()
        if part.get_content_type() == "message/delivery-status"
    )


def detect(mail: Mail) -> Verdict | None:
    """A challenge-response request, or None. A person's reply quoting one is the person's."""
    if persons_reply(mail):
        return None
    words = fold(mail.text[:3000])
    if _SMTP_REPLY.search(words):
        return None
    if _DIAGNOSTIC.search(_report_diagnostics(mail)) or asks_to_verify(words):
        return Verdict(
            InboundKind.AUTO_REPLY,
            "challenge",
            "a challenge-response filter holds the message until the sender verifies; the "
            "reader's mailbox exists, nothing failed",
        )
    return None
