"""`mailer inbound` (mailer/cli/inbound.py) as a server: what a user sees when it cannot start."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailer.cli import app
from mailer.errors import ConfigError
from mailer.settings import Settings
from tests.cli.test_cli import _free_port, mailer

runner = CliRunner()


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def test_a_port_in_use_given_by_listen_names_the_option(
    settings: Settings, taken_port: int
) -> None:
    result = runner.invoke(app, ["inbound", "--listen", f"127.0.0.1:{taken_port}"])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--listen'" in result.output
    assert f"127.0.0.1:{taken_port} is already in use" in result.output


def test_a_port_in_use_from_the_setting_names_the_variable(
    settings: Settings, taken_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mailer.settings import reset_settings

    monkeypatch.setenv("MAILER_INBOUND_LISTEN", f"127.0.0.1:{taken_port}")
    reset_settings()
    result = runner.invoke(app, ["inbound"])
    assert isinstance(result.exception, ConfigError), result.exception
    assert str(result.exception).startswith(
        f"MAILER_INBOUND_LISTEN: 127.0.0.1:{taken_port} is already in use"
    )


@pytest.mark.parametrize("value", ["garbage", "127.0.0.1", "127.0.0.1:99999", ":2525"])
def test_a_bad_listen_option_names_the_option_not_the_variable(
    settings: Settings, value: str
) -> None:
    result = runner.invoke(app, ["inbound", "--listen", value])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert (
        f"Invalid value for '--listen': must be HOST:PORT (e.g. 127.0.0.1:2525), got {value!r}"
        in (said)
    )
    assert "MAILER_INBOUND_LISTEN" not in said


@pytest.mark.parametrize("database", ["missing", "empty"])
def test_inbound_without_the_tables_refuses_to_start(tmp_path: Path, database: str) -> None:
    if database == "empty":
        (tmp_path / "mailer.db").touch()
    done = mailer(tmp_path, "inbound", "--listen", f"127.0.0.1:{_free_port()}")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: the database sqlite:///mailer.db has no mailer tables yet")
