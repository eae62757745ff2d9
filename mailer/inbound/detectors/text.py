"""Non-standard bounces written for people: the failed address and the error near it.

Most mail systems that do not send RFC 3464 reports (qmail, Exim, old Sendmail, Exchange, Domino,
many appliances) still write the failed address on a line of its own or beside the error, before a
copy of the original message. This detector reads only the notice (the text before the copy of the
original), keeps the addresses that are not the sender's nor a mail system's, and prefers those on
or next to a line with an error (a status code, a reply code, an error phrase). The diagnostic is
the text around the address, judged by sending/reasons.py.

It runs only on messages that look like a bounce (see the pipeline), after the family detectors.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from mailer.inbound.detectors.base import (
    DAEMON,
    Failure,
    Mail,
    Verdict,
    addresses_in,
    embedded_headers,
    failure,
)
from mailer.inbound.models import InboundKind
from mailer.sending import reasons

# Where the copy of the original message starts in a plain-text bounce.
ORIGINAL_STARTS = re.compile(
    # The leading run read once: the first "---" in it (atomic), or all of it (possessive); a
    # line of dashes was otherwise split every way between its runs (cubic time).
    r"^(?:(?>[ \t>|-]*?---).*(?:original message|returned message|message text|unsent message"
    r"|message headers"
    r"|mensaje original|message d'origine|copy of (?:the|your) message|headers of)"
    r"|[ \t>|-]*+(?:"
    r".*(?:below this line is a copy of the message|this is a copy of the message"
    r"|original message (?:follows|headers|is attached)"
    r"|the original message (?:was|is) (?:attached|included|below|as follows)"
    r"|message (?:header|headers) follows?|unsent message below|returned mail contents"
    r"|the headers of (?:the|your) message|following is a copy of the original"
    r"|your message reads \(in part\))"
    r"|original message:?\s*$"
    r"|received: from .*"
    r"|return-path: .*"
    r"))",
    re.I | re.M,
)
ERROR_WORDS = re.compile(
    r"\b[45]\d\d\b|[45]\.\d{1,3}\.\d{1,3}|unknown|not exist|no such|invalid|rejected|refused|"
    r"full|quota|denied|failed|failure|error|undeliverable|unable|could(?: not|n't)|cannot|can't|"
    r"blocked|"
    r"disabled|suspended|expired|not found|unavailable|timed out|no mailbox|unrouteable|"
    r"did not (?:receive|reach)|not delivered|malformed|incorrectly|syntax|"
    r"desconocido|no existe|rechazad|fall[oó]|no encontrad|no se pudo|lleno|"
    r"nicht (?:gefunden|zugestellt|zustellbar|erreicht|vorhanden)|unzustellbar|unbekannt|voll\b|"
    r"inexistant|introuvable|inconnu|non remis|pleine|inesistente|sconosciut|"
    r"n[aã]o (?:existe|encontrad)|cheia|не существует|не найден|"
    # Exchange's notices in Dutch, Italian and Portuguese: "kan niet worden bezorgd", "wordt
    # niet gevonden", "Onbekend Aan-adres"; "non è stato possibile recapitare"; "não foi entregue"
    r"niet (?:worden )?bezorgd|niet gevonden|onbekend|bestaat niet|onbestelbaar|"
    r"non (?:è stato possibile )?recapitat|non (?:è stato )?trovat|"
    r"n[aã]o (?:p[oô]de ser |foi )?entregue",
    re.I,
)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (?:status )?notification|delivery (?:has )?failed|"
    r"delivery failure|failure notice|returned mail|mail delivery|non[- ]?delivery|"
    r"could not be delivered|delivery problem|not delivered|mail system error|"
    r"warning: could not send|delayed mail|delivery delayed|message (?:was )?not delivered|"
    r"rejected|bounced?|mensaje no entregado|no se pudo entregar|error de entrega|"
    r"unzustellbar|non remis|failed mail|delivery report|mail failure|nondeliverable|"
    # Exchange's "Undeliverable:" in Spanish, Italian, Portuguese and Dutch
    r"no se puede entregar|non recapitabile|n[aã]o [eé] poss[ií]vel entregar|onbestelbaar|"
    r"エラー|不達|送信できません",
    re.I,
)


# A mail system's receipt that the message *was* delivered or relayed (Exchange's "Delivered:" and
# "Relayed:" notices, "successfully delivered"): addresses listed there did not fail.
DELIVERED_WORDS = re.compile(
    r"(?:has|have|was|were) been delivered to|was delivered to the following|"
    r"delivery to (?:these|the following) recipients(?: or groups)? (?:is|was) complete|"
    r"(?:was|were|has been) (?:successfully )?relayed|successfully delivered|"
    r"delivered successfully",
    re.I,
)


def notice_text(mail: Mail) -> str:
    """The notice without the copy of the original that usually follows it."""
    text = mail.text
    match = ORIGINAL_STARTS.search(text)
    if match and match.start() > 0:
        text = text[: match.start()]
    return text


def excluded_addresses(mail: Mail) -> set[str]:
    """Addresses that are never the failed recipient: the sender, the notice's To, daemons."""
    out = set(addresses_in(mail.from_text)) | set(addresses_in(str(mail.msg.get("To", "") or "")))
    if mail.mail_from:
        out.add(mail.mail_from.strip("<>").lower())
    for head in embedded_headers(mail.msg):
        for name in ("From", "Return-Path", "Sender", "Reply-To"):
            out |= set(addresses_in(str(head.get(name, "") or "")))
    return out


