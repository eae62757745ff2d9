"""CSV import on both databases: the sample file, bad rows, upserts, consent, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from mailer.settings import Settings
from subscribers.errors import ImportFileError
from subscribers.importing import ImportReport, import_csv
from subscribers.lifecycle import get_subscriber, unsubscribe_from_list
from subscribers.models import MailingList, Subscriber, Subscription, SubscriptionStatus
from subscribers.suppression import add_suppression
from tests.conftest import SUBSCRIBERS_CSV

HEADER = "email,name,company,language,tags\n"


def run(
    session: Session, mlist: MailingList, path: Path, settings: Settings, batch_size: int = 1000
) -> ImportReport:
    report = import_csv(session, mlist, path, settings.secret(), batch_size=batch_size)
    session.commit()
    return report


def write(tmp_path: Path, text: str, name: str = "people.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_the_sample_file_imports_its_good_rows_and_reports_each_bad_one(
    session: Session, weekly: MailingList, settings: Settings
) -> None:
    report = run(session, weekly, SUBSCRIBERS_CSV, settings)

    # 44 CSV records: the header and 43 data rows (45 lines: one quoted field spans two).
    assert report.records == 43
    assert (report.imported, report.updated, report.unchanged) == (38, 0, 0)
    assert (report.skipped, report.suppressed, report.not_reactivated) == (4, 0, 0)
    assert report.balanced
    problems = [(p.row, p.line, p.end_line, p.email, p.reason) for p in report.problems]
    assert problems == [
        (40, 40, 40, "not-an-email", "An email address must have an @-sign."),
        (41, 41, 41, "", "missing email address"),
        (
            42,
            42,
            43,
            "evil@example.com\r\nBcc: victim@example.org",
            "the email address contains a line break (CR/LF), which could inject mail headers",
        ),
        (
            44,
            45,
            45,
            "ping@example.com",
            "unknown language 'xx': use a two-letter ISO 639-1 code such as en or es",
        ),
    ]
    dup = report.duplicates
    assert [(d.row, d.line, d.first_row, d.email) for d in dup] == [
        (39, 39, 38, "mixed.case@example.com")
    ]

    assert session.scalar(select(func.count()).select_from(Subscriber)) == 38
    assert (
        session.scalar(
            select(func.count())
            .select_from(Subscription)
            .where(
                Subscription.list_id == weekly.id,
                Subscription.status == SubscriptionStatus.ACTIVE,
            )
        )
        == 38
    )
    for absent in ("evil@example.com", "victim@example.org", "ping@example.com"):
        assert get_subscriber(session, absent) is None


def test_the_mixed_case_duplicate_is_one_subscriber_with_later_non_empty_cells_winning(
    session: Session, weekly: MailingList, settings: Settings
) -> None:
    run(session, weekly, SUBSCRIBERS_CSV, settings)
    rows = session.scalars(select(Subscriber).where(func.lower(Subscriber.email).like("mixed%")))
    (mixed,) = rows.all()
    assert mixed.email == "mixed.case@example.com"
    assert mixed.domain == "example.com"
    assert mixed.name == "Mixed Case (duplicate)"  # row 39 is later
    assert mixed.company == "Acme Mining SA de CV"  # row 39 left it empty
    assert mixed.tags == ["client"]


def test_rows_keep_their_text_tags_language_and_consent(
    session: Session, weekly: MailingList, settings: Settings
) -> None:
    run(session, weekly, SUBSCRIBERS_CSV, settings)
    obrien = get_subscriber(session, "O'Brien+News@example.ie")
    assert obrien is not None
    assert obrien.name == "Siobhán O'Brien"
    assert obrien.company == 'Dublin Risk Ltd, "Advisory"'
    assert obrien.language == "en"
    assert obrien.tags == ["client", "finance"]
    assert obrien.consent_method == "import"
    assert obrien.consent_source == "import: subscribers-sample.csv"
    assert obrien.consent_at is not None
    (sub,) = obrien.subscriptions
    assert sub.status == SubscriptionStatus.ACTIVE
    assert sub.confirmed_at is not None
    luis = get_subscriber(session, "luis.sanchez4@example.org")
    assert luis is not None
    assert (luis.name, luis.language) == ("Luis Sánchez", "es")


def test_a_script_name_in_a_valid_row_is_stored_verbatim_as_text(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, HEADER + "ping@example.com,<script>alert(1)</script>,,en,client\n")
    report = run(session, weekly, path, settings)
    assert report.imported == 1
    ping = get_subscriber(session, "ping@example.com")
    assert ping is not None
    assert ping.name == "<script>alert(1)</script>"


def test_a_bom_any_column_order_quoted_newlines_and_extra_columns_stored_as_attributes(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    text = (
        "Tags,Sector,EMAIL,language,attr.region,name\r\n"
        'energy;client,oil,Ana@Example.org,ES,north,"Ana\r\nLópez"\r\n'
        "client,,beto@example.org,,,Beto\r\n"
    )
    report = run(session, weekly, write(tmp_path, text, bom=True), settings)
    assert report.imported == 2
    assert report.attribute_columns == ["Sector", "attr.region"]
    # The prefix is the column's, not the key's: the report says what the value is stored as.
    assert report.attributes_summary() == "Sector, attr.region as region"
    ana = get_subscriber(session, "ana@example.org")
    assert ana is not None
    # The quoted line break is read as part of the cell, then folded: names are one line.
    assert (ana.name, ana.language, ana.tags) == ("Ana López", "es", ["client", "energy"])
    assert ana.attributes == {"Sector": "oil", "region": "north"}
    beto = get_subscriber(session, "beto@example.org")
    assert beto is not None
    assert (beto.language, beto.attributes) == (None, {})


def test_reimporting_updates_only_non_empty_cells_and_counts_unchanged(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    run(session, weekly, write(tmp_path, HEADER + "a@example.com,Ann,Acme,en,client\n"), settings)
    first = get_subscriber(session, "a@example.com")
    assert first is not None
    consent_at = first.consent_at
    session.expunge_all()
    again = run(
        session,
        weekly,
        write(
            tmp_path,
            HEADER + "a@example.com,,,,\nb@example.com,Bea,,,\n",
            name="second.csv",
        ),
        settings,
    )
    assert (again.imported, again.updated, again.unchanged) == (1, 0, 1)
    changed = run(
        session,
        weekly,
        write(tmp_path, HEADER + "A@Example.com,Ann Smith,,de,client;vip\n", name="third.csv"),
        settings,
    )
    assert (changed.imported, changed.updated, changed.unchanged) == (0, 1, 0)
    session.expunge_all()
    ann = get_subscriber(session, "a@example.com")
    assert ann is not None
    assert (ann.name, ann.company, ann.language, ann.tags) == (
        "Ann Smith",
        "Acme",
        "de",
        ["client", "vip"],
    )
    assert ann.consent_source == "import: people.csv"  # no new consent for an update
    assert ann.consent_at == consent_at


def test_duplicates_across_batches_are_merged_and_reported_with_both_rows(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    text = HEADER + "".join(
        [
            "a@example.com,First,,,client\n",
            "b@example.com,,,,\n",
            "c@example.com,,,,\n",
            "A@EXAMPLE.com,Second,Acme,,press\n",
            "d@example.com,,,,\n",
            "e@example.com,,,,client\n",
            "E@example.com,,,,vip\n",
        ]
    )
    report = run(session, weekly, write(tmp_path, text), settings, batch_size=2)
    assert [(d.row, d.first_row, d.email) for d in report.duplicates] == [
        (5, 2, "a@example.com"),
        (8, 7, "e@example.com"),
    ]
    assert (report.imported, report.updated, report.unchanged) == (5, 0, 0)
    assert report.balanced
    a, e = get_subscriber(session, "a@example.com"), get_subscriber(session, "e@example.com")
    assert a is not None and e is not None
    assert (a.name, a.company) == ("Second", "Acme")
    # One person named twice: both rows' tags (across batches and within one).
    assert sorted(a.tags) == ["client", "press"] and sorted(e.tags) == ["client", "vip"]


def test_an_unsubscribed_address_is_not_resubscribed_by_an_import(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, HEADER + "gone@example.com,Gone,,,\n")
    run(session, weekly, path, settings)
    unsubscribe_from_list(session, weekly, "gone@example.com", "asked by phone")
    session.commit()
    report = run(session, weekly, path, settings)
    assert (report.imported, report.updated, report.not_reactivated) == (0, 0, 1)
    assert [(n.row, n.email) for n in report.not_reactivated_rows] == [(2, "gone@example.com")]
    sub = session.scalar(select(Subscription))
    assert sub is not None
    session.refresh(sub)
    assert sub.status == SubscriptionStatus.UNSUBSCRIBED
    assert sub.unsubscribe_reason == "asked by phone"


def test_a_suppressed_address_is_reported_and_not_imported(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    add_suppression(session, "Bounced@Example.com", settings.secret())
    session.commit()
    path = write(tmp_path, HEADER + "bounced@example.com,B,,,\nok@example.com,O,,,\n")
    report = run(session, weekly, path, settings)
    assert (report.imported, report.suppressed) == (1, 1)
    assert [(n.row, n.email) for n in report.suppressed_rows] == [(2, "bounced@example.com")]
    assert get_subscriber(session, "bounced@example.com") is None


def test_a_row_with_too_many_fields_or_an_over_long_name_is_skipped_with_its_reason(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    text = HEADER + "x@example.com,X,Acme, Inc,en,client\ny@example.com," + "n" * 201 + ",,,\n"
    report = run(session, weekly, write(tmp_path, text), settings)
    assert [(p.row, p.reason) for p in report.problems] == [
        (2, "the row has 6 fields but the header has 5 (a comma inside a value needs quotes)"),
        (3, "name is longer than 200 characters (201)"),
    ]
    # The same row in a semicolon file names the file's separator, not a comma.
    semicolons = text.replace(",", ";").replace("Acme; Inc", "Acme;Inc")
    report = run(session, weekly, write(tmp_path, semicolons, name="eu.csv"), settings)
    assert report.problems[0].reason == (
        "the row has 6 fields but the header has 5 (a semicolon inside a value needs quotes)"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "people.csv: the file is empty; it needs a header row: email,name,company"),
        (
            b"ana@example.org,Ana,,es,client\n",
            "people.csv:1: row 1 looks like data, not a header: add a first row naming",
        ),
        (
            b"mail,name\nana@example.org,Ana\n",
            "people.csv:1: the header has no column named 'email' (found: mail, name); rename the "
            "column holding the addresses to 'email' (probably 'mail')",
        ),
        (
            # \x81 is neither UTF-8 nor Windows-1252: no reading can be trusted.
            b"email,name\nana@example.org,Ana\nbea@example.org,B\x81a\n",
            "people.csv:3: not valid UTF-8 (invalid start byte at byte 18 of the line); "
            "save the file as 'CSV UTF-8'",
        ),
        (b"email,Email\n", "people.csv:1: column 'Email' appears twice in the header"),
    ],
)
def test_a_file_that_cannot_be_imported_names_the_file_and_line_and_changes_nothing(
    session: Session,
    weekly: MailingList,
    settings: Settings,
    tmp_path: Path,
    content: bytes,
    message: str,
) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as info:
        import_csv(session, weekly, path, settings.secret())
    session.rollback()
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert session.scalar(select(func.count()).select_from(Subscriber)) == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_import_leaves_the_planner_statistics_that_know_its_rows(
    session: Session, weekly: MailingList, settings: Settings
) -> None:
    """A campaign sent right after an import is planned from statistics, not from none."""
    report = run(session, weekly, SUBSCRIBERS_CSV, settings)
    assert report.imported > 0
    for table, model in (("subscriber", Subscriber), ("subscription", Subscription)):
        rows = session.scalar(select(func.count()).select_from(model))
        # TRUNCATE between tests leaves reltuples at -1 ("never counted"); ANALYZE sets it.
        estimate = session.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}
        )
        assert estimate == rows, table


def test_a_column_named_like_a_subscriber_column_is_stored_as_an_attribute_and_named_as_such(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    # `lang` is the segment keyword (`lang:es`), so a file may well call its column that; its
    # values are not the subscriber's language, and the report must say which column to rename.
    text = "email,name,compnay,Sector,tags,tag\nana@example.org,Ana,Acme,oil,client,x\n"
    report = run(session, weekly, write(tmp_path, text), settings)
    assert report.imported == 1
    ana = get_subscriber(session, "ana@example.org")
    assert ana is not None
    assert (ana.company, ana.attributes["compnay"]) == ("", "Acme")
    assert report.attributes_summary() == (
        "compnay (not the company column: rename it company), Sector, tag"
    )


def test_a_lang_column_is_the_language_column(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    # `lang` is the segment keyword and the front matter's key: a file calling its language
    # column that means the language, and is read as it (any case), never as an attribute.
    text = "email,name,Lang\nana@example.org,Ana,ES\n"
    report = run(session, weekly, write(tmp_path, text), settings)
    ana = get_subscriber(session, "ana@example.org")
    assert ana is not None
    assert (report.imported, ana.language, ana.attributes) == (1, "es", {})
    assert report.attribute_columns == []
    # Beside a real `language` column, `lang` is a column of its own (as `tag` beside `tags`).
    both = "email,language,lang\nbo@example.org,de,x\n"
    report = run(session, weekly, write(tmp_path, both, "both.csv"), settings)
    bo = get_subscriber(session, "bo@example.org")
    assert bo is not None
    assert (bo.language, bo.attributes) == ("de", {"lang": "x"})
    assert report.attributes_summary() == "lang"


def test_one_person_named_twice_in_a_batch_keeps_both_rows_tags(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    text = (
        HEADER
        + "bob@example.com,Bob,,,client\nana@example.com,Ana,,,vip\nBOB@example.com,,,,press\n"
    )
    report = run(session, weekly, write(tmp_path, text), settings)
    assert [(d.row, d.first_row) for d in report.duplicates] == [(4, 2)]
    bob = get_subscriber(session, "bob@example.com")
    assert bob is not None and sorted(bob.tags) == ["client", "press"] and bob.name == "Bob"


def test_a_status_column_that_unsubscribes_active_members_is_counted_and_names_them(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    # An export of another list carries that list's statuses: importing it here unsubscribes
    # this list's active members it names as unsubscribed (the documented meaning of the
    # column), and the report must say so by count and by address, never as a mere "updated".
    run(session, weekly, write(tmp_path, HEADER + "zed@zed.example,Zed,,,\n"), settings)
    exported_elsewhere = (
        "email,name,company,language,tags,status\n"
        "ana@example.org,Ana,,,,active\n"
        "zed@zed.example,Zed,,,,unsubscribed\n"
        "new@example.org,New,,,,unsubscribed\n"
    )
    report = run(session, weekly, write(tmp_path, exported_elsewhere, "board.csv"), settings)
    counts = (report.imported, report.updated, report.unchanged, report.unsubscribed)
    assert counts == (1, 0, 0, 1)
    assert report.balanced
    assert [(n.row, n.email) for n in report.unsubscribed_rows] == [(3, "zed@zed.example")]
    # new@ was never on the list: added as unsubscribed and said so, not "imported"
    assert report.added_unsubscribed == 1
    assert [(n.row, n.email) for n in report.added_unsubscribed_rows] == [(4, "new@example.org")]
    assert "status column" in report.unsubscribed_rows[0].reason
    zed = session.scalar(
        select(Subscription).join(Subscriber).where(Subscriber.email == "zed@zed.example")
    )
    assert zed is not None and zed.status == SubscriptionStatus.UNSUBSCRIBED


def test_a_row_marked_unsubscribed_for_someone_not_on_the_list_is_no_new_consent(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    # Ana subscribed to another list; an export of a third list says she left it. Importing that
    # export here records her as unsubscribed from this list (no later import can subscribe
    # her), but it is not an import of her, and her consent record stays the one she gave.
    other = MailingList(slug="board", name="Board")
    session.add(other)
    session.commit()
    run(session, other, write(tmp_path, HEADER + "ana@example.org,Ana,,,\n", "ana.csv"), settings)
    ana = get_subscriber(session, "ana@example.org")
    assert ana is not None
    consent = (ana.consent_at, ana.consent_source)
    exported = "email,status\nana@example.org,unsubscribed\nbo@example.org,unsubscribed\n"
    report = run(session, weekly, write(tmp_path, exported, "left.csv"), settings)

    assert (report.imported, report.added_unsubscribed, report.unsubscribed) == (0, 2, 0)
    assert report.balanced
    assert [n.email for n in report.added_unsubscribed_rows] == [
        "ana@example.org",
        "bo@example.org",
    ]
    session.expire_all()
    ana = get_subscriber(session, "ana@example.org")
    assert ana is not None and (ana.consent_at, ana.consent_source) == consent
    statuses = dict(
        session.execute(
            select(Subscriber.email, Subscription.status)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(Subscription.list_id == weekly.id)
        ).all()
    )
    assert statuses == {
        "ana@example.org": SubscriptionStatus.UNSUBSCRIBED,
        "bo@example.org": SubscriptionStatus.UNSUBSCRIBED,
    }
    # and a later import of a plain file does not subscribe them
    again = run(session, weekly, write(tmp_path, HEADER + "ana@example.org,Ana,,,\n"), settings)
    assert (again.imported, again.not_reactivated) == (0, 1)


def test_an_address_written_with_its_display_name_imports_with_that_name(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    # Outlook and Gmail copy an address as `Name <address>`; pasted into a spreadsheet's email
    # column it is still one person's address, and the name is theirs unless the row gives one.
    path = write(
        tmp_path,
        "email,name\n"
        '"Ana López <ANA@example.org>",\n'
        "Bob <bob@example.org>,Robert\n"
        "<carl@example.org>,Carl\n"
        "mailto:dee@example.org,Dee\n"
        '"""Eve Ríos"" <eve@example.org>",\n',
    )
    report = run(session, weekly, path, settings)

    assert (report.imported, report.skipped, report.problems) == (5, 0, [])
    names = {
        email: get_subscriber(session, email).name
        for email in ("ana@example.org", "bob@example.org", "carl@example.org", "dee@example.org")
    }
    assert names == {
        "ana@example.org": "Ana López",
        "bob@example.org": "Robert",
        "carl@example.org": "Carl",
        "dee@example.org": "Dee",
    }
    assert get_subscriber(session, "eve@example.org").name == "Eve Ríos"


