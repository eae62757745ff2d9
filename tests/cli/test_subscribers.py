"""`mailer list|subscribers|suppression …` as a user runs them: what they print and what they do."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.sending.confirmations import parse_confirm_token
from mailer.settings import Settings
from subscribers.lifecycle import get_subscriber
from subscribers.models import SubscriptionStatus
from tests.conftest import SUBSCRIBERS_CSV
from tests.smtpd import SMTPServer

runner = CliRunner()


def mailer(*args: str, input: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


@pytest.fixture
def weekly(settings: Settings) -> str:
    mailer("list", "create", "weekly", "--name", "Weekly Briefing")
    return "weekly"


def test_list_create_and_list_show_the_lists_with_counts(settings: Settings) -> None:
    assert mailer("list", "list") == (
        "no lists yet: create one with `mailer list create SLUG --name NAME`\n"
    )
    assert mailer("list", "create", "weekly", "--name", "Weekly Briefing") == (
        "created list weekly (Weekly Briefing)\n"
    )
    mailer("subscribers", "import", str(SUBSCRIBERS_CSV), "--list", "weekly")
    mailer("subscribers", "remove", "ana.garcia34@example.mx", "--list", "weekly")
    assert mailer("list", "list").splitlines() == [
        "SLUG    VISIBILITY   ACTIVE  PENDING  UNSUBSCRIBED  NAME",
        "weekly  public           37        0             1  Weekly Briefing",
    ]


def test_import_prints_the_summary_and_every_row_it_did_not_import(
    settings: Settings, weekly: str
) -> None:
    out = mailer("subscribers", "import", str(SUBSCRIBERS_CSV), "--list", weekly)
    assert out.splitlines() == [
        f"{SUBSCRIBERS_CSV} → list weekly: 43 rows read; 38 imported, 0 updated, 0 unchanged, "
        "0 unsubscribed by the file's status column, 4 skipped, 0 suppressed, "
        "0 left unsubscribed, 1 duplicate merged",
        "separator: comma (,), detected",
        "skipped rows (fix them and import the file again; good rows are kept):",
        "  row 40 (line 40, column 1 ('email')): email \"not-an-email\": An email address must "
        "have an @-sign.",
        "  row 41 (line 41, column 1 ('email')): email \"\": missing email address",
        "  row 42 (lines 42-43, column 1 ('email')): email "
        '"evil@example.com\\r\\nBcc: victim@example.org": '
        "the email address contains a line break (CR/LF), which could inject mail headers",
        "  row 44 (line 45, column 4 ('language')): email \"ping@example.com\": "
        "unknown language 'xx': use a two-letter ISO 639-1 code such as en or es",
        "duplicate addresses (merged into one subscriber; later non-empty cells win, tags are "
        "combined):",
        "  row 39 (line 39): mixed.case@example.com repeats row 38",
    ]
    again = mailer("subscribers", "import", str(SUBSCRIBERS_CSV), "--list", weekly)
    assert (
        "0 imported, 0 updated, 38 unchanged, 0 unsubscribed by the file's status column, 4 skipped"
        in again
    )


def test_a_mailchimp_export_imports_and_the_summary_says_how_its_columns_were_read(
    settings: Settings, weekly: str, tmp_path: Path
) -> None:
    export = tmp_path / "subscribed_members_export.csv"
    export.write_text(
        '"Email Address","First Name","Last Name","Phone Number"\n'
        '"ana@example.org","Ana","López",""\n',
        encoding="utf-8",
    )
    out = mailer("subscribers", "import", str(export), "--list", weekly)
    assert "1 imported" in out
    assert (
        "columns read as: 'Email Address' as email, 'First Name' + 'Last Name' as name"
        in out.splitlines()
    )
    assert "columns stored as attributes: Phone Number" in out.splitlines()
    assert "Ana López" in mailer("subscribers", "show", "ana@example.org")


def test_a_windows_1252_export_imports_and_the_summary_names_the_lines_to_check(
    settings: Settings, weekly: str, tmp_path: Path
) -> None:
    export = tmp_path / "contacts.csv"
    export.write_bytes(
        "email;name\r\nana@example.org;Ana\r\njose@example.org;José\r\n".encode("cp1252")
    )
    out = mailer("subscribers", "import", str(export), "--list", weekly)
    assert "2 imported" in out
    assert (
        "not UTF-8, read as Windows-1252 (Western European): line 3; if names "
        "there look wrong, save the file as 'CSV UTF-8' and import it again (rows already "
        "imported are updated)"
    ) in out.splitlines()
    assert "José" in mailer("subscribers", "show", "jose@example.org")


def test_export_prints_csv_that_imports_back_unchanged(
    settings: Settings, weekly: str, tmp_path: Path
) -> None:
    mailer("subscribers", "import", str(SUBSCRIBERS_CSV), "--list", weekly)
    out = mailer("subscribers", "export", "--list", weekly)
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["email", "name", "company", "language", "tags", "status"]
    assert len(rows) == 39
    dump = tmp_path / "dump.csv"
    dump.write_text(out, encoding="utf-8", newline="")
    again = mailer("subscribers", "import", str(dump), "--list", weekly)
    assert (
        "38 rows read; 0 imported, 0 updated, 38 unchanged, "
        "0 unsubscribed by the file's status column, 0 skipped" in again
    )
    segment = mailer("subscribers", "export", "--list", weekly, "--where", "tag:press")
    assert [r[0] for r in csv.reader(io.StringIO(segment))] == [
        "email",
        "tomas.diaz7@example.mx",
        "ricardo.hernandez11@example.net",
        "maria.rodriguez24@example.org",
        "miguel.gomez33@example.org",
    ]


def test_add_remove_and_show(settings: Settings, weekly: str, session: Session) -> None:
    out = mailer(
        "subscribers",
        "add",
        "Ana@Example.org",
        "--list",
        weekly,
        "--name",
        "Ana [bold]López[/bold]",
        "--language",
        "es",
        "--tag",
        "client",
        "--tag",
        "vip",
    )
    assert out == "added ana@example.org to weekly (active)\n"
    assert mailer("subscribers", "add", "ana@example.org", "--list", weekly) == (
        "ana@example.org is already on weekly; details updated\n"
    )
    pending = mailer("subscribers", "add", "new@example.org", "--list", weekly, "--pending")
    assert pending.splitlines()[0] == "new@example.org is pending on weekly until they confirm"
    assert pending.splitlines()[1].startswith("confirmation sent to new@example.org (250 ")
    removed = mailer(
        "subscribers", "remove", "ana@example.org", "--list", weekly, "--reason", "asked"
    )
    assert removed.startswith("unsubscribed ana@example.org from weekly (")
    shown = mailer("subscribers", "show", "ANA@example.org").splitlines()
    assert shown[0] == "ana@example.org"
    assert "  status:     active" in shown
    assert "  name:       Ana [bold]López[/bold]" in shown  # printed as written, no markup
    assert "  tags:       client, vip" in shown
    consent = next(line for line in shown if line.startswith("  consent:    admin (admin) "))
    assert re.fullmatch(r"  consent:    admin \(admin\) \d{4}-\d\d-\d\d \d\d:\d\d UTC", consent)
    lists = shown.index("lists:")
    assert shown[lists + 1].startswith("  weekly: unsubscribed (since ")
    assert shown[lists + 1].endswith("(asked))")
    assert shown[-1] == "suppression: not suppressed"
    ana = get_subscriber(session, "ana@example.org")
    assert ana is not None and ana.subscriptions[0].status == SubscriptionStatus.UNSUBSCRIBED


def test_remove_all_unsubscribes_everywhere_and_suppresses(settings: Settings, weekly: str) -> None:
    mailer("subscribers", "add", "ana@example.org", "--list", weekly)
    assert mailer("subscribers", "remove", "ana@example.org", "--all") == (
        "unsubscribed ana@example.org from every list and suppressed it\n"
    )
    shown = mailer("subscribers", "show", "ana@example.org")
    assert "  status:     unsubscribed" in shown
    assert "suppression: unsubscribe since " in shown


def test_suppression_add_list_remove(settings: Settings, weekly: str) -> None:
    mailer("subscribers", "add", "ana@example.org", "--list", weekly)
    assert mailer("suppression", "add", "Ana@example.org", "--reason", "asked by phone") == (
        "suppressed ana@example.org (manual: asked by phone)\n"
    )
    assert mailer("suppression", "add", "bad@example.org", "--reason", "hard_bounce") == (
        "suppressed bad@example.org (hard_bounce)\n"
    )
    listed = mailer("suppression", "list").splitlines()
    assert len(listed) == 2
    assert any(line.endswith("manual       ana@example.org  asked by phone") for line in listed), (
        listed
    )
    assert any(line.endswith("hard_bounce  bad@example.org") for line in listed), listed
    shown = mailer("subscribers", "show", "ana@example.org")
    assert "  status:     active" in shown  # the subscriber is kept
    assert "suppression: manual since " in shown and "(asked by phone)" in shown
    # Suppressing again without a note keeps the note, and says nothing changed; a new note
    # replaces it and says so.
    assert mailer("suppression", "add", "ana@example.org") == (
        "already suppressed, unchanged: ana@example.org (manual: asked by phone)\n"
    )
    assert mailer("suppression", "add", "ana@example.org", "--reason", "asked again") == (
        "already suppressed, updated: ana@example.org (manual: asked again)\n"
    )
    assert mailer("suppression", "remove", "ana@example.org") == (
        "removed ana@example.org from the suppression list\n"
    )
    assert len(mailer("suppression", "list").splitlines()) == 1


@pytest.mark.parametrize(
    "command",
    [
        ("suppression", "add"),
        ("suppression", "remove"),
        ("subscribers", "show"),
        ("subscribers", "export-data"),
        ("subscribers", "forget"),
    ],
    ids=" ".join,
)
def test_a_command_given_something_that_is_not_an_address_names_it(
    settings: Settings, command: tuple[str, str]
) -> None:
    """`mailer suppression add notanemail` answered only "An email address must have an
    @-sign.", naming neither the argument nor what was typed."""
    result = runner.invoke(app, [*command, "notanemail"])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "'notanemail' is not an email address: An email address must have an @-sign" in said


