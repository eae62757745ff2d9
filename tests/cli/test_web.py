"""`mailer web` (mailer/cli/web.py): what a user sees when it cannot listen."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailer.cli import app
from mailer.cli.web import public_url_mismatch
from mailer.settings import Settings

runner = CliRunner()


def test_a_port_in_use_names_the_option_to_change(settings: Settings) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = runner.invoke(app, ["web", "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert "'--port'" in result.output
    assert f"127.0.0.1:{port} is already in use" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("host", ["192.0.2.1"])  # TEST-NET-1: no machine here has it
def test_an_address_this_machine_lacks_names_the_host_option(settings: Settings, host: str) -> None:
    result = runner.invoke(app, ["web", "--host", host, "--port", "8000"])
    assert result.exit_code == 2, result.output
    assert "'--host'" in result.output
    assert f"cannot listen on {host}:8000" in result.output


@pytest.mark.parametrize(
    ("public_url", "port", "warned"),
    [
        ("http://127.0.0.1:8000", 8000, False),
        ("http://127.0.0.1:8000", 23456, True),
        ("http://localhost", 80, False),
        ("http://localhost", 8080, True),
        ("https://news.firm.example", 8000, False),  # a proxy in front: its business
    ],
)
def test_a_public_url_naming_another_local_port_is_warned_about(
    public_url: str, port: int, warned: bool
) -> None:
    message = public_url_mismatch(public_url, port)
    assert bool(message) == warned
    if warned:
        assert f"listens on port {port}" in message and "Set MAILER_PUBLIC_URL" in message


def test_mailer_web_on_another_port_says_where_links_will_point(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warning as a user sees it, from the real command (stopped once it has printed)."""
    import os
    import subprocess
    import sys
    import time

    monkeypatch.setenv("MAILER_PUBLIC_URL", "http://127.0.0.1:8000")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailer", "web", "--port", str(port)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=dict(os.environ),
        text=True,
    )
    try:
        assert proc.stderr is not None
        seen = ""
        deadline = time.monotonic() + 60
        while "warning" not in seen and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen += line
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    url = "http://127.0.0.1:8000"
    assert f"warning: MAILER_PUBLIC_URL is {url}, but this server listens on port {port}" in seen


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_a_port_out_of_range_is_a_usage_error(settings: Settings, port: str) -> None:
    result = runner.invoke(app, ["web", "--port", port])
    assert result.exit_code == 2, result.output
    assert "'--port'" in result.output
    assert "OverflowError" not in result.output and result.exception is not None


@pytest.mark.parametrize("database", ["missing", "empty"])
def test_web_without_the_tables_refuses_to_start(tmp_path: Path, database: str) -> None:
    """Not a server that answers every request 500: one line at start, exit 1."""
    from tests.cli.test_cli import _free_port, mailer

    if database == "empty":
        (tmp_path / "mailer.db").touch()
    done = mailer(tmp_path, "web", "--port", str(_free_port()))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: the database sqlite:///mailer.db has no mailer tables yet")
    assert "run `mailer db upgrade` first" in lines[0]