def test_a_display_name_around_a_bad_address_is_still_refused_by_row(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, "email,name\nAna <ana@example>,\nBob <bob@example.org> extra,\n")
    report = run(session, weekly, path, settings)

    assert report.imported == 0
    assert [(p.row, p.email) for p in report.problems] == [
        (2, "Ana <ana@example>"),
        (3, "Bob <bob@example.org> extra"),
    ]
    assert "period" in report.problems[0].reason


def test_a_language_with_a_region_or_in_capitals_imports_as_its_language(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    # Mailchimp, listmonk and Excel write the language as a locale: es-MX, es_MX, ES, en-GB.
    path = write(
        tmp_path,
        "email,language\na@example.org,es-MX\nb@example.org,es_MX\nc@example.org,EN-gb\n"
        "d@example.org,xx-MX\n",
    )
    report = run(session, weekly, path, settings)

    assert report.imported == 3
    langs = [get_subscriber(session, f"{c}@example.org").language for c in "abc"]
    assert langs == ["es", "es", "en"]
    assert [(p.row, p.reason) for p in report.problems] == [
        (5, "unknown language 'xx-mx': use a two-letter ISO 639-1 code such as en or es")
    ]


def test_the_status_words_of_listmonk_and_mailchimp_exports_are_read_as_ours(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    # listmonk exports `enabled`/`blocklisted`, its subscriptions `confirmed`/`unconfirmed`;
    # Mailchimp `subscribed`/`cleaned` (a hard bounce). Refusing them lost every row.
    exported = (
        "uuid,email,name,attributes,status,created_at\n"
        '0b1c,ana@example.org,Ana López,"{""city"": ""CDMX""}",enabled,2024-01-01\n'
        "0b1d,bob@example.org,Bob,{},blocklisted,2024-01-01\n"
        "0b1e,cy@example.org,Cy,{},Subscribed,2024-01-01\n"
        "0b1f,di@example.org,Di,{},unconfirmed,2024-01-01\n"
        "0b20,ed@example.org,Ed,{},cleaned,2024-01-01\n"
        "0b21,fe@example.org,Fe,{},confirmed,2024-01-01\n"
        "0b22,gu@example.org,Gu,{},sleeping,2024-01-01\n"
    )
    report = run(session, weekly, write(tmp_path, exported, "listmonk.csv"), settings)

    assert (report.imported, report.suppressed) == (4, 2)
    assert report.balanced
    statuses = dict(
        session.execute(
            select(Subscriber.email, Subscription.status)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(Subscription.list_id == weekly.id)
        ).all()
    )
    assert statuses == {
        "ana@example.org": SubscriptionStatus.ACTIVE,
        "cy@example.org": SubscriptionStatus.ACTIVE,
        "di@example.org": SubscriptionStatus.PENDING,
        "fe@example.org": SubscriptionStatus.ACTIVE,
    }
    assert [(p.row, p.reason) for p in report.problems] == [
        (8, "unknown status 'sleeping': use active, pending, unsubscribed or suppressed")
    ]


def test_quoted_values_after_a_space_are_read_as_quoted(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    # A file written by hand or by a script that puts a space after each comma: the quotes
    # still hold the value's commas, and the header's names are still the columns.
    path = write(
        tmp_path,
        '"email", "name", "company"\n'
        '"ana@example.org", "López, Ana", "Acme, S.A."\n'
        "bo@example.org, Bo, Beta\n",
    )
    report = run(session, weekly, path, settings)

    assert (report.imported, report.skipped, report.attribute_columns) == (2, 0, [])
    ana = get_subscriber(session, "ana@example.org")
    bo = get_subscriber(session, "bo@example.org")
    assert ana is not None and (ana.name, ana.company) == ("López, Ana", "Acme, S.A.")
    assert bo is not None and (bo.name, bo.company) == ("Bo", "Beta")


@pytest.mark.parametrize(
    ("export", "read_as"),
    [
        pytest.param(
            '"Email Address","First Name","Last Name","Phone Number","MEMBER_RATING"\n'
            '"ana@example.org","Ana","López","",2\n',
            ["'Email Address' as email", "'First Name' + 'Last Name' as name"],
            id="mailchimp",
        ),
        pytest.param(
            "First Name,Middle Name,Last Name,Company,E-mail Address,E-mail 2 Address\n"
            "Ana,,López,Acme,ana@example.org,\n",
            ["'E-mail Address' as email", "'First Name' + 'Last Name' as name"],
            id="outlook",
        ),
        pytest.param(
            "Name,Given Name,Family Name,E-mail 1 - Type,E-mail 1 - Value,Organization 1 - Name\n"
            "Ana López,Ana,López,* Work,ana@example.org,Acme\n",
            ["'E-mail 1 - Value' as email", "'Organization 1 - Name' as company"],
            id="google",
        ),
        pytest.param(
            "Correo electrónico;Nombre;Apellidos;Empresa;Idioma;Etiquetas\n"
            "ana@example.org;Ana;López;Acme;es;client\n",
            [
                "'Correo electrónico' as email",
                "'Empresa' as company",
                "'Idioma' as language",
                "'Etiquetas' as tags",
                "'Nombre' + 'Apellidos' as name",
            ],
            id="spanish header",
        ),
    ],
)
def test_another_tools_export_imports_its_addresses_and_names(
    session: Session,
    weekly: MailingList,
    settings: Settings,
    tmp_path: Path,
    export: str,
    read_as: list[str],
) -> None:
    # Mailchimp, Outlook, Google Contacts and a Spanish spreadsheet name the columns their way;
    # refusing the whole file for its header lost everyone in it.
    report = run(session, weekly, write(tmp_path, export), settings)

    assert (report.imported, report.skipped) == (1, 0)
    assert report.columns_read_as() == read_as
    ana = get_subscriber(session, "ana@example.org")
    assert ana is not None and ana.name == "Ana López"
    if "Empresa" in export or "Organization" in export or "Company" in export:
        assert ana.company == "Acme"


def test_an_alias_beside_the_real_column_is_an_attribute(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, "email,E-mail Address,name\nana@example.org,old@example.org,Ana\n")
    report = run(session, weekly, path, settings)

    assert (report.imported, report.columns_read_as()) == (1, [])
    ana = get_subscriber(session, "ana@example.org")
    assert ana is not None and ana.attributes == {"E-mail Address": "old@example.org"}


def test_mailchimps_quoted_tags_are_the_tags_without_their_quotes(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    # Mailchimp writes the TAGS cell as `"client","press"` (each tag in its own quotes).
    path = write(
        tmp_path,
        '"Email Address","TAGS"\n"zed@example.org","""client"",""press"""\n'
        '"yan@example.org","""Board, Mexico"""\n',
    )
    report = run(session, weekly, path, settings)

    assert report.imported == 2
    zed = get_subscriber(session, "zed@example.org")
    yan = get_subscriber(session, "yan@example.org")
    assert zed is not None and zed.tags == ["client", "press"]
    assert yan is not None and yan.tags == ["Board", "Mexico"]


def test_an_excel_csv_in_windows_1252_imports_every_row_and_names_the_lines_read_so(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    """Excel's "CSV (Comma delimited)" on a Western-European Windows writes Windows-1252: the
    whole file was refused at its first accented name, so none of its readers came in."""
    rows = ["email,name,company", "ana@example.org,Ana,Acme"]
    rows += [f"p{n}@example.org,Reader {n},Acme" for n in range(3, 2001)]
    rows += ["jose@example.org,José Núñez,Pemex – Dirección", "zoe@example.org,Zoë,Ça va"]
    path = tmp_path / "clients.csv"
    path.write_bytes("\r\n".join(rows).encode("cp1252") + b"\r\n")
    report = run(session, weekly, path, settings, batch_size=100)
    assert report.imported == 2001 and report.skipped == 0
    assert report.legacy_lines == [2001, 2002]
    assert report.legacy_summary() == "lines 2001 and 2002"
    jose = get_subscriber(session, "jose@example.org")
    assert jose is not None and (jose.name, jose.company) == ("José Núñez", "Pemex – Dirección")
    zoe = get_subscriber(session, "zoe@example.org")
    assert zoe is not None and zoe.name == "Zoë"


def test_a_utf8_file_names_no_line_as_read_otherwise(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    report = run(session, weekly, write(tmp_path, "email,name\njose@example.org,José\n"), settings)
    assert report.legacy_lines == [] and report.imported == 1