# A line that starts another recipient's or another host's report in Sendmail's notices:
# "550 example.org (smtp)... 550 Host unknown", "While talking to mx.example.org:".
_NEXT_HOST = re.compile(r"^\s*(?:\d{3}\s+[^\s@<>]+\s+\([\w-]+\)\.\.\.|while talking to\b)", re.I)


def _window(lines: list[str], i: int, size: int = 5) -> str:
    """The address's line and the next non-blank ones, up to the next recipient's or host's."""
    out = [lines[i].strip()]
    for line in lines[i + 1 :]:
        if len(out) >= size:
            break
        if not line.strip():
            continue
        others = [a for a in addresses_in(line) if a not in lines[i].lower()]
        if others and re.match(r"^\s*(?:\d{3}\s+)?<?[^\s@<>]+@", line):
            break  # the next recipient's block starts
        if _NEXT_HOST.match(line):
            break
        out.append(line.strip())
    return " ".join(out)


# A remote server's answer in a mention's window: an RFC 3463 status or an SMTP reply code.
_CODED = re.compile(
    r"(?<![\d.])[245]\.\d{1,3}\.\d{1,3}(?![\d.]*\d)|(?<![\w.:/-])[45][0-5]\d(?=[ -][^\d])"
)


def _better(new: tuple[int, str], old: tuple[int, str] | None) -> tuple[int, str]:
    """Of two mentions of one address, the one whose window carries the server's answer (a
    status or reply code), else the higher score; the address keeps the higher score either way.

    Exchange names each recipient twice: with a sentence for people ("L'adresse … est
    introuvable") and again under the diagnostic for administrators with the remote server's
    "550 5.1.1 …"; the coded mention says what happened, whichever comes first."""
    if old is None:
        return new
    score = max(new[0], old[0])
    new_coded, old_coded = bool(_CODED.search(new[1])), bool(_CODED.search(old[1]))
    if new_coded != old_coded:
        return (score, new[1] if new_coded else old[1])
    return (score, new[1] if new[0] > old[0] else old[1])


# Exim's notice to an errors address other than the sender: "A message sent by\n\n  <sender>\n\n
# could not be delivered…" names who wrote the message on the line after.
_SENT_BY = re.compile(r"\b(?:message )?sent by:?\s*$", re.I)


def _introduced_as_sender(lines: list[str], i: int) -> bool:
    """Whether the nearest non-blank line above line `i` ends "sent by": the sender follows."""
    above = next((line for line in reversed(lines[max(0, i - 3) : i]) if line.strip()), "")
    return bool(_SENT_BY.search(above))


# Address mentions a notice is read for: a real one names a few recipients (a list's, a few
# hundred); 100,000 characters of addresses took seconds to score, each one's window read.
MAX_MENTIONS = 500


def _mentions(lines: list[str]) -> Iterator[tuple[int, str, str]]:
    """(line number, line, address) of the first MAX_MENTIONS address mentions."""
    pairs = ((i, line, addr) for i, line in enumerate(lines) for addr in addresses_in(line))
    return itertools.islice(pairs, MAX_MENTIONS)


