"""Segment expressions: each field, precedence, errors with columns, hostile values, audiences,
saved segments and the `mailer segment` commands — on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from subscribers.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
    SegmentSyntaxError,
    SubscribersError,
)
from subscribers.models import (
    MailingList,
    Segment,
    Subscriber,
    SubscriberStatus,
    SubscriberTag,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from subscribers.segments import (
    And,
    Condition,
    Not,
    Or,
    count,
    create_segment,
    delete_segment,
    evaluate,
    get_segment,
    list_segments,
    matching_subscriber_ids,
    parse,
    resolve,
    unparse,
    update_segment,
)


def make_list(session: Session, slug: str = "weekly") -> MailingList:
    mailing_list = MailingList(slug=slug, name=slug.title())
    session.add(mailing_list)
    session.flush()
    return mailing_list


def add(
    session: Session,
    mailing_list: MailingList | None,
    email: str | None,
    *,
    name: str = "",
    company: str = "",
    language: str | None = None,
    tags: Iterable[str] = (),
    attributes: dict[str, Any] | None = None,
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    subscription: SubscriptionStatus = SubscriptionStatus.ACTIVE,
) -> Subscriber:
    subscriber = Subscriber(
        email=email,
        domain=email.rsplit("@", 1)[1] if email else None,
        name=name,
        company=company,
        language=language,
        attributes=attributes or {},
        status=status,
    )
    subscriber.set_tags(list(tags))
    session.add(subscriber)
    session.flush()
    if mailing_list is not None:
        session.add(
            Subscription(subscriber_id=subscriber.id, list_id=mailing_list.id, status=subscription)
        )
        session.flush()
    return subscriber


def emails(session: Session, mailing_list: MailingList, expr: str | None) -> set[str]:
    ids = matching_subscriber_ids(session, mailing_list.id, expr)
    return set(session.scalars(select(Subscriber.email).where(Subscriber.id.in_(ids))))


@pytest.fixture
def people(session: Session) -> MailingList:
    """Four subscribers on one list, chosen so each field separates them differently."""
    weekly = make_list(session)
    add(
        session,
        weekly,
        "ana@gob.mx",
        name="Ana Ruiz",
        company="Acme Corp",
        language="es",
        tags=["client", "vip"],
        attributes={"sector": "energy", "tier": "1"},
    )
    add(
        session,
        weekly,
        "bob@acme.com",
        name="Bob Stone",
        company="Acme Corporation",
        language="en",
        tags=["press"],
        attributes={"sector": "mining"},
    )
    add(
        session,
        weekly,
        "carla@sat.gob.mx",
        name="Carla Díaz",
        company="ACME CORP",
        language="es",
        tags=["Client", "press"],
    )
    add(
        session,
        weekly,
        "dan@bücher.de",
        name="Dan Östberg",
        company="Pémex",
        attributes={"sector": "Energy", "tier": 1, "board": True},
    )
    session.commit()
    return weekly


def test_each_field_selects_exactly_its_subscribers(session: Session, people: MailingList) -> None:
    cases = {
        "tag:client": {"ana@gob.mx", "carla@sat.gob.mx"},  # tags compare case-insensitively
        "tag:CLIENT": {"ana@gob.mx", "carla@sat.gob.mx"},
        "tag:vip": {"ana@gob.mx"},
        "tag:cli": set(),  # a whole tag, never a prefix
        "lang:es": {"ana@gob.mx", "carla@sat.gob.mx"},
        "lang:EN": {"bob@acme.com"},
        "lang:de": set(),
        'company:"Acme Corp"': {"ana@gob.mx", "carla@sat.gob.mx"},  # whole name, any case
        "company:Acme": set(),  # not a substring match: "Acme Corporation" is not selected
        "company:Pémex": {"dan@bücher.de"},
        "company:PéMEX": {"dan@bücher.de"},  # ASCII letters fold, é must match
        "company:PÉMEX": set(),
        "domain:gob.mx": {"ana@gob.mx"},  # exact: sat.gob.mx is another domain
        "domain:GOB.MX": {"ana@gob.mx"},
        "domain:bücher.de": {"dan@bücher.de"},
        "domain:xn--bcher-kva.de": {"dan@bücher.de"},  # the punycode spelling of the same
        "email:Bob@Acme.com": {"bob@acme.com"},
        "email:bob": set(),
        'name:"carla díaz"': {"carla@sat.gob.mx"},
        "attr.sector:energy": {"ana@gob.mx", "dan@bücher.de"},
        "attr.sector:mining": {"bob@acme.com"},
        "attr.tier:1": {"ana@gob.mx"},  # Dan's tier is the number 1, not the string "1"
        "attr.board:true": set(),  # booleans never match
        "attr.nothing:x": set(),
        "not lang:es": {"bob@acme.com", "dan@bücher.de"},  # no language counts as "not es"
        "not attr.sector:energy": {"bob@acme.com", "carla@sat.gob.mx"},
    }
    got = {expr: emails(session, people, expr) for expr in cases}
    assert got == cases
    assert emails(session, people, None) == {
        "ana@gob.mx",
        "bob@acme.com",
        "carla@sat.gob.mx",
        "dan@bücher.de",
    }


def test_language_is_another_name_for_lang(session: Session, people: MailingList) -> None:
    # The CSV column and the API say `language`, the segment keyword `lang`: either is accepted,
    # as the same condition, so a segment saved either way selects the same people.
    assert parse("language:es") == parse("lang:es") == Condition("lang", "es")
    assert parse("tag:client and Language:ES") == parse("tag:client and lang:ES")
    assert emails(session, people, "language:es") == emails(session, people, "lang:es")
    assert emails(session, people, "language:es") == {"ana@gob.mx", "carla@sat.gob.mx"}


def test_the_designs_examples(session: Session, people: MailingList) -> None:
    assert emails(session, people, "tag:client and lang:es and not tag:press") == {"ana@gob.mx"}
    assert emails(session, people, 'company:"Acme Corp" or domain:gob.mx') == {
        "ana@gob.mx",
        "carla@sat.gob.mx",
    }
    assert emails(session, people, "attr.sector:energy") == {"ana@gob.mx", "dan@bücher.de"}


def test_not_binds_tighter_than_and_tighter_than_or(session: Session, people: MailingList) -> None:
    a, b, c = (Condition("tag", t) for t in ("vip", "press", "client"))
    assert parse("tag:vip or tag:press and tag:client") == Or(a, And(b, c))
    assert parse("tag:vip OR tag:press AND tag:client") == Or(a, And(b, c))
    assert parse("not tag:vip and tag:press") == And(Not(a), b)
    assert parse("tag:vip or tag:press or tag:client") == Or(Or(a, b), c)
    # ana: vip; carla: press and client; bob: press only.
    assert emails(session, people, "tag:vip or tag:press and tag:client") == {
        "ana@gob.mx",
        "carla@sat.gob.mx",
    }
    assert emails(session, people, "(tag:vip or tag:press) and tag:client") == {
        "ana@gob.mx",
        "carla@sat.gob.mx",
    }
    assert emails(session, people, "(tag:vip or tag:press) and not tag:client") == {"bob@acme.com"}


def test_not_with_parentheses(session: Session, people: MailingList) -> None:
    assert parse("not (tag:client and lang:es)") == Not(
        And(Condition("tag", "client"), Condition("lang", "es"))
    )
    assert emails(session, people, "not (tag:client and lang:es)") == {
        "bob@acme.com",
        "dan@bücher.de",
    }
    assert emails(session, people, "not tag:client and lang:es") == set()
    assert emails(session, people, "not not tag:vip") == {"ana@gob.mx"}
    assert emails(session, people, "NOT (lang:es OR lang:en)") == {"dan@bücher.de"}


def test_keywords_are_only_keywords_between_conditions() -> None:
    assert parse("tag:not and tag:or") == And(Condition("tag", "not"), Condition("tag", "or"))
    assert parse("TAG:x and Attr.Sector:y") == And(
        Condition("tag", "x"), Condition("attr", "y", key="Sector")
    )
    assert parse('company:"say \\"hi\\" \\\\ bye"') == Condition("company", 'say "hi" \\ bye')
    assert unparse(parse('company:"say \\"hi\\" \\\\ bye"')) == 'company:"say \\"hi\\" \\\\ bye"'
    assert unparse(parse("tag:and")) == 'tag:"and"'


@pytest.mark.parametrize(
    ("expr", "column", "message"),
    [
        ("tag:client and (lang:es", 24, 'expected ")"'),
        ("tag:client and", 15, 'expected a condition such as tag:client, "not" or "("'),
        ("tag:client and and lang:es", 16, "found 'and'"),
        ("or tag:x", 1, "found 'or'"),
        ("tag client", 5, "expected \":\", found 'client'"),
        ("tag:client and foo:bar", 16, "unknown field 'foo'"),
        ("attr.:energy", 6, "attr. needs a key"),
        ("tag:", 5, "empty value"),
        ("lang:es and tag: client", 17, "empty value"),
        ('company:""', 9, 'empty value: "" matches nothing'),
        ('lang:es or company:"Acme Corp', 20, 'unterminated quoted value: add the closing "'),
        ("company:Acme Corp", 14, "found 'Corp' (put values with spaces or symbols in double"),
        ("lang:spanish", 6, "lang takes a two-letter ISO 639-1 code"),
        ("language:spanish", 10, "language takes a two-letter ISO 639-1 code"),
        ('tag:"a\\tb"', 7, 'unknown escape "\\t"'),
        ("tag:a)", 6, "found ')'"),
        ("tag:a = b", 7, "unexpected character '='"),
        ("   ", 1, "the expression is empty"),
    ],
)
def test_a_broken_expression_is_refused_with_its_column(
    expr: str, column: int, message: str
) -> None:
    with pytest.raises(SegmentSyntaxError) as caught:
        parse(expr)
    exc = caught.value
    assert isinstance(exc, SubscribersError)
    assert exc.column == column
    header, shown, caret = str(exc).split("\n")
    assert header.startswith(f"invalid segment expression (column {column}): ")
    assert shown == expr
    assert caret.startswith(" " * (column - 1) + "^ ")
    assert message in caret


def test_the_caret_sits_under_the_failure() -> None:
    with pytest.raises(SegmentSyntaxError) as caught:
        parse("tag:client and (lang:es")
    assert str(caught.value).split("\n")[1:] == [
        "tag:client and (lang:es",
        '                       ^ expected ")"',
    ]
    with pytest.raises(SegmentSyntaxError) as caught:
        parse("tag:client and\n  bogus:1")
    exc = caught.value
    assert (exc.line, exc.column) == (2, 3)
    assert str(exc).split("\n") == [
        "invalid segment expression (line 2, column 3): unknown field 'bogus': "
        "use tag, lang (or language), company, domain, email, name or attr.KEY",
        "  bogus:1",
        "  ^ unknown field 'bogus': use tag, lang (or language), company, domain, email, name "
        "or attr.KEY",
    ]


@pytest.mark.parametrize(
    ("expr", "caret"),
    [
        ("nto tag:press", "^ expected a condition such as tag:client"),
        ("tag:client nto tag:press", '           ^ expected "and", "or" or the end'),
        ("tag:client and nto", "               ^ expected a condition such as tag:client"),
        ("tag:client and tag:press nto", '                         ^ expected "and"'),
        ("(nto tag:a)", " ^ expected a condition such as tag:client"),
        ("(tag:a or tag:b) nto tag:c", '                 ^ expected "and"'),
        ("tag:a and (tag:b nto tag:c)", '                 ^ expected "and", "or" or ")"'),
    ],
)
def test_a_typo_anywhere_is_named_with_the_caret_under_it(expr: str, caret: str) -> None:
    """The misspelt keyword is named and the caret sits under its first letter, whether it
    stands first, in the middle, last or after a parenthesis."""
    with pytest.raises(SegmentSyntaxError) as caught:
        parse(expr)
    shown, under = str(caught.value).split("\n")[1:]
    assert shown == expr
    assert under.startswith(caret)
    assert under.endswith("found 'nto'; did you mean \"not\"?")
    assert expr[len(caret) - len(caret.lstrip()) :].startswith("nto")


def test_the_error_survives_the_trip_back_from_a_worker() -> None:
    with pytest.raises(SegmentSyntaxError) as caught:
        parse("tag:client or lang:")
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert isinstance(copy, SegmentSyntaxError)
    assert (copy.column, copy.expression, str(copy)) == (
        20,
        "tag:client or lang:",
        str(caught.value),
    )


def test_the_largest_allowed_expression_runs_and_a_larger_one_is_refused(
    session: Session, people: MailingList
) -> None:
    wide = " or ".join(f"tag:t{i}" for i in range(199)) + " or tag:vip"
    # The deepest shape for SQLite's parser: brackets alternating "or" and "and", 24 levels.
    deep = "".join("tag:x or (" if i % 2 else "lang:en and (" for i in range(23))
    deep += "tag:press" + ")" * 23
    assert emails(session, people, wide) == {"ana@gob.mx"}
    assert emails(session, people, deep) == {"bob@acme.com"}
    assert emails(session, people, "not " * 23 + "tag:vip") == {
        "bob@acme.com",
        "carla@sat.gob.mx",
        "dan@bücher.de",
    }
    with pytest.raises(SegmentSyntaxError, match="too many conditions") as caught:
        parse(wide + " or tag:one-more")
    assert caught.value.column == len(wide) + 5
    with pytest.raises(SegmentSyntaxError, match="nested too deeply"):
        parse(f"tag:vip or ({deep})")
    with pytest.raises(SegmentSyntaxError, match="nested too deeply"):
        parse("not " * 24 + "tag:vip")


def test_sql_in_a_value_is_data(session: Session, people: MailingList) -> None:
    add(session, people, "eve@evil.example", company="x' OR '1'='1", tags=["a; DROP"])
    session.commit()
    before = session.scalar(select(func.count()).select_from(Subscriber))
    hostile = [
        "company:\"x' OR '1'='1\" and tag:client",
        'tag:"a; DROP TABLE subscriber; --"',
        "tag:\"') OR 1=1 --\" or email:\"' OR ''='\"",
        'name:"%"',
        'company:"%Acme%"',
        'company:"Acme_Corp"',
        "attr.sector:\"energy' OR '1'='1\"",
        'domain:"gob.mx\' --"',
    ]
    for expr in hostile:
        assert emails(session, people, expr) == set(), expr
    # The value is compared as data: it matches the one row that holds exactly that text.
    assert emails(session, people, "company:\"x' OR '1'='1\"") == {"eve@evil.example"}
    assert emails(session, people, 'tag:"a; DROP"') == {"eve@evil.example"}
    # Nothing was dropped or changed.
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Subscriber)) == before == 5
    assert session.scalar(select(func.count()).select_from(SubscriberTag)) == 6
    assert count(session, people.id, None) == 5


def test_the_sql_carries_values_as_bound_parameters() -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    query = matching_subscriber_ids(None, 1, "company:\"x' OR '1'='1\" or attr.k:\"v'--\"")
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        compiled = query.compile(dialect=dialect)
        assert "OR '1'" not in str(compiled)
        assert "v'--" not in str(compiled)
        assert "x' or '1'='1" in compiled.params.values()


def test_only_mailable_subscribers_are_counted(session: Session) -> None:
    weekly = make_list(session)
    other = make_list(session, "other")
    tags = ["client"]
    active = add(session, weekly, "ok@acme.com", tags=tags)
    add(session, weekly, "pending@acme.com", tags=tags, subscription=SubscriptionStatus.PENDING)
    add(session, weekly, "left@acme.com", tags=tags, subscription=SubscriptionStatus.UNSUBSCRIBED)
    add(session, weekly, "unconfirmed@acme.com", tags=tags, status=SubscriberStatus.PENDING)
    add(session, weekly, "gone@acme.com", tags=tags, status=SubscriberStatus.UNSUBSCRIBED)
    add(session, weekly, "bounced@acme.com", tags=tags, status=SubscriberStatus.BOUNCED)
    add(session, weekly, "complained@acme.com", tags=tags, status=SubscriberStatus.COMPLAINED)
    add(session, weekly, "blocked@acme.com", tags=tags)
    add(session, weekly, None, tags=tags)  # no address left to mail
    add(session, other, "elsewhere@acme.com", tags=tags)
    session.add(
        Suppression(
            address_hash="0" * 64, email="blocked@acme.com", reason=SuppressionReason.HARD_BOUNCE
        )
    )
    # An erased person's suppression keeps no plaintext and matches no subscriber.
    session.add(Suppression(address_hash="1" * 64, email=None, reason=SuppressionReason.ERASED))
    session.commit()
    for expr in (None, "tag:client", "not tag:press", "domain:acme.com"):
        assert count(session, weekly.id, expr) == 1, expr
        assert set(session.scalars(matching_subscriber_ids(session, weekly.id, expr))) == {
            active.id
        }
    assert count(session, other.id, "tag:client") == 1


def test_saved_segments(session: Session, people: MailingList) -> None:
    segment = create_segment(session, people.id, "mx-clients", "tag:client and lang:es")
    session.commit()
    assert segment.expression == "tag:client and lang:es"
    assert resolve(session, people.id, "mx-clients") == "tag:client and lang:es"
    assert resolve(session, people.id, "tag:vip") == "tag:vip"
    assert count(session, people.id, "mx-clients") == 2
    assert emails(session, people, "mx-clients") == {"ana@gob.mx", "carla@sat.gob.mx"}
    assert [s.slug for s in list_segments(session, people.id)] == ["mx-clients"]

    with pytest.raises(SegmentSyntaxError) as caught:
        create_segment(session, people.id, "broken", "tag:client and (lang:es")
    assert caught.value.column == 24
    with pytest.raises(AlreadyExists, match="already has a segment 'mx-clients'"):
        create_segment(session, people.id, "mx-clients", "tag:vip")
    with pytest.raises(InvalidInput, match="invalid segment slug"):
        create_segment(session, people.id, "has space", "tag:vip")
    with pytest.raises(NotFound, match="no saved segment 'nosuch' on list 'weekly'"):
        count(session, people.id, "nosuch")
    session.rollback()
    assert session.scalars(select(Segment.slug)).all() == ["mx-clients"]


def test_a_saved_segment_gets_a_new_checked_expression_and_can_be_deleted(
    session: Session, people: MailingList
) -> None:
    create_segment(session, people.id, "mx-clients", "tag:client")
    session.commit()
    changed = update_segment(session, people.id, "mx-clients", "  tag:client and lang:es ")
    session.commit()
    assert changed.slug == "mx-clients" and changed.expression == "tag:client and lang:es"
    assert emails(session, people, "mx-clients") == {"ana@gob.mx", "carla@sat.gob.mx"}

    with pytest.raises(SegmentSyntaxError) as caught:
        update_segment(session, people.id, "mx-clients", "tag:client and (lang:es")
    assert caught.value.column == 24
    session.rollback()
    assert get_segment(session, people.id, "mx-clients").expression == "tag:client and lang:es"
    with pytest.raises(NotFound, match=r"no saved segment 'mx-client' on list 'weekly' \(its "):
        update_segment(session, people.id, "mx-client", "tag:vip")

    deleted = delete_segment(session, people.id, "mx-clients")
    session.commit()
    assert deleted.slug == "mx-clients"
    assert list_segments(session, people.id) == []
    assert count(session, people.id, None) == 4  # nobody left the list
    with pytest.raises(NotFound, match="on list 'weekly' \\(it has none\\)"):
        delete_segment(session, people.id, "mx-clients")


def test_evaluate_is_the_same_rule_in_python(session: Session, people: MailingList) -> None:
    everyone = session.scalars(select(Subscriber).order_by(Subscriber.email)).all()
    expr = parse("(tag:client or attr.sector:energy) and not domain:sat.gob.mx")
    assert [s.email for s in everyone if evaluate(expr, s)] == ["ana@gob.mx", "dan@bücher.de"]
    assert emails(session, people, unparse(expr)) == {"ana@gob.mx", "dan@bücher.de"}


# ---- the command line ------------------------------------------------------------------------


def test_cli_count_prints_the_number(session: Session, people: MailingList) -> None:
    """The real console script, as an operator runs it."""
    mailer = os.path.join(os.path.dirname(sys.executable), "mailer")
    done = subprocess.run(
        [mailer, "segment", "count", "--list", "weekly", "tag:client and not tag:press"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "1"


def test_cli_create_count_and_list(session: Session, people: MailingList) -> None:
    runner = CliRunner()
    made = runner.invoke(
        app, ["segment", "create", "energy", "--list", "weekly", "attr.sector:energy"]
    )
    assert made.exit_code == 0, made.output
    assert "saved segment 'energy' on list 'weekly': 2 subscribers match" in made.stdout

    by_slug = runner.invoke(app, ["segment", "count", "--list", "weekly", "energy"])
    assert by_slug.exit_code == 0, by_slug.output
    assert by_slug.stdout.splitlines()[-1] == "2"
    whole = runner.invoke(app, ["segment", "count", "--list", "weekly"])
    assert whole.stdout.splitlines()[-1] == "4"

    listed = runner.invoke(app, ["segment", "list", "--list", "weekly"])
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == [
        "SEGMENT    COUNT  EXPRESSION",
        "energy         2  attr.sector:energy",
    ]


def test_cli_refuses_an_invalid_segment(session: Session, people: MailingList) -> None:
    runner = CliRunner()
    refused = runner.invoke(
        app, ["segment", "create", "bad", "--list", "weekly", "tag:client and (lang:es"]
    )
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[-2:] == [
        "tag:client and (lang:es",
        '                       ^ expected ")"',
    ]
    typo = runner.invoke(app, ["segment", "count", "--list", "weekly", "tag:client nto tag:press"])
    assert typo.exit_code == 1
    assert typo.stderr.splitlines()[-2:] == [
        "tag:client nto tag:press",
        '           ^ expected "and", "or" or the end of the expression, found \'nto\'; '
        'did you mean "not"?',
    ]
    counted = runner.invoke(app, ["segment", "count", "--list", "weekly", "tag:client or foo:x"])
    assert counted.exit_code == 1
    assert (
        counted.stderr.splitlines()[-1] == "              ^ unknown field 'foo': use tag, "
        "lang (or language), company, domain, email, name or attr.KEY"
    )
    session.expire_all()
    assert session.scalars(select(Segment)).all() == []


def test_cli_names_a_missing_list(session: Session, people: MailingList) -> None:
    result = CliRunner().invoke(app, ["segment", "count", "--list", "nosuch", "tag:client"])
    assert result.exit_code != 0
    assert isinstance(result.exception, NotFound)
    assert "no list with slug 'nosuch' (known lists: weekly)" in str(result.exception)


def _assert_bounded_and_pointing(exc: SegmentSyntaxError, expr: str) -> str:
    """The message is three short lines; the header keeps the real column, and the caret sits
    under that very character of the excerpt."""
    header, shown, under = str(exc).split("\n")
    assert f"(column {exc.column})" in header
    assert len(shown) <= 80 and len(header) < 250 and len(under) < 250
    at = under.index("^")
    if exc.column > len(expr):  # at the end: just past the excerpt's last character
        assert at == len(shown) and expr.endswith(shown[-20:])
    else:
        assert shown[at] == expr[exc.column - 1]
        assert shown[at - 20 : at + 10].strip("…") in expr
    return shown


def test_a_long_expression_is_shown_as_an_excerpt_around_its_column() -> None:
    """5,000 `or` terms were refused ("at most 200") by printing all of them, with the caret
    tens of thousands of columns to the right."""
    terms = " or ".join(f"tag:t{i}" for i in range(5000))
    with pytest.raises(SegmentSyntaxError, match="at most 200") as caught:
        parse(terms)
    shown = _assert_bounded_and_pointing(caught.value, terms)
    assert shown.startswith("…") and shown.endswith("…")
    assert caught.value.column > 2000
    # A mistake at column 45,000, after a long quoted value; and one at the very end.
    late = 'tag:"' + "a" * 45_000 + '" nto tag:press'
    with pytest.raises(SegmentSyntaxError, match=r"found 'nto'; did you mean \"not\"") as caught:
        parse(late)
    assert caught.value.column == 45_008
    assert _assert_bounded_and_pointing(caught.value, late).endswith("nto tag:press")
    with pytest.raises(SegmentSyntaxError) as caught:
        parse("tag:x or " * 100 + "(")
    _assert_bounded_and_pointing(caught.value, "tag:x or " * 100 + "(")


def test_a_long_word_is_named_by_its_start() -> None:
    """What a message quotes (the word found, an unknown field, a language) is cut too."""
    for expr in ("b" * 9000 + ":x", "lang:" + "e" * 9000, "x" * 9000 + " tag:a"):
        with pytest.raises(SegmentSyntaxError) as caught:
            parse(expr)
        assert len(str(caught.value)) < 600
        assert "…" in str(caught.value).split("\n")[0]