def test_export_data_prints_json_and_forget_erases(
    settings: Settings, weekly: str, tmp_path: Path
) -> None:
    mailer("subscribers", "import", str(SUBSCRIBERS_CSV), "--list", weekly)
    data = json.loads(mailer("subscribers", "export-data", "Mixed.Case@Example.COM"))
    assert data["subscriber"]["name"] == "Mixed Case (duplicate)"
    assert data["subscriber"]["consent"]["method"] == "import"
    assert data["subscriptions"][0]["list"] == "weekly"
    refused = runner.invoke(app, ["subscribers", "forget", "mixed.case@example.com"], input="n\n")
    assert refused.exit_code == 0, refused.output  # a no, as `mailer send` takes it
    assert refused.output.endswith("not erased: nothing was changed\n")
    assert json.loads(mailer("subscribers", "export-data", "mixed.case@example.com"))["subscriber"]
    out = mailer("subscribers", "forget", "mixed.case@example.com", input="y\n")
    assert out.endswith(
        "erased the subscriber's data; the address is kept only as a keyed hash on the "
        "suppression list\n"
    )
    assert (
        mailer("suppression", "list")
        .rstrip()
        .endswith("erased       (erased: kept as a keyed hash only)")
    )
    again = mailer("subscribers", "import", str(SUBSCRIBERS_CSV), "--list", weekly)
    assert "1 suppressed" in again
    assert "  row 38 (line 38): mixed.case@example.com: on the suppression list" in again
    data = json.loads(mailer("subscribers", "export-data", "mixed.case@example.com"))
    assert data["subscriber"] is None and data["suppression"]["reason"] == "erased"


