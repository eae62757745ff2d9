"""What a new user's first files did to the import: tags in a semicolon file, one stray quote,
an Excel workbook given as the CSV (found by a trial with a fresh clone)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.settings import Settings
from subscribers.errors import ImportFileError
from subscribers.importing import import_csv
from subscribers.lifecycle import get_subscriber
from subscribers.models import MailingList
from subscribers.segments import count

runner = CliRunner()


def imported(session: Session, mlist: MailingList, path: Path, settings: Settings):  # type: ignore[no-untyped-def]
    report = import_csv(session, mlist, path, settings.secret())
    session.commit()
    return report


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("email;name;tags\ndan@example.com;Dan;client,vip\n", "client,vip"),
        ('email,name,tags\ndan@example.com,Dan,"client;vip"\n', "client;vip"),
        ("email\tname\ttags\ndan@example.com\tDan\tclient | vip\n", "client | vip"),
        ("email|name|tags\ndan@example.com|Dan|client;vip\n", "client;vip"),
    ],
)
def test_tags_in_a_cell_split_at_semicolon_comma_or_bar_whatever_the_files_separator(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path, text: str, cell: str
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(text)
    report = imported(session, weekly, path, settings)
    assert report.imported == 1 and not report.problems, cell
    dan = get_subscriber(session, "dan@example.com")
    assert dan is not None and sorted(dan.tags) == ["client", "vip"]
    assert count(session, weekly.id, "tag:vip") == 1


def test_a_stray_quote_is_reported_on_its_line_and_the_rows_it_swallowed_are_kept(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    people = [
        f"{n}@example.com;{n.title()};client"
        for n in ["abc", "def", "gil", "jon", "kim", "lea", "mo"]
    ]
    rows = [
        *people,
        '"hank@example.com;Hank;client',  # line 9: the stray quote
        "ivan@example.com;Ivan;client",
        "joe@example.com;Joe;client",
        'kate@example.com;"Kate";client',  # a quote that closes the stray one
        "liam@example.com;Liam;client",
    ]
    path = tmp_path / "clients.csv"
    path.write_text("email;name;tags\n" + "\n".join(rows) + "\n")
    result = runner.invoke(app, ["subscribers", "import", str(path), "--list", weekly.slug])
    assert result.exit_code == 0, result.output
    assert f"{len(rows)} rows read; {len(rows) - 1} imported" in result.output
    assert (
        'row 9 (line 9): email "hank@example.com;Hank;client": unclosed quote opened on '
        "line 9" in result.output
    )
    assert "ran on over lines 10-12" in result.output
    for kept in ("ivan", "joe", "kate", "liam", "abc"):
        assert get_subscriber(session, f"{kept}@example.com") is not None, kept
    assert get_subscriber(session, "hank@example.com") is None


def test_a_quoted_value_on_two_lines_is_still_one_value(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text('email,name,company\nana@example.com,Ana,"Acme, Inc.\nBogotá office"\n')
    report = imported(session, weekly, path, settings)
    assert report.imported == 1 and not report.problems
    ana = get_subscriber(session, "ana@example.com")
    assert ana is not None and ana.company == "Acme, Inc. Bogotá office"


def _xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


def _ods() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (_xlsx(), "this looks like an Excel workbook (.xlsx); save it as CSV (UTF-8)"),
        (_ods(), "this looks like an OpenDocument spreadsheet (.ods); save it as CSV (UTF-8)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "an old Excel workbook (.xls)"),
        ("email,name\n".encode("utf-16-le"), "this file is UTF-16 text without a byte-order mark"),
    ],
)
def test_a_spreadsheet_in_its_own_format_is_refused_saying_to_save_it_as_csv(
    session: Session,
    weekly: MailingList,
    settings: Settings,
    tmp_path: Path,
    data: bytes,
    said: str,
) -> None:
    path = tmp_path / "people.xlsx"
    path.write_bytes(data)
    with pytest.raises(ImportFileError) as caught:
        imported(session, weekly, path, settings)
    assert said in str(caught.value)
    assert "attribute name" not in str(caught.value)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_excels_unicode_text_is_imported(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path, encoding: str
) -> None:
    """Excel's "Unicode Text" (UTF-16 with a byte-order mark, TAB-separated, CRLF): read as it
    is, names in any script kept, a bad row still reported by its line."""
    text = (
        "email\tname\tcompany\r\n"
        "ana.perez@example.com\tAna Pérez\tGrupo Ñandú\r\n"
        "yamada@example.jp\t山田太郎\t株式会社\r\n"
        "not-an-address\tNobody\t\r\n"
    )
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path = tmp_path / "people.txt"
    path.write_bytes(data)
    report = imported(session, weekly, path, settings)
    assert report.imported == 2, report
    assert [p.line for p in report.problems] == [4]
    yamada, ana = (
        get_subscriber(session, "yamada@example.jp"),
        get_subscriber(session, "ana.perez@example.com"),
    )
    assert yamada is not None and yamada.name == "山田太郎"
    assert ana is not None and (ana.name, ana.company) == ("Ana Pérez", "Grupo Ñandú")
