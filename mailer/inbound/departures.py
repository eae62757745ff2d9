"""Departure notices: an automatic reply saying the reader has left their firm.

"Jane Roe is no longer with Acme; please contact John Doe at john.doe@acme.example" is the most
useful auto-reply a consulting firm gets: the client relationship has moved to someone else, and
the partner should know before the next issue goes to a mailbox nobody reads. An out-of-office
("I have left the office and will be back on Monday", "I will no longer be checking email until
the 5th") is not one: only words that say the person no longer works there, or that the address
is closed, count.

Pure: text in, a finding out. What is done with it (a tag on the subscriber, the admin's list of
departures) is decided in mailer/inbound/process.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailer.inbound.message import normalise

# Matched on `normalise`d text: lower case, accents removed, punctuation as spaces ("n'est plus"
# is "n est plus", "a quitté" is "a quitte"). Each names the person's leaving or the address's
# closing, never an absence: no "left the office", no "away until".
_PHRASES = re.compile(
    r"\b(?:"
    # English
    r"(?:is|am|are) no longer (?:with|employed|part of|working (?:at|for|with)|a member of"
    r"|at (?!(?:my|the|his|her) (?:desk|office|conference|event|computer)))"
    r"|no longer works? (?:at|for|with|here)"
    r"|(?:has|have) (?:now )?left (?:the|our|this) (?:company|firm|organi[sz]ation|business"
    r"|bank|group|practice|agency|team|partnership|university|ministry|department)"
    r"|(?:mailbox|e ?mail address|email account|address|inbox) (?:is|has been) (?:no longer"
    r" (?:active|in use|monitored|being monitored|valid|maintained)|(?:closed|deactivated"
    r"|decommissioned))"
    # German
    r"|nicht mehr (?:(?:fur|bei|in|im) (?:[\w&-]+ ){0,4})?(?:tatig|beschaftigt)"
    r"|(?:hat|haben) (?:das|unser) unternehmen verlassen"
    r"|aus (?:dem|unserem) unternehmen ausgeschieden"
    r"|(?:postfach|e mail adresse|e mail konto|adresse) wird nicht mehr (?:genutzt|verwendet"
    r"|gelesen|abgerufen|bearbeitet)"
    # French
    r"|ne fait plus partie (?:de|du|des)"
    r"|a quitte (?:la societe|l entreprise|le cabinet|le groupe|l organisation|notre|la banque"
    r"|l etude)"
    r"|ne travaille plus (?:pour|chez|au sein|dans)"
    r"|(?:adresse|boite) (?:e ?mail |electronique |aux lettres )?n est plus (?:active|utilisee"
    r"|consultee|valide)"
    # Spanish
    r"|ya no (?:trabaja|labora|forma parte|pertenece|presta (?:sus )?servicios)"
    r"|ha dejado (?:la empresa|la compania|la firma|el despacho|de trabajar|de colaborar)"
    r"|(?:cuenta|direccion|buzon) (?:de correo )?(?:ya no esta activ[ao]|ha sido desactivad[ao])"
    # Italian
    r"|non (?:lavora|collabora) piu (?:per|presso|con)"
    r"|non fa piu parte"
    r"|ha lasciato (?:l azienda|la societa|lo studio|il gruppo)"
    # Portuguese
    r"|nao (?:trabalha|colabora|faz) mais (?:parte|na|no|para|com|conosco)"
    r"|ja nao (?:trabalha|colabora|faz parte) (?:na|no|para|com|da|do|conosco)"
    r"|deixou (?:a empresa|a companhia|o escritorio|de trabalhar|de fazer parte)"
    # Dutch
    r"|(?:is|ben) niet (?:meer|langer) (?:werkzaam|in dienst|verbonden)"
    r"|is uit dienst"
    r"|(?:heeft|hebben) (?:het|ons) (?:bedrijf|kantoor) verlaten"
    r")\b"
)

# What a departure notice does (mailer/inbound/process.py): tag the reader with DEPARTED_TAG and
# record an outcome starting with DEPARTURE_OUTCOME, by which the admin lists the notices.
DEPARTED_TAG = "left-company"
DEPARTURE_OUTCOME = "departure notice"

_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)


@dataclass(frozen=True)
class Departure:
    """What the notice said: its words (as normalised) and the addresses it names instead."""

    phrase: str
    contacts: tuple[str, ...]


def find_departure(text: str, *, not_contacts: frozenset[str] = frozenset()) -> Departure | None:
    """The departure an automatic reply announces, or None for any other auto-reply.

    `text` is the reply's own text (not the quoted newsletter: a responder that quotes our issue
    must not be read as leaving because an item says someone "is no longer with" a ministry);
    only its first 4,000 characters are read, where responders put their notice.
    `not_contacts` are addresses never offered as the new contact (the sender's own, ours).
    """
    head = text[:4000]
    found = _PHRASES.search(normalise(head))
    if found is None:
        return None
    seen: dict[str, None] = {}
    skip = {a.lower() for a in not_contacts}
    for address in _ADDRESS.findall(head):
        address = address.strip(".'-").lower()
        if address not in skip:
            seen.setdefault(address, None)
    return Departure(found.group(0).strip(), tuple(seen)[:3])
