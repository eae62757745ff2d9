"""An opt-out by reply: the whole reply asks to stop this newsletter, and nothing else.

A reader's reply unsubscribes them only when, with quotes and signature stripped, every sentence
they wrote is either an opt-out *for themselves from this mailing* ("Unsubscribe", "Please remove
me from this list", "Dar de baja", "No deseo recibir más estos correos") or politeness (a
greeting, thanks, a closing, their name). The subject may carry the request instead ("Unsubscribe"
with an empty body), or be a reply to ours ("Re: …"). Anything else — a question, a request about a
meeting, removing *someone* or *something* else ("Remove me from Thursday's call", "Dar de baja a
mi asistente") — is an inquiry and goes to the partner, who can unsubscribe the reader in one click
if that was what they meant. When in doubt, forward: a lost client costs more than one more email.

English and Spanish here; French, German, Portuguese, Italian, Dutch, Polish and Swedish in
optout_languages.py; Russian, Japanese and Chinese in optout_scripts.py.
Matched on normalised text (lower case, no accents, no punctuation). What the reader's phone,
mail client or company adds below their words ("Sent from my iPhone" in any of these languages,
a signature block, a confidentiality disclaimer) is cut first (signature.py), and so is the quoted
newsletter under any of these languages' reply headers (message.QUOTE_START).
"""

from __future__ import annotations

import re

from mailer.inbound.detectors import optout_languages as languages
from mailer.inbound.detectors import optout_scripts as scripts
from mailer.inbound.detectors import signature
from mailer.inbound.detectors.base import Mail, Verdict
from mailer.inbound.detectors.rfc3834 import REPLY_PREFIX
from mailer.inbound.message import QUOTE_START, body_text, normalise, reply_text
from mailer.inbound.models import InboundKind

