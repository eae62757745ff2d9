"""Exports of the tools clients move from, as those tools write them, import as a user expects."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.settings import Settings
from subscribers.importing import import_csv
from subscribers.models import MailingList, Subscriber, Subscription, SubscriptionStatus

ACTIVE, UNSUBSCRIBED = SubscriptionStatus.ACTIVE, SubscriptionStatus.UNSUBSCRIBED

# (tool, the file's bytes, {email: (name, company, tags, list status)})
EXPORTS = [
    pytest.param(
        '"Email Address","First Name","Last Name","Address","Phone Number","MEMBER_RATING",'
        '"OPTIN_TIME","OPTIN_IP","CONFIRM_TIME","CONFIRM_IP","LATITUDE","LONGITUDE","GMTOFF",'
        '"DSTOFF","TIMEZONE","CC","REGION","LAST_CHANGED","LEID","EUID","NOTES","TAGS"\r\n'
        '"ana@example.org","Ana","López","","+52 55 1234","2","2024-01-02 10:00:00",'
        '"","2024-01-02 10:01:00","","19.4","-99.1","-6","-6","America/Mexico_City","MX",'
        '"CMX","2024-02-01 09:00:00","12345","abc123","","""client"",""press"""\r\n'.encode(),
        {"ana@example.org": ("Ana López", "", ["client", "press"], ACTIVE)},
        id="mailchimp",
    ),
    pytest.param(
        b"email,active_subscription,expiry,plan,email_disabled,created_at,first_payment_at\n"
        b"ana@example.org,false,,other,false,2024-01-02T10:00:00.000Z,\n"
        b"bea@example.org,true,2025-01-02T10:00:00.000Z,yearly,true,2023-05-02T10:00:00.000Z,"
        b"2023-05-02T10:00:00.000Z\n",
        {
            "ana@example.org": ("", "", [], ACTIVE),
            "bea@example.org": ("", "", [], UNSUBSCRIBED),
        },
        id="substack",
    ),
    pytest.param(
        b"id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,"
        b"created_at,deleted_at,labels,tiers\n"
        b"6512,ana@example.org,Ana L\xc3\xb3pez,,true,false,,2024-01-02T10:00:00.000Z,,"
        b'"client,Mexico",Free\n'
        b"6513,bea@example.org,Bea,,false,false,,2024-01-02T10:00:00.000Z,,,Free\n",
        {
            "ana@example.org": ("Ana López", "", ["client", "Mexico"], ACTIVE),
            "bea@example.org": ("Bea", "", [], UNSUBSCRIBED),
        },
        id="ghost",
    ),
    pytest.param(
        b"EMAIL;FIRSTNAME;LASTNAME;SMS;DOUBLE_OPT-IN\n"
        b"ana@example.org;Ana;L\xc3\xb3pez;+5255123;Yes\n",
        {"ana@example.org": ("Ana López", "", [], ACTIVE)},
        id="brevo",
    ),
    pytest.param(
        b"first_name,email_address,created_at,state\n"
        b"Ana,ana@example.org,2024-01-02 10:00:00 UTC,active\n",
        {"ana@example.org": ("Ana", "", [], ACTIVE)},
        id="convertkit",
    ),
    pytest.param(
        b"uuid,email,name,attributes,status,created_at,updated_at\n"
        b'5e1c,ana@example.org,Ana,"{""city"": ""Madrid""}",enabled,2024-01-02,2024-01-02\n',
        {"ana@example.org": ("Ana", "", [], ACTIVE)},
        id="listmonk",
    ),
    pytest.param(
        b'"Record ID","First Name","Last Name","Email","Company Name","Lifecycle Stage",'
        b'"Create Date"\n'
        b'"101","Ana","L\xc3\xb3pez","ana@example.org","Pemex","Lead","2024-01-02 10:00"\n',
        {"ana@example.org": ("Ana López", "Pemex", [], ACTIVE)},
        id="hubspot",
    ),
    pytest.param(
        "\ufeffNombre;Apellidos;Correo electrónico;Empresa;Importe\r\n"
        "Ana;López García;ana@example.org;Pemex, S.A.;1.234,50\r\n".encode(),
        {"ana@example.org": ("Ana López García", "Pemex, S.A.", [], ACTIVE)},
        id="excel-csv-utf8-semicolon",
    ),
    pytest.param(
        "\ufeffE-Mail;Vorname;Nachname;Firma;Sprache\r\n"
        "juergen@example.de;Jürgen;Groß;Müller GmbH;de\r\n".encode(),
        {"juergen@example.de": ("Jürgen Groß", "Müller GmbH", [], ACTIVE)},
        id="excel-german",
    ),
    pytest.param(
        "EMAIL;PRENOM;NOM;SOCIETE\nzoe@example.fr;Zoé;Dupont;Société Générale\n".encode(),
        {"zoe@example.fr": ("Zoé Dupont", "Société Générale", [], ACTIVE)},
        id="brevo-french",
    ),
    pytest.param(
        b"email\tname\tcompany\ttags\nana@example.org\tAna L\xc3\xb3pez\tAcme, Inc.\tclient\n",
        {"ana@example.org": ("Ana López", "Acme, Inc.", ["client"], ACTIVE)},
        id="tsv",
    ),
]


@pytest.mark.parametrize(("content", "expected"), EXPORTS)
def test_a_tools_export_imports_its_people_with_their_details_and_status(
    session: Session,
    weekly: MailingList,
    settings: Settings,
    tmp_path: Path,
    content: bytes,
    expected: dict[str, tuple[str, str, list[str], SubscriptionStatus]],
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    report = import_csv(session, weekly, path, settings.secret())
    session.commit()
    assert report.problems == [] and report.value_notes == []
    for email, (name, company, tags, status) in expected.items():
        person = session.scalar(select(Subscriber).where(Subscriber.email == email))
        assert person is not None, email
        assert (person.name, person.company, sorted(person.tags)) == (name, company, sorted(tags))
        sub = session.scalar(
            select(Subscription).where(
                Subscription.subscriber_id == person.id, Subscription.list_id == weekly.id
            )
        )
        assert sub is not None and sub.status == status, email


def test_a_subscribed_flag_that_is_not_true_or_false_names_row_and_column(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "members.csv"
    path.write_bytes(
        b"email,name,subscribed_to_emails\nana@example.org,Ana,maybe\nbea@example.org,Bea,true\n"
    )
    report = import_csv(session, weekly, path, settings.secret())
    session.commit()
    assert report.imported == 1
    (problem,) = report.problems
    assert (problem.row, problem.line, problem.email) == (2, 2, "ana@example.org")
    assert (
        problem.reason == "column 3 ('subscribed_to_emails') holds 'maybe': expected true or false"
    )


def test_a_bad_value_names_its_row_line_and_column(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "clientes.csv"
    path.write_bytes(
        "Correo electrónico;Nombre;Idioma\r\nana@example.org;Ana;es\r\n"
        "bea(at)example.org;Bea;es\r\ncai@example.org;Cai;klingon\r\n".encode()
    )
    report = import_csv(session, weekly, path, settings.secret())
    session.commit()
    assert report.imported == 1
    assert [(p.row, p.line, p.column) for p in report.problems] == [
        (3, 3, "column 1 ('Correo electrónico')"),
        (4, 4, "column 3 ('Idioma')"),
    ]
    assert report.problems[1].reason.startswith("unknown language 'klingon'")


def test_statuses_other_tools_write_are_read_and_a_bounced_reader_is_suppressed(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "kit.csv"
    path.write_bytes(
        b"email_address,first_name,status\n"
        b"ana@example.org,Ana,active\nbea@example.org,Bea,cancelled\n"
        b"cai@example.org,Cai,bounced\ndan@example.org,Dan,Baja\n"
    )
    report = import_csv(session, weekly, path, settings.secret())
    session.commit()
    assert report.problems == []
    assert (report.imported, report.suppressed, report.added_unsubscribed) == (1, 1, 2)
