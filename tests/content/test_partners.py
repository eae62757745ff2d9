"""Partners: adding, matching by email without duplicates, slugs from names; the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.content.document import PartnerInfo
from mailer.content.errors import PartnerError
from mailer.content.models import Partner
from mailer.content.partners import add_partner, get_partner, list_partners, match_or_create
from mailer.errors import NotFound
from mailer.settings import Settings

FAUSTO = PartnerInfo(
    "Fausto Carbajal Glass",
    "fausto.carbajal@miranda-partners.com",
    "Partner",
    "Miranda Delphi Solutions",
    "him",
)


def partners(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Partner)) or 0


def test_add_and_find_a_partner(session: Session) -> None:
    added = add_partner(session, "ana", "  Ana  Lucía Ortega ", "Ana.Ortega@Example.COM", "Partner")
    session.commit()
    assert (added.slug, added.name, added.email, added.title) == (
        "ana",
        "Ana Lucía Ortega",
        "ana.ortega@example.com",
        "Partner",
    )
    assert get_partner(session, "ana").id == added.id
    assert get_partner(session, "ANA.ORTEGA@example.com").id == added.id
    assert [p.slug for p in list_partners(session)] == ["ana"]


@pytest.mark.parametrize(
    ("slug", "email", "message"),
    [
        ("ana", "other@example.com", "a partner with the slug 'ana' already exists "),
        ("ana2", "ANA@example.com", "ana@example.com already belongs to the partner 'ana' "),
        ("Ana Ortega", "x@example.com", "'Ana Ortega' is not a valid slug"),
        ("x", "not-an-email", "'not-an-email' is not a valid email address"),
    ],
)
def test_add_refuses_duplicates_and_bad_values(
    session: Session, slug: str, email: str, message: str
) -> None:
    add_partner(session, "ana", "Ana Ortega", "ana@example.com")
    session.commit()
    with pytest.raises(PartnerError) as info:
        add_partner(session, slug, "Someone", email)
    assert str(info.value).startswith(message)
    session.rollback()
    assert partners(session) == 1


def test_match_or_create_never_duplicates_a_partner(session: Session) -> None:
    created, was_created = match_or_create(session, FAUSTO)
    session.commit()
    assert was_created is True
    assert created.slug == "fausto-carbajal-glass"
    again, was_created = match_or_create(
        session, PartnerInfo("F. Carbajal", "FAUSTO.CARBAJAL@miranda-partners.com", "CEO")
    )
    session.commit()
    assert (was_created, again.id) == (False, created.id)
    assert (again.name, again.title, again.pronoun) == ("Fausto Carbajal Glass", "Partner", "him")
    assert partners(session) == 1


def test_match_fills_only_missing_fields(session: Session) -> None:
    add_partner(session, "fausto", "Fausto Carbajal Glass", FAUSTO.email)
    partner, created = match_or_create(session, FAUSTO)
    assert created is False
    assert (partner.slug, partner.title, partner.firm, partner.pronoun) == (
        "fausto",
        "Partner",
        "Miranda Delphi Solutions",
        "him",
    )


def test_slugs_from_names_are_ascii_and_unique(session: Session) -> None:
    first, _ = match_or_create(session, PartnerInfo("José Ñúñez", "jose@example.com"))
    second, _ = match_or_create(session, PartnerInfo("Jose Nunez", "other.jose@example.com"))
    assert (first.slug, second.slug) == ("jose-nunez", "jose-nunez-2")


def test_an_unknown_partner_is_not_found_with_what_to_do(session: Session) -> None:
    with pytest.raises(NotFound) as info:
        get_partner(session, "nobody")
    assert "see `mailer partner list`" in str(info.value)
    with pytest.raises(NotFound) as info:
        match_or_create(session, PartnerInfo(name="", email="who@example.com"))
    assert str(info.value) == (
        "no partner with the email who@example.com: add one with "
        "`mailer partner add SLUG --name NAME --email who@example.com`"
    )


def test_cli_partner_add_and_list(settings: Settings) -> None:
    runner = CliRunner()
    empty = runner.invoke(app, ["partner", "list"])
    assert empty.exit_code == 0
    assert empty.output.startswith("no partners yet")
    added = runner.invoke(
        app,
        [
            "partner",
            "add",
            "fausto",
            "--name",
            FAUSTO.name,
            "--email",
            FAUSTO.email,
            "--title",
            "Partner",
        ],
    )
    assert added.exit_code == 0, added.output
    assert added.output.strip() == f"added partner fausto: {FAUSTO.name} <{FAUSTO.email}>"
    listed = runner.invoke(app, ["partner", "list"])
    assert listed.output.splitlines() == [
        "SLUG    EMAIL                                 NAME",
        f"fausto  {FAUSTO.email}  Fausto Carbajal Glass, Partner",
    ]
    duplicate = runner.invoke(app, ["partner", "add", "f2", "--name", "F", "--email", FAUSTO.email])
    assert duplicate.exit_code == 1
    assert isinstance(duplicate.exception, PartnerError)
