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
    r"(?:is|am|are|i m) no longer (?:with|employed|part of|working (?:at|for|with)|a member of"
    r"|at (?!(?:my|the|his|her) (?:desk|office|conference|event|computer)))"
    r"|no longer works? (?:at|for|with|here)"
    r"|(?:has|have) (?:now )?left (?:the|our|this) (?:company|firm|organi[sz]ation|business"
    r"|bank|group|practice|agency|team|partnership|university|ministry|department)"
    r"|(?:mailbox|e ?mail address|email account|address|inbox) (?:is|has been) (?:no longer"
    r" (?:active|in use|monitored|being monitored|valid|maintained)|(?:closed|deactivated"
    r"|decommissioned))"
    r"|(?:mailbox|e ?mail address|email account|account|address|inbox) will (?:soon |shortly "
    r"|now )?be (?:closed|deactivated|decommissioned|disabled|deleted)"
    r"|(?:have|has) (?:now )?retired|retired from|(?:am|is) (?:now )?retired"
    # German
    r"|nicht mehr (?:(?:fur|bei|in|im) (?:[\w&-]+ ){0,4})?(?:tatig|beschaftigt)"
    r"|(?:hat|haben) (?:das|unser) unternehmen verlassen"
    r"|(?:habe|hat|haben) (?:die|den|das|unser|unsere|unseren) (?!buro\b|haus\b)(?:[\w&-]+ ){1,4}"
    r"verlassen"
    r"|in den ruhestand (?:gegangen|getreten|verabschiedet)|(?:bin|ist) (?:jetzt |nun )?im "
    r"ruhestand"
    r"|aus (?:dem|unserem) unternehmen ausgeschieden"
    r"|(?:postfach|e mail adresse|e mail konto|adresse) wird nicht mehr (?:genutzt|verwendet"
    r"|gelesen|abgerufen|bearbeitet)"
    # French
    r"|ne (?:fait|fais) plus partie (?:de|du|des)"
    r"|a quitte (?:la societe|l entreprise|le cabinet|le groupe|l organisation|notre|la banque"
    r"|l etude)"
    r"|ne travaille plus (?:pour|chez|au sein|dans)"
    r"|(?:a|ai) pris (?:sa|ma) retraite|(?:suis|est) (?:desormais |maintenant )?(?:a la|en) "
    r"retraite"
    r"|(?:adresse|boite) (?:e ?mail |electronique |aux lettres )?n est plus (?:active|utilisee"
    r"|consultee|valide)"
    # Spanish
    r"|ya no (?:trabaja|trabajo|labora|laboro|forma parte|formo parte|pertenece|pertenezco"
    r"|presta (?:sus )?servicios|presto (?:mis )?servicios)"
    r"|(?:se ha|me he) jubilado|(?:se|me) jubil(?:o|e)\b"
    r"|ha dejado (?:la empresa|la compania|la firma|el despacho|de trabajar|de colaborar)"
    r"|(?:cuenta|direccion|buzon) (?:de correo )?(?:ya no esta activ[ao]|ha sido desactivad[ao])"
    # Italian
    r"|non (?:lavora|lavoro|collabora|collaboro) piu (?:per|presso|con)"
    r"|non (?:fa|faccio) piu parte"
    r"|(?:e|sono) andat[oa] in pensione"
    r"|ha lasciato (?:l azienda|la societa|lo studio|il gruppo)"
    # Portuguese
    r"|nao (?:trabalha|trabalho|colabora|colaboro|faz|faco) mais (?:parte|na|no|para|com"
    r"|conosco)"
    r"|ja nao (?:trabalha|trabalho|colabora|colaboro|faz parte|faco parte) (?:na|no|para|com|da"
    r"|do|conosco)"
    r"|(?:se )?aposentou|me aposentei"
    r"|deixou (?:a empresa|a companhia|o escritorio|de trabalhar|de fazer parte)"
    # Dutch
    r"|(?:is|ben) niet (?:meer|langer) (?:werkzaam|in dienst|verbonden)"
    r"|is uit dienst"
    r"|werk niet (?:meer|langer) (?:bij|voor)"
    r"|met pensioen"
    r"|(?:heeft|hebben) (?:het|ons) (?:bedrijf|kantoor) verlaten"
    r")\b"
)