_POLITE = (
    r"(?:(?:hi|hello|hey|hola|ok|okay|yes|si|gracias|thanks|thank you|sorry|perdon|disculpe)\s+)?"
    r"(?:(?:please|pls|plz|kindly|por favor|favor de|favor|i want to|i would like to|i d like to|"
    r"id like to|i wish to|i need to|i want you to|i would like you to|i ask you to|"
    r"quiero|quisiera|deseo|me gustaria|solicito|necesito|les pido|le pido|te pido|"
    r"can you|could you|would you|will you|can i|could i|may i|"
    r"puede|pueden|podrian|podria|puedes|please do|just)\s+)*"
)
_THIS = (
    r"(?:this|these|your|the|that|those|all|any|all your|all these|all of these|all of your|"
    r"future|further|more|any more|any further)"
)
_MAILING = (
    r"(?:(?:mailing |distribution |e ?mail |email |subscriber |contact )?list|newsletters?|"
    r"bulletins?|briefings?|mailings?|e ?mails?|emails|mails?|messages|updates|"
    r"communications|subscription|weekly (?:briefing|newsletter|email)s?|security chatter)"
)
_ES_THIS = r"(?:esta|este|estos|estas|la|el|los|las|sus|tu|su|mi)"
_ES_MAILING = (
    r"(?:listas?(?: de (?:correos?(?: electronicos?)?|distribucion|envios?|contactos|mails?"
    r"|e ?mails?|suscriptores|difusion))?|boletin(?:es)?|newsletter|"
    r"correos?(?: electronicos?)?|mails?|e ?mails?|emails|mensajes|envios|comunicaciones|"
    r"suscripcion|subscripcion)"
)
_TARGET = (
    rf"(?:(?:from|off|of|to)\s+{_THIS}\s+(?:\w+\s+)?{_MAILING}"
    rf"|(?:de|a)\s+{_ES_THIS}\s+(?:\w+\s+)?{_ES_MAILING}"
    rf"|(?:me\s+)?{_THIS}\s+(?:\w+\s+)?{_MAILING}"
    rf"|{_ES_THIS}\s+{_ES_MAILING})"
)
_ME = r"(?:me|my (?:email|e mail|address|email address|subscription)|myself|us)"
_VERBS = (
    rf"(?:unsubscribe(?:\s+{_ME})?|unsuscribe(?:\s+me)?|un subscribe(?:\s+me)?"
    rf"|remove\s+{_ME}|take\s+{_ME}\s+off|delete\s+{_ME}|opt\s+(?:me\s+)?out|opt out"
    rf"|stop(?:\s+(?:sending|emailing|mailing))?(?:\s+me)?"
    rf"|cancel\s+(?:my\s+)?subscription|end\s+my\s+subscription|no more(?:\s+emails)?"
    rf"|i (?:do not|don t|dont|no longer) (?:want|wish|need) (?:to receive|to get|to be on)?"
    rf"|i (?:did not|didn t|never|have never|ve never|do not remember|don t remember|dont remember)"
    rf" (?:sign(?:ed|ing)? up|subscrib(?:e|ed|ing)|opt(?:ed)? in|ask(?:ed)? for (?:this|these|it))"
    rf"(?: (?:for|to) (?:this|these|it|them|{_THIS} {_MAILING}))?"
    rf"|(?:yo )?nunca me (?:suscribi|inscribi|registre|di de alta)"
    rf"|be (?:unsubscribed|removed|taken off)"
    rf"|(?:dar|darme|darnos|denme|dame|deme|de|darse)\s+de\s+baja"
    rf"|(?:borrar|borrarme|eliminar|eliminarme|quitar|quitarme|sacar|sacarme|remover|removerme|"
    rf"saquenme|quitenme|borrenme|eliminenme|remuevanme|sacame|quitame|borrame)"
    rf"|(?:la\s+)?baja(?:\s+de\s+mi\s+(?:correo|email|e mail|direccion|suscripcion))?"
    rf"|(?:cancelar|anular)(?:\s+mi)?(?:\s+(?:suscripcion|subscripcion))?"
    rf"|desuscribir(?:me)?|desuscribanme|desinscribir(?:me)?"
    rf"|no (?:deseo|quiero|necesito) (?:recibir|seguir recibiendo)(?: mas)?"
    rf"|ya no (?:deseo|quiero) (?:recibir|seguir recibiendo)"
    rf"|dejar de recibir|dejen de enviar(?:me)?|dejen de mandar(?:me)?|no (?:me )?envien mas"
    rf"|baja|stop|remove|unsubscribe|cancelar|cancel|no mas|alta no)"
)
_TAIL = r"(?:\s+(?:please|thanks|thank you|thx|por favor|gracias|asap|now|ya|immediately))*"
OPT_OUT = re.compile(rf"^{_POLITE}{_VERBS}(?:\s+{_TARGET})?(?:\s+(?:mas|more|again))?{_TAIL}$")
POLITENESS = re.compile(
    r"^(?:hi|hello|hey|dear|hola|estimad[oa]s?|querid[oa]s?|buen[oa]s?(?: dias| tardes| noches)?|"
    r"good (?:morning|afternoon|evening)|saludos(?: cordiales)?|un saludo|cordialmente|"
    r"atentamente|regards|best(?: regards| wishes)?|kind regards|cheers|thanks?(?: you)?"
    r"(?: very much| so much| in advance)?|many thanks|muchas gracias|gracias(?: de antemano)?|"
    r"sincerely|yours|br|rgds|sent from my \w+|enviado desde mi \w+|senor(?:a)?|sr|sra)"
    r"(?:\s+[a-z]+){0,3}$"
)
_CLOSING = re.compile(
    r"^(?:regards|best|kind regards|cheers|thanks|thank you|many thanks|sincerely|saludos|"
    r"un saludo|atentamente|cordialmente|gracias|muchas gracias)\b"
)
_NAME_LINE = re.compile(r"^[^\W\d_][\w.'’-]*(?:\s+[^\W\d_][\w.'’-]*){0,4}$")
_LONGEST_REQUEST = 300  # characters, normalised: longer is a letter, not a request


