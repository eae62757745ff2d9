"""`mailer web` (mailer/cli/web.py): what a user sees when it cannot listen."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from mailer.cli import app
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