# Russian and Polish (matched on `normalise`d text too: "й" is "и", "już" is "juz"; Polish "ł"
# stays), and Japanese and Chinese, written without spaces, so with no word boundary around them.
_MORE_PHRASES = re.compile(
    r"\b(?:больше не (?:работает|работаю|является сотрудником|сотрудничает)"
    r"|не является (?:больше )?сотрудником|уволил(?:ся|ась)|покинул[аи]? (?:компанию|организацию"
    r"|фирму|банк)|(?:ящик|адрес|почта) (?:больше )?не (?:используется|обслуживается|активен"
    r"|проверяется)|(?:вышел|вышла|ушел|ушла) на пенсию"
    r"|nie pracuje juz|juz nie pracuje|(?:odszedł|odeszła|odeszli) z (?:firmy|pracy|naszej firmy"
    r"|zespołu|kancelarii)|skrzynka (?:nie jest juz|juz nie jest) (?:obsługiwana|aktywna|uzywana)"
    r"|przeszedł na emeryture|przeszła na emeryture)\b|"
    + "|".join(
        re.escape(normalise(words))
        for words in (
            "退職いたしました",
            "退職致しました",
            "退職しました",
            "退職いたしております",
            "退社いたしました",
            "退社しました",
            "已离职",
            "已經離職",
            "已经离职",
            "已離職",
            "已离开公司",
            "已離開公司",
            "邮箱已停用",
            "郵箱已停用",
            "邮箱不再使用",
            "郵箱不再使用",
        )
    )
)


def _phrase(normalised: str) -> re.Match[str] | None:
    """The first departure phrase in `normalised` text, in any of the languages above."""
    return _PHRASES.search(normalised) or _MORE_PHRASES.search(normalised)


# "has left Ridgeline Pharma", "I have left Corvantis": left + a capitalised name, matched on the
# text as written (the capitals tell an organisation from "left a comment", "left the meeting",
# "left you a voicemail"). Not a day, a month or a pronoun, and not followed by an absence's words
# ("left London on Monday", "left Madrid for the conference", "until", "and will be back").
_NOT_ORGANISATION = (
    r"(?:I|The|A|An|This|That|Our|My|Your|His|Her|Their|It|We|You|He|She|They|Early|Today"
    r"|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April"
    r"|May|June|July|August|September|October|November|December)\b"
)
_LEFT_NAMED = re.compile(
    r"\b(?:(?:has|have|had)\s+(?:now\s+|recently\s+|officially\s+|already\s+)?)?left\s+"
    rf"(?!{_NOT_ORGANISATION})"
    r"(?>[A-Z][\w&'’-]*(?:\.[\w&'’-]+)*(?:[ \t]+(?:&[ \t]+|and[ \t]+|of[ \t]+)?"
    r"[A-Z][\w&'’-]*(?:\.[\w&'’-]+)*){0,4})"
    r"(?!\s+(?:for|on|until|till|to|today|yesterday|tonight|this|early|and\s+(?:will|am|I|I'm)"
    r"|in\s+the\s+(?:morning|afternoon|evening)|at\s+\d|last\s+(?:night|week))\b)"
)


def _named_leavings(text: str) -> list[tuple[str, str]]:
    """Each "left <Organisation>" in `text` (as written): its words and the 60 characters before
    it, both `normalise`d, for `find_own_departure` to see who left."""
    return [
        (normalise(found.group(0)), normalise(text[max(0, found.start() - 60) : found.start()]))
        for found in _LEFT_NAMED.finditer(text)
    ]


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


