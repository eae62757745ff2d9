"""GDPR access and erasure: after `forget`, the address is stored nowhere and is still refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from mailer.settings import Settings
from subscribers.addresses import address_hash
from subscribers.errors import NotFound, Suppressed
from subscribers.gdpr import export_data, forget
from subscribers.importing import import_csv
from subscribers.lifecycle import add_subscriber, get_subscriber
from subscribers.lists import create_list
from subscribers.models import Suppression, SuppressionReason
from subscribers.suppression import add_suppression
from tests.conftest import SUBSCRIBERS_CSV


def every_stored_value(session: Session) -> list[str]:
    """Every value of every column of every table, as text (JSON for structured values)."""
    conn = session.connection()
    values: list[str] = []
    for table in inspect(conn).get_table_names():
        for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608 - our own names
            for value in row:
                if value is None:
                    continue
                if isinstance(value, bytes | memoryview):
                    values.append(bytes(value).decode("utf-8", "replace"))
                elif isinstance(value, dict | list):
                    values.append(json.dumps(value, ensure_ascii=False))
                else:
                    values.append(str(value))
    return values


def test_export_data_gives_everything_held_about_the_person(
    session: Session, settings: Settings
) -> None:
    key = settings.secret()
    weekly = create_list(session, "weekly", "Weekly")
    import_csv(session, weekly, SUBSCRIBERS_CSV, key)
    add_suppression(session, "o'brien+news@example.ie", key, SuppressionReason.MANUAL, "asked")
    session.commit()
    data = export_data(session, "O'Brien+News@Example.IE", key)
    json.dumps(data)  # serialisable as is
    person = data["subscriber"]
    assert person["email"] == "o'brien+news@example.ie"
    assert (person["name"], person["company"], person["language"]) == (
        "Siobhán O'Brien",
        'Dublin Risk Ltd, "Advisory"',
        "en",
    )
    assert person["tags"] == ["client", "finance"]
    assert person["consent"]["method"] == "import"
    assert person["consent"]["source"] == "import: subscribers-sample.csv"
    assert [(s["list"], s["status"]) for s in data["subscriptions"]] == [("weekly", "active")]
    assert data["suppression"]["reason"] == "manual"
    assert data["suppression"]["detail"] == "asked"
    with pytest.raises(NotFound, match="no data is held about nobody@example.org"):
        export_data(session, "nobody@example.org", key)


def test_forget_erases_the_address_everywhere_and_a_later_import_is_refused(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    key = settings.secret()
    weekly = create_list(session, "weekly", "Weekly")
    import_csv(session, weekly, SUBSCRIBERS_CSV, key)
    add_suppression(session, "mixed.case@example.com", key, SuppressionReason.MANUAL, "x")
    session.commit()
    before = every_stored_value(session)
    assert any("mixed.case@example.com" in v.lower() for v in before)  # the check can fail

    assert forget(session, "Mixed.Case@Example.COM", key) is not None
    session.commit()

    after = [v.lower() for v in every_stored_value(session)]
    assert not [v for v in after if "mixed.case@example.com" in v]
    assert not [v for v in after if "mixed case" in v]  # the name went too
    assert any("valeria.gonzalez0@example.com" in v for v in after)  # others untouched
    (entry,) = session.scalars(select(Suppression)).all()
    assert (entry.email, entry.reason, entry.detail) == (None, SuppressionReason.ERASED, "")
    assert entry.address_hash == address_hash("mixed.case@example.com", key)

    csv = tmp_path / "again.csv"
    csv.write_text("email,name\nMIXED.case@example.com,Back Again\n", encoding="utf-8")
    report = import_csv(session, weekly, csv, key)
    session.commit()
    assert (report.imported, report.suppressed) == (0, 1)
    assert get_subscriber(session, "mixed.case@example.com") is None
    with pytest.raises(Suppressed, match=r"\(erased\)"):
        add_subscriber(session, weekly, "mixed.case@example.com", key)
    assert not [v for v in every_stored_value(session) if "mixed.case@example.com" in v.lower()]
    assert forget(session, "mixed.case@example.com", key) is None  # idempotent