def _candidates(text: str, excluded: set[str], domain: str) -> list[tuple[int, str, str, str]]:
    """(score, address, window, expanded from) of each address that may be a failed recipient,
    best first: the window of its mention that says most (`_better`), and the address any of
    its mentions says it was expanded from."""
    lines = text.splitlines()
    found: dict[str, tuple[int, str]] = {}
    origins: dict[str, str] = {}
    for i, line, addr in _mentions(lines):
        local = addr.split("@", 1)[0]
        if addr in excluded or addr.endswith("@" + domain):
            continue
        if re.match(
            r"^\s*(?:message-id|references|in-reply-to|received|by|id|to|cc|from|sent)\b",
            line,
            re.I,
        ):
            continue
        start = i - 1 if i and addr in lines[i - 1].lower() else i  # a wrapped line
        window = _window(lines, start)
        score = 1
        if ERROR_WORDS.search(line):
            score += 2
        elif ERROR_WORDS.search(window):
            score += 1
        if re.match(rf"^\s*<?{re.escape(addr)}>?\s*:?\s*(?:\.\.\.|$|\()", line, re.I):
            score += 2
        if re.search(
            rf"rcpt to:?\s*<?{re.escape(addr)}|delivered to:?\s*<?{re.escape(addr)}", line, re.I
        ):
            score += 2
        if DAEMON.match(local):
            score -= 1  # "please reply to postmaster@…", rarely the failed address
        if re.search(
            rf"(?:\bfrom|\bsender|\breply-to|\bsent by)\s*:?\s*<?{re.escape(addr)}", line, re.I
        ) or _introduced_as_sender(lines, i):
            continue
        found[addr] = _better((score, window), found.get(addr))
        origins[addr] = origins.get(addr) or expanded_from(addr, window)
    return sorted(((s, a, w, origins[a]) for a, (s, w) in found.items()), key=lambda t: -t[0])


def expanded_from(addr: str, window: str) -> str:
    """The address `addr` was expanded from, when the notice says so right after it: Postfix's
    and Sendmail's "<final> (expanded from <alias>)" ("(expanded from: alias)"), Exim's "final
    generated by alias" and, on the line below, "(ultimately generated from alias)". A bare local
    part stays as written (an alias of the reporting host)."""
    match = re.search(
        rf"{re.escape(addr)}>?\s*(?:\((?:expanded|(?:ultimately )?generated) from:?\s*"
        rf"<?([^\s<>()]+?)>?\s*\)|generated by\s+<?([^\s<>()]+?)>?(?:\s|$))",
        window,
        re.I,
    )
    return (match.group(1) or match.group(2) or "").rstrip(".:,;") if match else ""


def original_recipients(mail: Mail) -> list[str]:
    """The To of the original message the bounce carries (attached, or quoted after the notice)."""
    for head in embedded_headers(mail.msg):
        found = addresses_in(str(head.get("To", "") or ""))
        if found:
            return found
    match = ORIGINAL_STARTS.search(mail.text)
    if match:
        to = re.search(r"^To:[ \t]*(.+)$", mail.text[match.start() :], re.I | re.M)
        if to:
            return addresses_in(to.group(1))
    return []


def returned_reader(mail: Mail) -> str:
    """The reader the bounced message was for, when the bounce returns our message's headers
    (attached, or quoted after the notice): we send one message per reader, To: them. Ours:
    our Message-ID or our bounces+ return path at the mail domain. "" when not known."""
    texts = ["\n".join(f"{k}: {v}" for k, v in head.items()) for head in embedded_headers(mail.msg)]
    match = ORIGINAL_STARTS.search(mail.text)
    if match:
        texts.append(mail.text[match.start() :])
    domain = re.escape(mail.domain)
    ours = re.compile(
        rf"^(?:message-id:\s*<c\d+\.d\d+\.[a-z2-7]+@{domain}>|"
        rf"return-path:\s*<?bounces\+[0-9a-z-]+@{domain}>?)\s*$",
        re.I | re.M,
    )
    for text in texts:
        to = re.search(r"^To:[ \t]*(.+)$", text, re.I | re.M)
        if to and ours.search(text):
            found = addresses_in(to.group(1))
            return found[0] if len(found) == 1 else ""
    return ""


def _coded_line(text: str) -> str:
    """The notice's line that carries the server's reply ("Reported error: 550 5.1.10 …")."""
    coded = [line.strip() for line in text.splitlines() if _CODED.search(line)]
    return max(coded, key=len) if coded else ""