def find_departure(
    text: str, *, not_contacts: frozenset[str] = frozenset(), not_domain: str = ""
) -> Departure | None:
    """The departure an automatic reply announces, or None for any other auto-reply.

    `text` is the reply's own text (not the quoted newsletter: a responder that quotes our issue
    must not be read as leaving because an item says someone "is no longer with" a ministry);
    only its first 4,000 characters are read, where responders put their notice.
    `not_contacts` are addresses never offered as the new contact (the sender's own), nor any
    address at `not_domain` (ours: a responder that quotes our reply address).
    """
    head = text[:4000]
    found = _phrase(normalise(head))
    if found is not None:
        return Departure(found.group(0).strip(), _contacts(head, not_contacts, not_domain))
    named = _named_leavings(head)
    if named:
        return Departure(named[0][0], _contacts(head, not_contacts, not_domain))
    return None


def _contacts(text: str, not_contacts: frozenset[str], not_domain: str) -> tuple[str, ...]:
    """The first three addresses `text` names, other than `not_contacts` and those at
    `not_domain`."""
    seen: dict[str, None] = {}
    skip = {a.lower() for a in not_contacts}
    ours = f"@{not_domain.lower()}" if not_domain else None
    for address in _ADDRESS.findall(text):
        address = address.strip(".'-").lower()
        if address not in skip and not (ours and address.endswith(ours)):
            seen.setdefault(address, None)
    return tuple(seen)[:3]


# Who a departure phrase is about, in a person's own message: the words just before it are the
# writer ("I", "ich", "je"…), or the phrase's verb is in the first person ("I am no longer with",
# "ya no trabajo", "me he jubilado"). "My colleague John is no longer with Acme" is neither.
_FIRST_PERSON_BEFORE = re.compile(
    r"\b(?:i|ich|je|j|ik|eu|io|yo)(?: (?:m|am|ve|have|bin|ben|suis|sono|estoy|soy))?"
    # "seit dem 1. Mai", "as of May", "now", "leider": when, not who
    r"(?: (?:(?:seit|since|as of|from|depuis|desde|dal|dall|sinds|ab)(?: \w+){1,3}|now|already"
    r"|just|recently|officially|unfortunately|leider|bereits|schon|jetzt|nun|deja|desormais|ya"
    r"|gia|inmiddels))* $"
)
_FIRST_PERSON_VERB = re.compile(
    r"^(?:am|ben|i m)\b|\b(?:me he|me jubile|me aposentei|ai pris ma|suis|trabajo|laboro|formo"
    r"|pertenezco|presto|lavoro|collaboro|faccio|sono|trabalho|colaboro|faco|werk)\b"
)
# Phrases about the address itself ("this mailbox is no longer monitored"): it is the writer's.
_MAILBOX = re.compile(
    r"^(?:mailbox|e ?mail|address|account|inbox|postfach|adresse|boite|buzon|cuenta|direccion)\b"
)


def find_own_departure(
    text: str,
    *,
    sender_name: str = "",
    not_contacts: frozenset[str] = frozenset(),
    not_domain: str = "",
) -> Departure | None:
    """The departure a person's own message announces ("I have left Acme", "Laura Roe no
    longer works at Acme. This mailbox is no longer monitored."), or None.

    Stricter than `find_departure`: a reader writes about the news and about colleagues too ("the
    minister is no longer with the cabinet", "my colleague John has left the firm"), so the
    phrase must be about the writer: in the first person, right after their own name
    (`sender_name`, the From display name), or about the mailbox the message comes from.
    `text` is the message's own text, not what it quotes."""
    # Addresses out first: "(ana@example.com) ya no trabaja" is not Rosa Example's departure.
    written = _ADDRESS.sub(" ", text[:4000])
    head = normalise(written)
    names = {w for w in normalise(sender_name).split() if len(w) >= 3}
    found_phrases = [
        (found.group(0).strip(), head[max(0, found.start() - 40) : found.start()])
        for found in _PHRASES.finditer(head)
    ]
    for phrase, before in [*found_phrases, *_named_leavings(written)]:
        before = before.rstrip() + " " if before.strip() else ""
        just_before = set(before.split()[-3:])
        if (
            _FIRST_PERSON_BEFORE.search(before)
            or _FIRST_PERSON_VERB.search(phrase)
            or names & just_before
            or _MAILBOX.search(phrase)
        ):
            return Departure(phrase, _contacts(text[:4000], not_contacts, not_domain))
    return None
