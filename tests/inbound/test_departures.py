"""Departure notices (mailer/inbound/departures.py): an automatic reply saying the reader has left
their firm tags them `left-company` and is listed for an editor; an out-of-office never is."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.inbound.departures import find_departure, find_own_departure
from mailer.inbound.judgement import judge
from mailer.inbound.models import InboundKind, InboundMessage, InboundStatus
from mailer.settings import get_settings
from subscribers.lifecycle import get_subscriber
from tests.builders import Newsroom
from tests.inbound_support import (
    DOMAIN,
    InboundServer,
    address,
    delivery_of,
    reply,
    snapshot_campaign,
)
from tests.smtpd import SMTPServer
from tests.web.test_admin import signed_in

WHO = "jose.rivera1@example.org"
PARTNER = "fausto.carbajal@miranda-partners.com"

LEFT = [
    # (the notice, the contact it names or "")
    (
        "Thank you for your email. Jane Roe is no longer with Acme Corp. For any matter please "
        "contact John Doe at john.doe@acme.example.",
        "john.doe@acme.example",
    ),
    ("Please note that I have left the company. Kind regards, Jane", ""),
    (
        "I no longer work at Banco Ejemplo; my colleague ana@banco.example can help.",
        "ana@banco.example",
    ),
    (
        "This mailbox is no longer monitored. Write to info@acme.example instead.",
        "info@acme.example",
    ),
    (
        "Herr Müller ist nicht mehr für die Acme GmbH tätig. Bitte an info@acme.de.",
        "info@acme.de",
    ),
    ("Frau Schmidt hat das Unternehmen verlassen.", ""),
    ("Madame Dupont ne fait plus partie de la société depuis le 1er mars.", ""),
    ("M. Martin a quitté l’entreprise. Merci d’écrire à contact@societe.fr.", "contact@societe.fr"),
    ("El Sr. Pérez ya no trabaja en Seguridad Privada S.A.", ""),
    ("La Lic. Gómez ha dejado la empresa; escriba a recepcion@empresa.mx", "recepcion@empresa.mx"),
    ("Il dott. Rossi non lavora più presso la nostra società.", ""),
    ("O Sr. Silva não faz mais parte da equipe da Acme Brasil.", ""),
    ("Jan de Vries is niet meer werkzaam bij Acme B.V.", ""),
    (
        "I retired from Example Holdings on 31 March 2025 and this account will be closed "
        "shortly. For security matters please write to Ana Ruiz (ana.ruiz@example.net).",
        "ana.ruiz@example.net",
    ),
    (
        "This email account will soon be deactivated; please use info@acme.example.",
        "info@acme.example",
    ),
    (
        "Herr Weber ist in den Ruhestand gegangen. Bitte wenden Sie sich an info@acme.de.",
        "info@acme.de",
    ),
    ("M. Bernard a pris sa retraite le 1er avril.", ""),
    ("El Ing. Ramírez se ha jubilado; su sucesora es lucia@empresa.mx.", "lucia@empresa.mx"),
    ("La dott.ssa Bianchi è andata in pensione.", ""),
    ("O Sr. Costa se aposentou em março.", ""),
    ("Mevrouw Jansen is met pensioen.", ""),
    (
        "Olu Adeyemi has left Brightmoor Capital. Enquiries: desk@brightmoor.example",
        "desk@brightmoor.example",
    ),
    ("Please note that Sam Fields has now left Kestrel & Vane Ltd.", ""),
    ("Dr. Hale is no longer employed at Northfield Health.", ""),
    # Russian, Polish, Japanese, Chinese
    (
        "Сергей Петров больше не работает в нашей компании. Пишите на office@firma.ru",
        "office@firma.ru",
    ),
    ("Данный почтовый ящик больше не обслуживается.", ""),
    ("Pani Nowak nie pracuje już w firmie Acme.", ""),
    ("Pan Wiśniewski odszedł z firmy; kontakt: biuro@acme.pl", "biuro@acme.pl"),
    ("佐藤は3月末をもって退職いたしました。", ""),
    ("王经理已离职，请联系 office@acme.cn", "office@acme.cn"),
    ("此邮箱已停用。", ""),
]

AWAY = [
    "I am out of the office until 14 April with limited access to email.",
    "I have left the office for the day and will reply tomorrow.",
    "I will no longer be checking email until Monday 5 May.",
    "I am no longer at my desk today; urgent matters: +52 55 1234 5678.",
    "Ich bin bis zum 14. April nicht im Büro.",
    "Je suis absent du bureau jusqu'au 14 avril.",
    "Estoy fuera de la oficina hasta el 14 de abril.",
    "Thank you for your message, it has been received and will be answered shortly.",
    "I have left London on Monday for the summit and will reply when I am back.",
    "I left Madrid this morning; I will read email on 3 June.",
    "I have left you a voicemail about the Monterrey item.",
    "I have left the meeting early; back at my desk at 3pm.",
    "I left a comment on the shared draft for Friday.",
    "Я в отпуске до 14 апреля и не работаю с почтой.",
    "Jestem na urlopie do 14 kwietnia.",
    "4月14日まで不在にしております。",
    "我目前正在休假，4月14日返回。",
]


@pytest.mark.parametrize(("text", "contact"), LEFT, ids=[t[:30] for t, _ in LEFT])
def test_a_departure_is_found_with_whom_it_names(text: str, contact: str) -> None:
    found = find_departure(text, not_contacts=frozenset({"jane.roe@acme.example"}))
    assert found is not None
    assert found.contacts == ((contact,) if contact else ())


@pytest.mark.parametrize("text", AWAY, ids=[t[:30] for t in AWAY])
def test_an_absence_is_no_departure(text: str) -> None:
    assert find_departure(text) is None


def auto_reply(to: str, body: str, quoted: str = "") -> bytes:
    return reply(
        from_=f"José Rivera <{WHO}>",
        to=to,
        subject="Automatic reply: Security Chatter",
        body=body,
        quoted=quoted,
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
    )


# A reader's own message (no responder headers): the phrase must be about the writer.
OWN_LEFT = [
    # (the message, the From display name)
    (
        "Laura Hernández no longer works at Industrias del Bajío. This mailbox is no longer "
        "monitored. Please direct future correspondence to compras@example.mx.",
        "Laura Hernández",
    ),
    ("I'm no longer with Acme; please write to bob@acme.example from now on.", "Jane Roe"),
    ("Please note I have left the firm. Best, Jane", "Jane Roe"),
    ("I retired from the bank last month, thanks for the briefings over the years.", "Ed Moss"),
    ("Ya no trabajo en Grupo Ejemplo. Escriba a juan@grupo.example", "Ana Díaz"),
    ("Je ne travaille plus chez Total depuis mars.", "Luc Morel"),
    ("Ich bin nicht mehr bei der Allianz tätig.", "Hans Kurz"),
    (
        "ich bin seit dem 1. Mai nicht mehr bei der Rheinland Energie AG tätig. Bitte senden Sie "
        "den Newsletter künftig an meine neue Adresse.",
        "Klaus Weber",
    ),
    ("Ich habe die Rheinland Energie AG verlassen.", "Klaus Weber"),
    ("Je ne fais plus partie de Groupe Alpes depuis avril.", "Luc Morel"),
    ("As of May I no longer work at Acme.", "Jane Roe"),
    ("Heads-up: I have left Corbel Maritime; my new address is below.", "Rui Lopes"),
    ("I've officially left Tandem Bio as of last month.", "Nia Shaw"),
]
OWN_NOT = [
    ("My colleague John Smith has left the firm; please send the briefing to me instead.", ""),
    ("I see the minister is no longer with the cabinet: what does it mean for our risk?", ""),
    ("I think Ana is no longer with Pemex, can you confirm?", ""),
    ("Our CFO has retired; who will cover the Jalisco item now?", "Mary Roe"),
    ("Please note that John is no longer with us. Send it to mary@acme.example.", "Mary Roe"),
    ("They have left the company, so the contract lapsed.", "Mary Roe"),
    ("I am told John is no longer with Acme.", "Mary Roe"),
    ("Ich bin sicher, dass Hans nicht mehr bei der Allianz tätig ist.", "Klaus Weber"),
    ("Ich habe das Büro heute früher verlassen, rufen Sie mich morgen an.", "Klaus Weber"),
    # The sender's name is also their domain's: the address is not them.
    (
        "Dar de baja a mi asistente (asistente@example.com), ya no trabaja con nosotros.",
        "Rosa Example",
    ),
    ("Please drop jan@acme.example, who no longer works at Acme.", "Piet Acme"),
    ("My manager Tom has left Brightmoor Capital, so please copy me instead.", "Mary Roe"),
    ("I left a comment on the draft you sent.", "Mary Roe"),
]


@pytest.mark.parametrize(("text", "name"), OWN_LEFT, ids=[t[:30] for t, _ in OWN_LEFT])
def test_a_readers_own_departure_is_found(text: str, name: str) -> None:
    assert find_own_departure(text, sender_name=name) is not None


@pytest.mark.parametrize(("text", "name"), OWN_NOT, ids=[t[:30] for t, _ in OWN_NOT])
def test_someone_elses_departure_in_a_readers_message_is_not_theirs(text: str, name: str) -> None:
    assert find_own_departure(text, sender_name=name) is None


def test_the_judgement_reads_the_responders_words_not_the_issue_it_quotes() -> None:
    rcpt = f"reply+x@{DOMAIN}"
    left = judge(
        auto_reply(rcpt, "José Rivera is no longer with the Embassy. Contact ana@embassy.example."),
        mail_from=WHO,
        rcpt_to=rcpt,
        domain=DOMAIN,
    )
    assert left.kind == InboundKind.AUTO_REPLY and left.rule == "rfc3834:departure"
    assert left.departure is not None and left.departure.contacts == ("ana@embassy.example",)
    quoting = judge(
        auto_reply(
            rcpt,
            "I am out of the office until Monday.",
            quoted="The minister is no longer with the cabinet, sources say.",
        ),
        mail_from=WHO,
        rcpt_to=rcpt,
        domain=DOMAIN,
    )
    assert quoting.kind == InboundKind.AUTO_REPLY and quoting.departure is None


def test_a_departure_notice_tags_the_reader_and_is_listed_for_the_editor(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    rcpt = address("reply", delivery.id, get_settings())
    before = get_subscriber(session, WHO)
    assert before is not None
    statuses = [s.status for s in before.subscriptions]
    raw = auto_reply(
        rcpt, "José Rivera is no longer with the Embassy. Please write to ana@embassy.example."
    )
    server.send(WHO, [rcpt], raw)
    row = session.scalars(select(InboundMessage)).one()
    session.refresh(row)
    assert (row.kind, row.status) == (InboundKind.AUTO_REPLY, InboundStatus.DONE)
    assert row.outcome == (
        f"departure notice: {WHO} tagged left-company; the notice names ana@embassy.example"
    )
    subscriber = get_subscriber(session, WHO)
    assert subscriber is not None
    session.refresh(subscriber)
    assert "left-company" in subscriber.tags
    assert [s.status for s in subscriber.subscriptions] == statuses  # still subscribed
    assert relay.sink.to(PARTNER) == []  # an auto-reply is never forwarded

    with signed_in(session) as editor:
        page = editor.get("/admin/bounces")
    assert page.status_code == 200
    section = page.text.split("<h2>Departure notices</h2>", 1)[1].split("<h2>", 1)[0]
    assert "ana@embassy.example" in section
    assert f'href="/admin/subscribers/{subscriber.id}"' in section


def test_a_reader_writing_that_they_left_reaches_the_partner_and_is_tagged(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    """No responder headers: a person wrote it, so the partner reads it (and the successor it
    names), and the reader is tagged and listed as an auto-reply's notice would be."""
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    rcpt = address("reply", delivery.id, get_settings())
    raw = reply(
        from_=f"José Rivera <{WHO}>",
        to=rcpt,
        subject="RE: Security Chatter",
        body="José Rivera no longer works at the Embassy. This mailbox is no longer monitored. "
        "Please direct future correspondence to ana@embassy.example.",
        quoted="Security Chatter, 9 April 2025",
    )
    server.send(WHO, [rcpt], raw)
    row = session.scalars(select(InboundMessage)).one()
    session.refresh(row)
    assert (row.kind, row.status) == (InboundKind.INQUIRY, InboundStatus.DONE)
    assert row.outcome is not None
    assert row.outcome.startswith(
        f"departure notice: {WHO} tagged left-company; the notice names ana@embassy.example"
        " | then forwarded as inquiry #"
    ), row.outcome
    assert len(relay.sink.to(PARTNER)) == 1  # the partner reads it
    subscriber = get_subscriber(session, WHO)
    assert subscriber is not None
    session.refresh(subscriber)
    assert "left-company" in subscriber.tags
    with signed_in(session) as editor:
        page = editor.get("/admin/bounces")
    section = page.text.split("<h2>Departure notices</h2>", 1)[1].split("<h2>", 1)[0]
    assert "ana@embassy.example" in section


