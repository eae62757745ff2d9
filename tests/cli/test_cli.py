"""The command line's own behaviour: errors are one clear line, never a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailer.cli import COMMANDS, app, load_command

SAMPLE_CSV = Path(__file__).parents[2] / "mailer" / "samples" / "subscribers-sample.csv"


def mailer(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
    return subprocess.run(
        [sys.executable, "-m", "mailer", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "command",
    [
        ("campaign", "list"),
        ("campaign", "status", "1"),
        ("report", "1"),
        ("list", "list"),
        ("segment", "count", "--list", "briefing", "tag:client"),
        # Commands that sign or hash with the key: they left a generated mailer.secret behind,
        # which a later `mailer demo` in that folder would have adopted.
        ("subscribers", "add", "ana@example.org", "--list", "briefing"),
        ("subscribers", "import", str(SAMPLE_CSV), "--list", "briefing"),
        ("subscribers", "forget", "ana@example.org", "--yes"),
        ("suppression", "add", "ana@example.org"),
    ],
)
def test_a_command_in_an_empty_folder_says_to_upgrade_and_creates_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Only `mailer db upgrade` and `mailer demo` create the embedded database: a command run in
    the wrong folder must not leave an empty mailer.db (or a signing key) behind."""
    done = mailer(tmp_path, *command)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "has no mailer tables yet" in done.stderr
    assert f"{tmp_path / 'mailer.db'} does not exist" in done.stderr
    assert "run `mailer db upgrade` first" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_empty_database_file_says_to_upgrade(tmp_path: Path) -> None:
    (tmp_path / "mailer.db").touch()
    done = mailer(tmp_path, "campaign", "status", "1")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "has no mailer tables yet" in done.stderr
    assert "run `mailer db upgrade` first" in done.stderr


def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    done = mailer(tmp_path, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "mailer.db").is_file()
    assert "created the schema in sqlite:///mailer.db" in done.stdout


def test_a_bad_setting_names_the_variable(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MAILER_PAGE_SIZE=Tabloid\nMAILER_BATCH_SIZE=many\n")
    done = mailer(tmp_path, "db", "upgrade")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "MAILER_PAGE_SIZE: MAILER_PAGE_SIZE must be A4 or Letter" in done.stderr
    assert "Value error" not in done.stderr  # pydantic's wording is not the user's
    assert "MAILER_BATCH_SIZE:" in done.stderr


def _every_command() -> list[list[str]]:
    paths: list[list[str]] = [[]]
    for name in COMMANDS:
        command = load_command(name)
        paths.append([name])
        paths.extend([name, sub] for sub in getattr(command, "commands", {}))
    return paths


def test_no_help_shows_type_noise_for_flags_or_values() -> None:
    """Every command's --help shows flags bare (`--yes`, `--no-wait`), values as click does
    (TEXT, INTEGER) and required arguments as `SLUG`, never `<bool>`, `<str>` or `{SLUG}`."""
    runner = CliRunner()
    paths = _every_command()
    assert len(paths) > 40  # the walk reached the sub-commands
    for path in paths:
        shown = runner.invoke(app, [*path, "--help"], terminal_width=100)
        assert shown.exit_code == 0, (path, shown.output)
        assert not re.search(r"<\w[\w\[\]|, ]*>|\{[A-Z_|]+\}", shown.output), (path, shown.output)
    send = runner.invoke(app, ["send", "--help"], terminal_width=100).output
    assert "Usage: mailer send [OPTIONS] SLUG" in send
    assert re.search(r"-y, --yes +Do not ask for confirmation\.", send)
    assert re.search(r"--list +TEXT +The mailing list\.", send)
    assert "--install-completion" not in send  # that belongs to `mailer --help` only


def test_a_mistyped_command_suggests_the_close_ones(tmp_path: Path) -> None:
    done = mailer(tmp_path, "subscriber", "list")
    assert done.returncode == 2
    assert "No such command 'subscriber'. Did you mean 'mailer subscribers'?" in " ".join(
        done.stderr.replace("│", " ").split()
    )


def test_a_campaign_id_that_is_not_a_number_says_so(tmp_path: Path) -> None:
    done = mailer(tmp_path, "campaign", "status", "abc")
    assert done.returncode == 2
    said = " ".join(done.stderr.replace("│", " ").split())
    assert "campaign id must be a number (as `mailer campaign list` shows), not 'abc'" in said
    assert "unable to parse" not in said


def test_one_row_is_one_row(tmp_path: Path) -> None:
    """Counts take their noun's number: "1 row read", not "1 rows read"."""
    from subscribers.text import counted

    assert (counted(1, "item"), counted(2, "item"), counted(0, "row")) == (
        "1 item",
        "2 items",
        "0 rows",
    )
    assert counted(1, "address", "addresses") == "1 address"
    (tmp_path / "one.csv").write_text("email\nana@example.com\n")
    assert mailer(tmp_path, "db", "upgrade").returncode == 0
    assert mailer(tmp_path, "list", "create", "weekly", "--name", "Weekly").returncode == 0
    done = mailer(tmp_path, "subscribers", "import", "one.csv", "--list", "weekly")
    assert done.returncode == 0, done.stderr
    assert "one.csv → list weekly: 1 row read; 1 imported" in done.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", [("list", "list"), ("campaign", "list")])
@pytest.mark.parametrize("where", ["no such database", "no server on the port"])
def test_a_database_that_cannot_be_reached_is_one_line(
    tmp_path: Path, command: tuple[str, ...], where: str
) -> None:
    """`campaign list` reads PostgreSQL with psycopg itself, the others through SQLAlchemy:
    both say which database, the driver's reason and the variable, without a traceback."""
    from tests.conftest import PG_SERVER

    if where == "no such database":
        url, reason = f"{PG_SERVER}/nosuchdb_{tmp_path.name}", "does not exist"
    else:
        url, reason = f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/x", "refused"
    shown = url.replace("postgres@", "postgres:***@", 1)
    url = url.replace("postgres@", "postgres:s3cret@", 1)
    (tmp_path / ".env").write_text(f"MAILER_DATABASE_URL={url}\n")
    done = mailer(tmp_path, *command)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: cannot connect to the database {shown}: "), lines[0]
    assert reason in lines[0].lower() and lines[0].endswith("; check MAILER_DATABASE_URL")
    assert "s3cret" not in done.stderr and "FATAL" not in done.stderr


def test_an_unsupported_database_url_names_the_variable_and_what_is_accepted(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env").write_text("MAILER_DATABASE_URL=mysql://x:s3cret@y/z\n")
    done = mailer(tmp_path, "list", "list")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "MySQLdb" not in done.stderr
    assert "MAILER_DATABASE_URL: 'mysql://x:***@y/z' is not a supported database URL" in (
        done.stderr
    )
    assert "sqlite:///PATH" in done.stderr and "postgresql+psycopg://" in done.stderr