def test_forget_says_before_asking_when_there_is_no_record(settings: Settings, weekly: str) -> None:
    """`forget` of an address with no subscriber (a typo, someone who never subscribed) asked
    "Erase everything held about …?" and said only afterwards that there was nothing: the
    question says what it will do; a bad address is refused before any question."""
    asked = runner.invoke(app, ["subscribers", "forget", "nobody@example.org"], input="n\n")
    assert asked.exit_code == 0, asked.output
    assert asked.output.startswith("nobody@example.org has no subscriber record. Put it on the ")
    assert "Erase everything" not in asked.output
    assert "nobody" not in mailer("suppression", "list")  # a no changed nothing
    done = mailer("subscribers", "forget", "nobody@example.org", input="y\n")
    assert done.endswith(
        "no subscriber record to erase; the address is kept only as a keyed hash on the "
        "suppression list\n"
    )
    assert "erased" in mailer("suppression", "list")
    bad = runner.invoke(app, ["subscribers", "forget", "not-an-address"], input="y\n")
    assert bad.exit_code == 2 and bad.stdout == "", bad.output  # no question was asked
    assert "'not-an-address' is not an email address" in " ".join(bad.output.split())


def _run_mailer(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script; stderr with rich's line wrapping undone."""
    exe = Path(sys.executable).with_name("mailer")
    done = subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env=os.environ.copy(), timeout=60
    )
    done.stderr = " ".join(done.stderr.split())
    return done