def _own_lines(text: str) -> list[str]:
    """The reader's lines ("" for a blank one) down to the quoted newsletter, a "--" signature
    separator or a "Sent from my …" line; lines quoted with ">" left out."""
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped in ("--", "-- ", "—", "___") or QUOTE_START.match(line):
            break  # the signature, or the quoted newsletter (even with nothing above it)
        if signature.is_device_line(stripped):
            break
        if not stripped.startswith(">"):
            lines.append(stripped)
    return lines


def _is_name(line: str) -> bool:
    """A line that is only a name: "José", "María López", "Émilie Dubois", "J. O'Neill" (not
    words in capitals: "CALL ME ASAP")."""
    words = line.split()
    return (
        bool(_NAME_LINE.match(line))
        and all(w[:1].isupper() for w in words)
        and (len(words) == 1 or any(c.islower() for c in line))
    )


def sentences(text: str) -> list[str]:
    """The reader's sentences: lines, split at . ! ? ; (what follows a closing, a signature
    block and a disclaimer dropped)."""
    lines = signature.without_marked_signature(signature.without_disclaimer(_own_lines(text)))
    kept = [line for line in signature.without_signature(lines, _own_words) if line]
    # A closing ("Regards,") ends the message: what follows is the signature.
    for i, line in enumerate(kept):
        said = normalise(line)
        closing = (
            _CLOSING.match(said) or languages.CLOSING.match(said) or scripts.CLOSING.match(said)
        )
        if closing and len(said.split()) <= 4:
            kept = kept[: i + 1]
            break
    # Trailing lines that are only a name are a signature too.
    while kept and _is_name(kept[-1]) and not _own_words(kept[-1]) and len(kept) > 1:
        kept.pop()
    out: list[str] = []
    for line in kept:
        out += [s for s in re.split(r"(?<=[.!?;¿¡])\s+|[¿¡]", line) if normalise(s)]
    return out


def is_opt_out(sentence: str) -> bool:
    said = normalise(sentence)
    if len(said) > _LONGEST_REQUEST:
        return False
    return bool(OPT_OUT.match(said) or languages.OPT_OUT.match(said) or scripts.OPT_OUT.match(said))


def is_polite(sentence: str) -> bool:
    """A greeting, thanks or a closing, perhaps with a name ("Merci, Fausto"), and nothing more."""
    said = normalise(sentence)
    if POLITENESS.match(said) or languages.POLITE.match(said) or scripts.POLITE.match(said):
        return True
    to = languages.POLITE_TO_NAME.match(said)
    if to is None:
        return False
    name = sentence.split()[-len(to.group("name").split()) :]
    return all(w[:1].isupper() for w in name)


def _own_words(line: str) -> bool:
    """Whether the line is the reader's request or politeness (never a signature's name)."""
    return is_opt_out(line) or is_polite(line)


def reason(subject: str, body: str) -> str | None:
    """Why the reply as a whole is an opt-out, or None (then it is an inquiry)."""
    said = sentences(reply_text(body))
    asking = [s for s in said if is_opt_out(s) or not is_polite(s)]
    subject_text = REPLY_PREFIX.sub("", subject)
    is_reply = subject_text != subject
    subject_asks = bool(normalise(subject_text)) and is_opt_out(subject_text)
    if asking and not all(is_opt_out(s) for s in asking):
        return None  # the reader says or asks something else: the partner should read it
    if asking and (subject_asks or is_reply or not normalise(subject_text)):
        return f"the reply asks only to unsubscribe: {' '.join(asking)[:200]!r}"
    if not asking and subject_asks:
        return f"the subject asks to unsubscribe: {subject_text.strip()[:200]!r}"
    return None


def detect(mail: Mail) -> Verdict | None:
    why = reason(mail.subject, body_text(mail.msg))
    if why is None:
        return None
    return Verdict(InboundKind.UNSUBSCRIBE, "optout", why)
