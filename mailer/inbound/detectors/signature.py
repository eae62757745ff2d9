"""Where a reader's own words end: a "Sent from my …" line, a disclaimer, a signature block.

"Unsubscribe", then "Diego Sánchez | Director of Corporate Security", a phone number and
"CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential…" says one thing: the
rest is what the reader's phone, mail client or company adds to every message. The opt-out rule
(optout.py) reads only what comes before. Each cut is narrow, so that a reader's own words are
never taken for one:

- a device line is a short line that opens with a client's own wording, in the readers' languages
  ("Sent from my iPhone", "Gesendet von meinem iPhone", "Envoyé de mon iPhone", "Inviato da
  iPhone", "Verzonden vanaf mijn iPhone", "Enviado do meu iPhone", "Get Outlook for iOS",
  "Wysłane z iPhone'a", "Skickat från min iPhone", "Отправлено с iPhone", "iPhoneから送信",
  "发自我的iPhone");
- a disclaimer is a line after the reader's words that opens like one ("CONFIDENTIALITY
  NOTICE", "This e-mail…", "Ce message…", "Diese E-Mail…") and, from there on, speaks both of
  confidentiality and of the intended recipient;
- a company's legal footer is a line after the reader's words that states its regulator or its
  registration ("… Ltd is authorised and regulated by the Financial Conduct Authority",
  "Registered in England and Wales No. …", "Registered office: …", "Amtsgericht München HRB …"):
  boilerplate a firm's mail server adds under every message, like a disclaimer;
- in Japanese, Chinese and Russian mail, which has no capitals to tell a name by, a signature
  block is also what a separator line ("――――", "=====") or a company's legal name ("株式会社…",
  "…有限公司", "ООО «…»") opens, when no prose follows it;
- a signature block is the message's last lines, starting with a person's name after some words
  of the reader's, each line a name, a title, a company, an address, a phone number, an e-mail
  or web address: capitalised words and small connectors only, never a lower-case verb.

Pure: lines in (stripped, "" for a blank line), lines out.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mailer.inbound.message import normalise

# Matched on `normalise`d lines of at most eight words.
_DEVICE = re.compile(
    r"^(?:sent (?:from|with|via) |get outlook for |enviado (?:desde|do|de|pelo|con) |"
    r"obtener outlook para |envoye (?:de|depuis|a partir de|avec) |obtenir outlook pour |"
    r"telecharger outlook pour |gesendet (?:von|mit) |von meinem \w+ gesendet|outlook fur \w+ "
    r"(?:beziehen|herunterladen)|inviato da |ottieni outlook per |scarica outlook per |"
    r"verzonden (?:vanaf|met|via) |verstuurd (?:vanaf|met|via) |outlook voor \w+ downloaden|"
    r"baixe o outlook|baixar o outlook|obter o outlook|"
    # Polish, Swedish, Russian, Japanese ("iPhoneから送信"), Chinese ("发自我的iPhone")
    r"wysłane z |wysłano z |skickat fran |отправлено (?:с|из) |[\w ]{1,30}から送信$|"
    r"(?:发自|發自)我的|(?:从|從)我的.{1,30}(?:发送|發送|傳送)$)"
)

_DISCLAIMER_START = re.compile(
    r"^(?:confidential|privileged|disclaimer|legal notice|important notice|notice|"
    r"this (?:e ?mail|email|message|communication|transmission)|"
    r"the (?:information|contents?) (?:contained )?in this|if you (?:are not|have received)|"
    r"aviso|confidencialidad|este (?:correo|mensaje)|la informacion|"
    r"avis|confidentialit|ce (?:message|courriel|mail|e ?mail)|les informations|"
    r"vertraulich|diese (?:e ?mail|nachricht|mail)|diese informationen|haftungsausschluss|"
    r"(?:wichtiger )?hinweis|esta (?:mensagem|e ?mail)|a informacao|as informacoes|"
    r"questo (?:messaggio|e ?mail|mail)|le informazioni|avviso|riservat|"
    r"deze (?:e ?mail|email|mail|boodschap|bericht)|de informatie|vertrouwelijk)"
)
_SECRET = re.compile(
    r"\b(?:confidential|privileged|vertraulich|confiden|riservat|vertrouwelijk|sigilos|"
    r"privilegiad|privilegi)"
)
_ADDRESSEE = re.compile(
    r"\b(?:intended|recipient|addressee|destinatari|destinataire|empfanger|adressat|"
    r"geadresseerde|bestemd|ontvanger)"
)

# A company's regulatory or registration statement, matched anywhere in a `normalise`d line (it
# opens with the company's name): what only a firm's legal footer says.
_LEGAL_FOOTER = re.compile(
    r"\bauthori[sz]ed and regulated by\b|\bauthori[sz]ed by the (?:prudential regulation|"
    r"financial conduct|solicitors regulation)|\bregulated by the (?:financial conduct authority|"
    r"prudential regulation authority|solicitors regulation authority|central bank of ireland)|"
    r"\bregistered in (?:england and wales|(?:england|scotland|wales|northern ireland|ireland)"
    r"(?: under)?(?: company)? (?:no|number|with|as)\b)|"
    r"\bregistered office\b|\b(?:company|firm) (?:registration |reference )?(?:number|no) \d|"
    r"\bregistered (?:company )?(?:number|no) \d|\bvat (?:registration )?(?:number|no) \w*\d|"
    r"\bfrn \d|\bamtsgericht \w+ hrb\b|\bregistergericht\b|\bsitz der gesellschaft\b|"
    r"\brcs \w+ [a-z]? ?\d{3}|\bkvk(?:[ -]nummer)? \d"
)

_SEPARATOR = re.compile(r"\s*(?:\||•|·|,|;|–|—|\s-\s|\t)\s*")
_PHONE = re.compile(
    r"^(?:[A-Za-zéóö.]{1,10}\.?\s*:?\s*)?\+?\(?\d[\d\s().\/-]{5,}\d(?:\s*(?:ext|x)\.?\s*\d+)?$"
)
_EMAIL = re.compile(r"^(?:[A-Za-z-]{1,8}\s*:\s*)?<?[\w.+'-]+@[\w-]+(?:\.[\w-]+)+>?$")
_WEB = re.compile(
    r"^(?:[A-Za-z]{1,10}\s*:\s*)?(?:https?://|www\.)\S+$|^[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?:/\S*)?$"
)
# Small words a title, company or name has in lower case: "Head of Risk", "Jan de Vries".
_CONNECTORS = frozenset(
    {"of", "and", "the", "for", "at", "in", "a", "à", "&", "de", "del", "la", "las", "los", "el"}
    | {"y", "e", "et", "du", "des", "le", "les", "und", "für", "fur", "der", "die", "das", "von"}
    | {"van", "den", "di", "da", "do", "dos", "della", "delle", "en", "voor", "het", "al", "zu"}
    | {"im", "am"}
)
_HONORIFIC = re.compile(
    r"^(?:dr|mr|mrs|ms|prof|ing|lic|mag|dipl|ir|drs|mtro|mtra|sr|sra|herr|frau|mme|m)\.?$", re.I
)


# A line that only separates a signature ("-----", "=====", "――――", "━━━━", "*****"), and a
# company's name by its legal form ("株式会社…", "…有限公司", "ООО «…»"), where a signature block
# opens in Japanese, Chinese and Russian mail (no capitals there to tell a name by).
_SEPARATOR_LINE = re.compile(r"^[-=*_~#\u2010-\u2015\u2500-\u257f\u30fc\uff0d\uff1d]{4,}$")
_COMPANY_FORM = re.compile(
    r"株式会社|有限会社|合同会社|有限公司|股份公司|集团|集團|事務所|事务所"
    r"|(?:^|\s)(?:ООО|АО|ПАО|ЗАО|ОАО)\s"
)
# The reader's prose: a question or exclamation, a sentence's end, or three lower-case words in a
# row (a signature's title has capitals, or is one or two words).
_PROSE = re.compile(r"[?？!！。]|[a-zа-яё]{2,}\s+[a-zа-яё]{2,}\s+[a-zа-яё]{2,}")


def is_device_line(line: str) -> bool:
    """Whether the line is a phone's or mail client's "Sent from my …" footer."""
    said = normalise(line)
    return len(said.split()) <= 8 and bool(_DEVICE.match(said))


def without_disclaimer(lines: list[str]) -> list[str]:
    """The lines before a confidentiality disclaimer or a company's legal footer (all of them
    when there is neither)."""
    for i, line in enumerate(lines):
        if not line or not any(lines[:i]):
            continue
        said = normalise(line)
        if _LEGAL_FOOTER.search(said):
            return lines[:i]
        if not _DISCLAIMER_START.match(said):
            continue
        rest = normalise(" ".join(lines[i:]))
        if _SECRET.search(rest) and _ADDRESSEE.search(rest):
            return lines[:i]
    return lines


def _capitalised(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit()


def _names_a_person(part: str) -> bool:
    """Whether the text is a name as a signature gives it: "Diego Sánchez", "Dr. Hans Müller"."""
    words = part.split()
    if _HONORIFIC.match(words[0] if words else ""):
        words = words[1:]
    return (
        0 < len(words) <= 4
        and words[0][:1].isupper()
        and any(c.islower() for c in words[0])
        and all(w[:1].isupper() or w.lower() in _CONNECTORS for w in words)
        and not any(c.isdigit() for c in part)
    )


def _titled(part: str) -> bool:
    """A title, company or address: "Director of Corporate Security", "Grupo Ejemplo S.A.B."."""
    words = part.split()
    return (
        0 < len(words) <= 7
        and any(w[:1].isupper() for w in words)
        and all(_capitalised(w) or w.lower() in _CONNECTORS or not w[:1].isalnum() for w in words)
    )


def _signature_line(line: str) -> bool:
    parts = [p for p in _SEPARATOR.split(line) if p.strip()]
    return bool(parts) and all(
        _PHONE.match(p) or _EMAIL.match(p) or _WEB.match(p) or _titled(p) for p in parts
    )


def without_signature(lines: list[str], own_words: Callable[[str], bool]) -> list[str]:
    """The lines before the signature block that ends the message. A line for which
    `own_words` is true (the reader's request, a greeting) never starts one."""
    start = len(lines)
    while start > 0 and (not lines[start - 1] or _signature_line(lines[start - 1])):
        start -= 1
    for i in range(max(start, 1), len(lines)):
        first = _SEPARATOR.split(lines[i])[0]
        if lines[i] and _names_a_person(first) and not own_words(lines[i]) and any(lines[:i]):
            return lines[:i]
    return lines


def _opens_block(line: str) -> bool:
    return bool(_SEPARATOR_LINE.match(line) or _COMPANY_FORM.search(line))


def without_marked_signature(lines: list[str]) -> list[str]:
    """The lines before a signature block that a separator line or a company's legal name opens,
    when everything from there on is a signature's (no prose: no question, no sentence); all of
    them when there is none. Only after some of the reader's words."""
    for i, line in enumerate(lines):
        if not line or not any(lines[:i]) or not _opens_block(line):
            continue
        rest = [r for r in lines[i + 1 :] if r]
        if not any(_PROSE.search(r) and not _signature_line(r) for r in rest):
            return lines[:i]
    return lines