def test_user_errors_print_one_line_saying_what_to_do_and_exit_1(
    settings: Settings, weekly: str, tmp_path: Path
) -> None:
    nolist = _run_mailer("subscribers", "import", str(SUBSCRIBERS_CSV), "--list", "weeky")
    assert nolist.returncode == 1
    assert "no list with slug 'weeky' (known lists: weekly)" in nolist.stderr
    assert "Traceback" not in nolist.stderr
    headerless = tmp_path / "headerless.csv"
    headerless.write_text("ana@example.org,Ana\n", encoding="utf-8")
    bad = _run_mailer("subscribers", "import", str(headerless), "--list", "weekly")
    assert bad.returncode == 1
    assert f"{headerless}:1: row 1 looks like data, not a header" in bad.stderr
    renamed = tmp_path / "outlook.csv"
    renamed.write_text("Name,Mailbox\nAna,ana@example.org\n", encoding="utf-8")
    no_email = _run_mailer("subscribers", "import", str(renamed), "--list", "weekly")
    assert no_email.returncode == 1
    assert (
        f"{renamed}:1: the header has no column named 'email' (found: Name, Mailbox); "
        "rename the column holding the addresses to 'email' (probably 'Mailbox'): the names "
        "taken for it are 'email' in any case ('Email', 'EMAIL') and other tools' 'Email "
        "Address', 'E-mail Address', 'E-mail 1 - Value', 'Correo electrónico'; the other columns "
        "it knows are name, company, language, tags and status"
    ) in no_email.stderr
    unknown = _run_mailer("subscribers", "show", "nobody@example.org")
    assert unknown.returncode == 1
    assert "no subscriber with address nobody@example.org" in unknown.stderr


def test_importing_another_lists_export_names_whom_its_status_column_unsubscribed(
    settings: Settings, weekly: str, tmp_path: Path
) -> None:
    # The trial's repro: zed left `clients`, was then added to `board`; importing the clients
    # export into board unsubscribes him there, and the summary must say so by name.
    mailer("list", "create", "clients", "--name", "Clients")
    mailer("subscribers", "add", "zed@zed.example", "--list", "clients")
    mailer("subscribers", "remove", "zed@zed.example", "--list", "clients")
    exported = tmp_path / "exp.csv"
    exported.write_text(mailer("subscribers", "export", "--list", "clients"), encoding="utf-8")
    mailer("subscribers", "add", "zed@zed.example", "--list", weekly)
    out = mailer("subscribers", "import", str(exported), "--list", weekly).splitlines()
    assert "0 updated, 0 unchanged, 1 unsubscribed by the file's status column" in out[0]
    assert out[2:4] == [
        "unsubscribed from weekly by the file's status column (a file exported from another "
        "list carries that list's statuses):",
        "  row 2 (line 2): zed@zed.example: active on weekly: unsubscribed by the file's status "
        "column",
    ]


def test_add_pending_sends_the_double_opt_in_email_through_the_relay(
    settings: Settings, weekly: str, relay: SMTPServer
) -> None:
    """As the web form does: a pending subscriber added by hand gets the confirmation email,
    whose link confirms that subscription; --no-confirmation-email sends none."""
    out = mailer("subscribers", "add", "new@example.org", "--list", weekly, "--pending")
    assert "confirmation sent to new@example.org (250 " in out, out
    (received,) = relay.sink.to("new@example.org")
    message = received.message
    assert message["Subject"] == "Please confirm your subscription to Weekly Briefing"
    body = message.get_body(("plain",))
    assert body is not None
    token = re.search(r"/confirm/([\w.-]+)", body.get_content())
    assert token is not None, body.get_content()
    claim = parse_confirm_token(token.group(1), settings.verification_secrets())
    assert claim is not None

    quiet = mailer(
        "subscribers",
        "add",
        "quiet@example.org",
        "--list",
        weekly,
        "--pending",
        "--no-confirmation-email",
    )
    assert quiet == "quiet@example.org is pending on weekly until they confirm\n"
    assert relay.sink.to("quiet@example.org") == []


@pytest.mark.parametrize(
    ("option", "value", "code"),
    [
        ("--name", "Eve\r\nBcc: victim@example.org", "U+000D"),
        ("--name", "Eve\nX", "U+000A"),
        ("--name", "Eve\tSmith", "U+0009"),
        ("--company", "Acme\u2028Inc", "U+2028"),
    ],
)
def test_add_refuses_a_line_break_in_a_typed_field_as_the_api_does(
    settings: Settings, weekly: str, session: Session, option: str, value: str, code: str
) -> None:
    """`subscribers add --name "Eve\\r\\nBcc: …"` added "Eve Bcc: …" without a word, where the
    API refuses the same name with a 422: the CLI refuses it too, naming the option and the
    character, and adds no one."""
    result = _run_mailer("subscribers", "add", "eve@example.org", "--list", weekly, option, value)
    assert result.returncode == 1, result.stdout
    said = result.stderr
    assert "Traceback" not in said
    assert f"error: {option} holds the control character {code}" in said, said
    assert "type it again on one line" in said
    assert get_subscriber(session, "eve@example.org") is None
