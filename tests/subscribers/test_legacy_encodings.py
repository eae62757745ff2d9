"""CSV exports saved in a Windows code page other than Western European: every name reads right."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mailer.settings import Settings
from subscribers.encodings import legacy_encoding
from subscribers.errors import ImportFileError
from subscribers.importing import import_csv
from subscribers.lifecycle import get_subscriber
from subscribers.models import MailingList

# (encoding the export is saved in, its rows, the name the report gives the encoding)
EXPORTS = [
    pytest.param(
        "cp1251",
        [
            ("ivan@example.ru", "Иван Петров", "ООО «Ромашка»"),
            ("olga@example.ru", "Ольга", "Москва"),
        ],
        "Windows-1251 (Cyrillic)",
        id="windows-1251",
    ),
    pytest.param(
        "iso8859_2",
        [
            ("marta@example.cz", "Marta Dvořáková", "Brno"),
            ("stepan@example.cz", "Štěpán", "Šťastný"),
        ],
        "ISO-8859-2 (Central European)",
        id="iso-8859-2",
    ),
    pytest.param(
        "cp1250",
        [
            ("pawel@example.pl", "Paweł Świątek", "Łódź"),
            ("lukasz@example.pl", "Łukasz Żółć", "Kraków"),
        ],
        "Windows-1250 (Central European)",
        id="windows-1250",
    ),
    pytest.param(
        "shift_jis",
        [
            ("sato@example.jp", "佐藤 健", "ソニー株式会社"),
            ("ito@example.jp", "伊藤 美咲", "トヨタ自動車"),
        ],
        "Shift-JIS (Japanese)",
        id="shift-jis",
    ),
    pytest.param(
        "cp1253",
        [("nikos@example.gr", "Νίκος Παπαδόπουλος", "Αθήνα")],
        "Windows-1253 (Greek)",
        id="windows-1253",
    ),
    pytest.param(
        "cp1252",
        [("joao@example.br", "João Gonçalves", "São Paulo"), ("jose@example.es", "José", "Málaga")],
        "Windows-1252 (Western European)",
        id="windows-1252",
    ),
]


@pytest.mark.parametrize(("encoding", "rows", "named"), EXPORTS)
def test_a_legacy_export_reads_every_name_and_the_report_names_the_encoding(
    session: Session,
    weekly: MailingList,
    settings: Settings,
    tmp_path: Path,
    encoding: str,
    rows: list[tuple[str, str, str]],
    named: str,
) -> None:
    lines = ["email,name,company", "plain@example.org,Plain,Acme"]
    lines += [",".join(row) for row in rows]
    path = tmp_path / "export.csv"
    path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    report = import_csv(session, weekly, path, settings.secret())
    session.commit()
    assert report.imported == len(rows) + 1 and report.skipped == 0
    assert report.legacy_lines == list(range(3, 3 + len(rows)))
    assert report.legacy_encoding_name == named
    for email, name, company in rows:
        person = get_subscriber(session, email)
        assert person is not None and (person.name, person.company) == (name, company)


def test_legacy_lines_after_many_utf8_lines_are_read_in_their_encoding(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    head = "email,name\n" + "".join(f"p{n}@example.org,Reader {n}\n" for n in range(3000))
    tail = "ivan@example.ru,Иван Петров\nolga@example.ru,Ольга Смирнова\n"
    path = tmp_path / "export.csv"
    path.write_bytes(
        head.encode("utf-8") + tail.encode("cp1251") + "zoe@example.org,Zoë\n".encode()
    )
    report = import_csv(session, weekly, path, settings.secret(), batch_size=500)
    session.commit()
    assert report.imported == 3003
    assert report.legacy_lines == [3002, 3003]
    ivan = get_subscriber(session, "ivan@example.ru")
    zoe = get_subscriber(session, "zoe@example.org")
    assert ivan is not None and ivan.name == "Иван Петров"
    assert zoe is not None and zoe.name == "Zoë"


def test_a_byte_no_code_page_reads_cleanly_still_refuses_the_file_at_its_line(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"email,name\nana@example.org,Ana\nbea@example.org,B\x81a\n")
    with pytest.raises(ImportFileError) as info:
        import_csv(session, weekly, path, settings.secret())
    assert "export.csv:3: not valid UTF-8 (invalid start byte at byte 18 of the line)" in str(
        info.value
    )


@pytest.mark.parametrize(
    ("encoding", "line"),
    [
        ("cp1251", "ivan@example.ru,Иван"),
        ("cp1251", "x@example.ua,Олександр Шевченко,Київ"),
        ("koi8_r", "olga@example.ru,Ольга Смирнова,Санкт-Петербург"),
        ("shift_jis", "x@example.jp,高橋"),
        ("shift_jis", "hanako@example.jp,すずき はなこ,東京"),
        ("euc_jp", "taro@example.jp,山田太郎,東京"),
        ("cp949", "kim@example.kr,김민준,서울"),
        ("gb18030", "li@example.cn,李小龙,北京"),
        ("big5", "chen@example.tw,陳美玲,臺北"),
        ("cp1253", "nikos@example.gr,Νίκος Παπαδόπουλος,Αθήνα"),
        ("cp1254", "x@example.tr,Ayşe Yılmaz,İstanbul"),
        ("iso8859_2", "x@example.hu,Erdős Pál,Győr"),
        ("cp1252", "joao@example.br,João Gonçalves,São Paulo"),
        ("cp1252", "x@example.no,Åse Ødegård,Tromsø"),
    ],
)
def test_a_single_short_line_is_read_in_its_encoding(encoding: str, line: str) -> None:
    raw = line.encode(encoding)
    assert raw.decode(legacy_encoding(raw)[0]) == line
