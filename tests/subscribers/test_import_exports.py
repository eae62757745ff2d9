"""Other tools' real exports import as a user expects: listmonk's JSON attributes, long values."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from mailer.settings import Settings
from subscribers.importing import ImportReport, import_csv
from subscribers.lifecycle import get_subscriber
from subscribers.models import MailingList


def run(session: Session, mlist: MailingList, path: Path, settings: Settings) -> ImportReport:
    report = import_csv(session, mlist, path, settings.secret())
    session.commit()
    return report


def write(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_listmonk_export_keeps_each_json_attribute_as_its_own(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    # listmonk's subscribers export: the attributes column holds one JSON object per row.
    path = write(
        tmp_path,
        "uuid,email,name,attributes,status,created_at,updated_at\n"
        '0f3c…,ana@example.org,Ana,"{""city"": ""Madrid"", ""tier"": ""gold"", ""seats"": 3}",'
        "enabled,2024-01-02 10:00:00+00,2024-01-02 10:00:00+00\n"
        'b1a2…,bea@example.org,Bea,"{}",enabled,2024-01-02 10:00:00+00,2024-01-02 10:00:00+00\n'
        'c9d8…,cai@example.org,Cai,"{""projects"": [""a"", ""b""]}",blocklisted,'
        "2024-01-02 10:00:00+00,2024-01-02 10:00:00+00\n",
    )
    report = run(session, weekly, path, settings)
    assert (report.imported, report.suppressed, report.skipped) == (2, 1, 0)
    ana = get_subscriber(session, "ana@example.org")
    assert ana is not None and ana.attributes.get("city") == "Madrid"
    assert ana.attributes.get("tier") == "gold" and ana.attributes.get("seats") == "3"
    assert "attributes" not in ana.attributes
    bea = get_subscriber(session, "bea@example.org")
    assert bea is not None and "attributes" not in bea.attributes
    assert report.value_notes == []
    # The summary says the column was split, not stored as one attribute named `attributes`.
    assert "attributes (one attribute per JSON key)" in report.attributes_summary()


def test_an_attributes_cell_that_is_not_json_is_kept_and_named(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, "email,attributes\nana@example.org,{city: Madrid}\n")
    report = run(session, weekly, path, settings)
    assert report.imported == 1
    ana = get_subscriber(session, "ana@example.org")
    assert ana is not None and ana.attributes == {"attributes": "{city: Madrid}"}
    (note,) = report.value_notes
    assert (note.row, note.line) == (2, 2)
    assert "column 2 ('attributes')" in note.reason and "not a JSON object" in note.reason


def test_a_long_attribute_value_is_kept_and_a_too_long_one_costs_only_itself(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    notes = "Met at the Monterrey forum; interested in cartel risk for logistics. " * 3
    essay = "x" * 2_500
    path = write(
        tmp_path,
        "email,name,Notes,Sector\n"
        f"ana@example.org,Ana,{notes.strip()},Energy\n"
        f"bea@example.org,Bea,{essay},Mining\n",
    )
    report = run(session, weekly, path, settings)
    assert (report.imported, report.skipped) == (2, 0)
    ana = get_subscriber(session, "ana@example.org")
    assert ana is not None and ana.attributes == {"Notes": notes.strip(), "Sector": "Energy"}
    bea = get_subscriber(session, "bea@example.org")
    assert bea is not None and bea.name == "Bea" and bea.attributes == {"Sector": "Mining"}
    (note,) = report.value_notes
    assert (note.row, note.line, note.email) == (3, 3, "bea@example.org")
    assert note.reason.startswith("column 3 ('Notes'): attr.Notes is longer than 2000 characters")
    assert "the rest of the row was" in note.reason
