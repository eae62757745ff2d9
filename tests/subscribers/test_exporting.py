"""CSV export: columns, statuses, segments, and export → import → export giving the same bytes."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from mailer import db as mailer_db
from mailer.settings import Settings
from subscribers.db import make_engine, session_factory
from subscribers.exporting import export_csv
from subscribers.importing import import_csv
from subscribers.lifecycle import get_subscriber, unsubscribe_from_list
from subscribers.lists import create_list
from subscribers.models import MailingList, SuppressionReason
from subscribers.segments import matching_subscriber_ids
from subscribers.suppression import add_suppression, is_suppressed
from tests.conftest import SUBSCRIBERS_CSV


def exported(session: Session, mlist: MailingList | None, where: Select[Any] | None = None) -> str:
    out = io.StringIO(newline="")
    export_csv(session, mlist, out, where)
    return out.getvalue()


def test_export_has_the_import_columns_plus_status_and_one_row_per_subscriber(
    session: Session, settings: Settings
) -> None:
    weekly = create_list(session, "weekly", "Weekly")
    import_csv(session, weekly, SUBSCRIBERS_CSV, settings.secret())
    unsubscribe_from_list(session, weekly, "luis.sanchez4@example.org")
    session.commit()
    rows = list(csv.reader(io.StringIO(exported(session, weekly))))
    assert rows[0] == ["email", "name", "company", "language", "tags", "status"]
    assert len(rows) == 1 + 38
    by_email = {r[0]: r for r in rows[1:]}
    assert by_email["valeria.gonzalez0@example.com"] == [
        "valeria.gonzalez0@example.com",
        "Valeria González",
        "Ferrocarriles del Golfo",
        "en",
        "client;government",
        "active",
    ]
    assert by_email["luis.sanchez4@example.org"][5] == "unsubscribed"
    assert by_email["o'brien+news@example.ie"][2] == 'Dublin Risk Ltd, "Advisory"'
    assert "mixed.case@example.com" in by_email


def test_export_import_export_is_byte_identical_and_a_reimport_changes_nothing(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    weekly = create_list(session, "weekly", "Weekly")
    import_csv(session, weekly, SUBSCRIBERS_CSV, settings.secret())
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "email,name,sector,tags\r\n"
        'nl@example.org,"Line\r\nBreak",energy,b;a\r\n'
        "ping@example.com,<script>alert(1)</script>,,client\r\n",
        encoding="utf-8",
    )
    import_csv(session, weekly, extra, settings.secret())
    unsubscribe_from_list(session, weekly, "jose.rivera1@example.org")
    session.commit()
    first = exported(session, weekly)
    assert first.splitlines()[0] == "email,name,company,language,tags,status,attr.sector"

    dump = tmp_path / "export.csv"
    dump.write_bytes(first.encode("utf-8"))

    # Into a fresh database (same backend kind: SQLite file or a second list on PostgreSQL).
    fresh = create_list(session, "fresh", "Fresh copy")
    report = import_csv(session, fresh, dump, settings.secret())
    session.commit()
    # 39 imported; José, unsubscribed in the file, is added as unsubscribed, not imported
    counts = (report.imported, report.added_unsubscribed, report.skipped, report.updated)
    assert counts == (39, 1, 0, 0)
    assert exported(session, fresh) == first

    again = import_csv(session, weekly, dump, settings.secret())
    session.commit()
    assert (again.imported, again.updated, again.unchanged, again.skipped) == (0, 0, 40, 0)
    assert again.not_reactivated == 0  # its status column says unsubscribed: nothing to undo
    assert exported(session, weekly) == first


def test_export_into_a_fresh_sqlite_database_round_trips(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    weekly = create_list(session, "weekly", "Weekly")
    import_csv(session, weekly, SUBSCRIBERS_CSV, settings.secret())
    session.commit()
    first = exported(session, weekly)
    dump = tmp_path / "export.csv"
    dump.write_bytes(first.encode("utf-8"))

    url = f"sqlite:///{tmp_path / 'other.db'}"
    mailer_db.upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as other:
        copy = create_list(other, "weekly", "Weekly")
        import_csv(other, copy, dump, settings.secret())
        other.commit()
        assert exported(other, copy) == first
    engine.dispose()


def test_where_limits_the_export_to_active_subscribers_matching_the_expression(
    session: Session, settings: Settings
) -> None:
    weekly = create_list(session, "weekly", "Weekly")
    import_csv(session, weekly, SUBSCRIBERS_CSV, settings.secret())
    unsubscribe_from_list(session, weekly, "luis.sanchez4@example.org")  # es + client
    session.commit()
    ids = matching_subscriber_ids(session, weekly.id, "tag:client and lang:es")
    rows = list(csv.reader(io.StringIO(exported(session, weekly, ids))))
    emails = sorted(r[0] for r in rows[1:])
    assert emails == [
        "ana.morales20@example.net",
        "ana.torres31@example.net",
        "carmen.diaz21@example.net",
        "carmen.ramirez27@example.net",
        "carmen.sanchez16@example.mx",
        "laura.hernandez22@example.mx",
        "laura.morales9@example.mx",
        "paula.rivera14@example.mx",
        "raul.rivera35@example.net",
    ]
    assert {r[5] for r in rows[1:]} == {"active"}


def test_a_suppressed_reader_is_exported_as_suppressed_and_an_import_suppresses_them(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    # Whoever takes the export to another tool must not see a hard bounce as "active"; and the
    # export imported into another installation keeps them from being mailed there too.
    weekly = create_list(session, "weekly", "Weekly")
    people = tmp_path / "people.csv"
    people.write_text("email,name\nana@example.org,Ana\nbo@example.org,Bo\n", encoding="utf-8")
    import_csv(session, weekly, people, settings.secret())
    add_suppression(session, "bo@example.org", settings.secret(), SuppressionReason.HARD_BOUNCE)
    session.commit()
    lines = exported(session, weekly).splitlines()
    assert lines[1:] == ["ana@example.org,Ana,,,,active", "bo@example.org,Bo,,,,suppressed"]
    assert exported(session, None).splitlines()[2] == "bo@example.org,Bo,,,,suppressed"

    url = f"sqlite:///{tmp_path / 'other.db'}"
    mailer_db.upgrade(url)
    engine = make_engine(url)
    dump = tmp_path / "export.csv"
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with session_factory(engine)() as other:
        copy = create_list(other, "weekly", "Weekly")
        report = import_csv(other, copy, dump, settings.secret())
        other.commit()
        assert (report.imported, report.suppressed) == (1, 1)
        assert [(n.row, n.email) for n in report.suppressed_rows] == [(3, "bo@example.org")]
        assert "status column" in report.suppressed_rows[0].reason
        assert is_suppressed(other, "bo@example.org", settings.secret())
        assert get_subscriber(other, "bo@example.org") is None
        # importing it again: already suppressed, the reason is left as it is
        again = import_csv(other, copy, dump, settings.secret())
        other.commit()
        assert again.suppressed == 1 and "suppression list" in again.suppressed_rows[0].reason
    engine.dispose()