NOTICES = Path(__file__).parent.parent / "data" / "inbound"


@pytest.mark.parametrize(
    ("sample", "rule", "contact"),
    [
        # A responder: "Tomas Brennan has left Harbourline Logistics", the company by its name.
        ("auto-reply-has-left-named-company.eml", "rfc3834:departure", "a.kelly@"),
        # The reader's own reply: "I have left Solvance Analytics at the end of September".
        ("inquiry-own-departure-named-company.eml", "reply:departure", "priya.nair@fernway"),
    ],
)
def test_leaving_a_company_named_by_its_name_is_a_departure(
    sample: str, rule: str, contact: str
) -> None:
    raw = (NOTICES / sample).read_bytes().replace(b"TOKEN", b"x")
    raw = raw.replace(b"@localhost", f"@{DOMAIN}".encode())
    got = judge(raw, mail_from=None, rcpt_to=f"reply+x@{DOMAIN}", domain=DOMAIN)
    assert got.rule == rule and got.departure is not None, got.reason
    assert any(c.startswith(contact) for c in got.departure.contacts), got.departure


def test_our_own_addresses_are_never_offered_as_the_new_contact() -> None:
    """A responder that quotes our reply address before the colleagues it names: the contacts
    are the colleagues, up to three of them, never an address at our domain (the filter ran
    after the first three were taken, so ours could crowd a real contact out)."""
    text = (
        "Thank you for your message to reply+4-abcdefghijklmnop@news.example.com. "
        "Laura Roe has left the company. Please write to ops@acme.example, "
        "bounces+4-abcdefghijklmnop@news.example.com, sales@acme.example or ceo@acme.example."
    )
    left = find_departure(text, not_domain="news.example.com")
    assert left is not None
    assert left.contacts == ("ops@acme.example", "sales@acme.example", "ceo@acme.example")
    own = find_own_departure(
        "I have left the company; please contact help@NEWS.example.com or ops@acme.example.",
        not_domain="news.example.com",
    )
    assert own is not None and own.contacts == ("ops@acme.example",)