def failures(mail: Mail) -> list[Failure]:
    text = notice_text(mail)
    ranked = _candidates(text, excluded_addresses(mail), mail.domain)
    delayed = is_delay_notice(mail, text)
    if (
        not ranked
        and (ERROR_WORDS.search(text) or delayed)
        and (mail.from_daemon or mail.null_sender)
    ):
        # The notice names no address (old Sendmail, some appliances): the original's recipient.
        originals = [a for a in original_recipients(mail) if not a.endswith("@" + mail.domain)]
        action = "delayed" if delayed else "failed"
        status = reasons.find_status(text)
        if len(originals) == 1:
            return [failure(originals[0], status, text.strip()[-600:], action)]
    if not ranked:
        return []
    top = ranked[0][0]
    if top < 2:
        return []
    out = []
    kept = [r for r in ranked if r[0] >= max(top - 1, 2)]
    for _score, addr, window, original in kept:
        # A window without an error word borrows the notice's text only when the notice is about
        # this one address: with several, the rest of the text is the other recipients' errors.
        diagnostic = window if ERROR_WORDS.search(window) or len(kept) > 1 else text[:600]
        status = reasons.find_status(window)
        if not status and len(kept) == 1:
            # One failed address: the notice's code is about it, wherever the notice puts it
            # (Exchange's "Status code: 550 5.1.10" comes a dozen lines below the address).
            status = reasons.find_status(text)
            coded = _coded_line(text) if status else ""
            if coded and coded not in diagnostic:
                diagnostic = f"{diagnostic} {coded}"
        command = reasons.smtp_command(window) or reasons.smtp_command(text)
        action = "delayed" if delayed else "failed"
        out.append(
            failure(addr, status, diagnostic, action, original, command=command, notice=text)
        )
    return out


# A warning that the relay is still trying, not a failure: Sendmail's "Warning: could not send
# message for past 4 hours" and "THIS IS A WARNING MESSAGE ONLY", Exim's "has not yet been
# delivered", Exchange's "Delivery is delayed", Gmail's and appliances' "will retry".
_DELAY_SUBJECT = re.compile(
    r"delay|will (?:continue|keep) trying|still (?:trying|being retried)|"
    r"warning: could not send|could not send message for past",
    re.I,
)
_DELAY_NOTICE = re.compile(
    r"this is a warning (?:message )?only|you do not need to resend your message|"
    r"delivery (?:is|has been) delayed|has not yet been delivered|"
    r"will (?:continue|keep) (?:trying|to try)|still being retried|"
    # "… will retry for 47 more hours", "delivery will be retried", "not been delivered yet",
    # "will try to deliver it again"
    r"will (?:be )?retr(?:y|ied)\b|"
    r"not been delivered yet|will (?:try|attempt) (?:to deliver (?:it|the message) )?again",
    re.I,
)


def readers_own_failure(mail: Mail) -> Failure:
    """A mail system's notice at our return path that no detector could read: the failure of the
    delivery the VERP token names (the reader's own, `recipient` ""), judged on the notice's
    words: "550 5.1.1 User unknown" is their dead mailbox, "mailbox full" soft, a warning that
    the relay keeps trying a delay. Words that say nothing known: soft, reason `other`."""
    text = notice_text(mail)
    delayed = is_delay_notice(mail, text)
    if not (ERROR_WORDS.search(text) or delayed):
        return failure("", "", "", "", reason=reasons.Reason.OTHER)
    action = "delayed" if delayed else "failed"
    status = reasons.find_status(text)
    return failure("", status, text.strip()[-600:], action, notice=text)


def is_delay_notice(mail: Mail, notice: str) -> bool:
    """The notice says the relay is still trying (a warning), not that delivery failed."""
    return bool(_DELAY_SUBJECT.search(mail.subject) or _DELAY_NOTICE.search(notice))


def detect(mail: Mail) -> Verdict | None:
    notice = notice_text(mail)
    if DELIVERED_WORDS.search(notice) and not ERROR_WORDS.search(notice):
        return Verdict(
            InboundKind.DELIVERED, "text", "a mail system's notice that the message was delivered"
        )
    found = failures(mail)
    if not found:
        return None
    return Verdict(
        InboundKind.BOUNCE,
        "text",
        f"bounce notice: {found[0].status or 'no code'} {found[0].reason} for {found[0].recipient}",
        tuple(found),
    )
