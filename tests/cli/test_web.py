"""`mailer web` (mailer/cli/web.py): what a user sees when it cannot listen, and whose
X-Forwarded-For the server it starts believes."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from limits import parse
from typer.testing import CliRunner

from mailer.cli import app
from mailer.cli.web import public_url_mismatch
from mailer.settings import Settings
from mailer.web import auth
from mailer.web.ratelimit import SUBSCRIBE_PER_IP
from tests.webserver import free_port, mailer_env, mailer_web, run_cli

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


# ------------------------------------------------------------------------------------------------
# Whose X-Forwarded-For is believed (MAILER_TRUSTED_PROXIES)
# ------------------------------------------------------------------------------------------------

EDITOR = "editor@example.com"
PASSWORD = "a long editor passphrase"  # noqa: S105  (the test account's)
WRONG = "not the password"  # noqa: S105


@contextmanager
def web_with_an_editor_and_a_list(tmp_path: Path, trusted_proxies: str) -> Iterator[str]:
    """`mailer web` as a real process (uvicorn as the command starts it) on a fresh SQLite
    database holding an editor account and a public list "briefing"; yields its base URL."""
    port = free_port()
    env = mailer_env(tmp_path, f"sqlite:///{tmp_path / 'mailer.db'}", "outbox://./outbox", port)
    env["MAILER_TRUSTED_PROXIES"] = trusted_proxies
    for args, stdin in (
        (("db", "upgrade"), None),
        (("admin", "create-user", EDITOR, "--password-stdin"), PASSWORD + "\n"),
        (("list", "create", "briefing", "--name", "Security Chatter"), None),
    ):
        done = run_cli(env, *args, stdin=stdin, cwd=tmp_path)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    log = tmp_path / "web.log"
    with mailer_web(env, port, log) as base:
        yield base
    assert "Traceback" not in log.read_text()


def sign_in(base: str, forwarded_for: str, password: str = WRONG) -> int:
    """One browser's sign-in (form, CSRF token, post) arriving with `X-Forwarded-For`."""
    headers = {"X-Forwarded-For": forwarded_for, "Origin": base}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as browser:
        form = browser.get("/admin/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token, form
        data = {"email": EDITOR, "password": password, "csrf_token": token.group(1)}
        return browser.post("/admin/login", data=data).status_code


def subscribe(base: str, forwarded_for: str) -> int:
    """A subscribe form sent with no address (422 once past the per-address window)."""
    answer = httpx.post(
        f"{base}/subscribe/briefing",
        data={"email": "", "name": ""},
        headers={"X-Forwarded-For": forwarded_for},
        timeout=30,
    )
    return answer.status_code


FREE = auth.LOGIN_FREE_FAILURES
SUBSCRIBES = parse(SUBSCRIBE_PER_IP).amount


@pytest.mark.slow
def test_a_forged_x_forwarded_for_does_not_change_whose_attempts_are_counted(
    tmp_path: Path,
) -> None:
    """Hostile input: every wrong password (and every subscribe form) from one client carries its
    own made-up X-Forwarded-For. With no proxy trusted (the default) the header is ignored: the
    client is the address that connected, so the login lock and the per-address window close
    after the usual number of tries. (uvicorn's own default believed the header from
    127.0.0.1: 30 wrong passwords were 30 different addresses, none refused, and then the right
    password signed in.)"""
    with web_with_an_editor_and_a_list(tmp_path, "") as base:
        codes = [sign_in(base, f"10.9.{i}.1") for i in range(FREE + 2)]
        assert codes == [401] * FREE + [429, 429]
        assert sign_in(base, "10.9.200.1", PASSWORD) == 429  # locked, whatever it claims
        forms = [subscribe(base, f"10.9.{i}.1") for i in range(SUBSCRIBES + 1)]
        assert forms == [422] * SUBSCRIBES + [429]


@pytest.mark.slow
def test_behind_a_trusted_proxy_each_client_is_the_address_the_proxy_forwarded(
    tmp_path: Path,
) -> None:
    """MAILER_TRUSTED_PROXIES=127.0.0.1 (this test is the proxy): the address the proxy
    appends is the client, so clients behind one proxy are counted apart, and a header a client
    wrote itself (the proxy appends the real address after it) still gains it nothing."""
    with web_with_an_editor_and_a_list(tmp_path, "127.0.0.1") as base:
        assert [sign_in(base, f"10.9.{i}.1") for i in range(FREE + 2)] == [401] * (FREE + 2)
        forged = [sign_in(base, f"10.9.{i}.1, 198.51.100.7") for i in range(FREE + 1)]
        assert forged == [401] * FREE + [429]  # all of them 198.51.100.7
        assert sign_in(base, "198.51.100.7", PASSWORD) == 429
        assert sign_in(base, "10.9.0.1", PASSWORD) == 303  # another client signs in
        forms = [subscribe(base, f"10.9.{i}.1") for i in range(SUBSCRIBES + 1)]
        assert forms == [422] * (SUBSCRIBES + 1)
        assert subscribe(base, "10.9.0.1") == 422 and subscribe(base, "10.9.0.1") == 422


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
