"""`mailer admin …`: users (create, set-password, disable, enable, list) and API tokens (create
with scopes and expiry, list, revoke), as an operator runs them."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer import accounts
from mailer.cli import app
from mailer.db import utcnow
from mailer.settings import Settings
from mailer.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

runner = CliRunner()
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# A browser sends its page's Origin with every form post (the admin's same-origin check).
SITE = "https://news.example.com"
BROWSER = {"Origin": SITE}

OLD = "correct horse battery"  # noqa: S105  (test passwords)
NEW = "a longer better passphrase"  # noqa: S105


def admin(*args: str, input: str | None = None) -> str:
    result = runner.invoke(app, ["admin", *args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def web(settings: Settings) -> Iterator[TestClient]:
    admin("create-user", "editor@example.com", "--password-stdin", input=OLD + "\n")
    with TestClient(create_app(), base_url=SITE, headers=BROWSER) as client:
        yield client


def sign_in(client: TestClient, password: str) -> int:
    form = client.get("/admin/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf
    return client.post(
        "/admin/login",
        data={"email": "editor@example.com", "password": password, "csrf_token": csrf.group(1)},
        follow_redirects=False,
    ).status_code


def test_set_password_changes_it_and_signs_out_open_sessions(web: TestClient) -> None:
    assert sign_in(web, OLD) == 303
    assert web.get("/admin", follow_redirects=False).status_code == 200
    out = admin("set-password", "Editor@Example.com", "--password-stdin", input=NEW + "\n")
    assert "password of editor@example.com changed" in out
    assert web.get("/admin", follow_redirects=False).status_code == 303  # signed out
    web.cookies.clear()
    assert sign_in(web, OLD) == 401
    assert sign_in(web, NEW) == 303
    with pytest.raises(accounts.AuthError, match="too short"):
        admin("set-password", "editor@example.com", "--password-stdin", input="short\n")


def test_disable_ends_sessions_and_refuses_sign_in_until_enabled(web: TestClient) -> None:
    assert sign_in(web, OLD) == 303
    out = admin("disable", "editor@example.com")
    assert "admin user editor@example.com disabled" in out
    assert web.get("/admin", follow_redirects=False).status_code == 303
    web.cookies.clear()
    assert sign_in(web, OLD) == 401
    listed = admin("list-users")
    assert re.search(r"editor@example\.com\s+disabled", listed), listed
    admin("enable", "editor@example.com")
    assert sign_in(web, OLD) == 303
    assert re.search(r"editor@example\.com\s+active", admin("list-users"))
    with pytest.raises(accounts.AuthError, match="no admin user 'nobody@example.com'"):
        admin("disable", "nobody@example.com")


def test_tokens_are_created_with_scopes_and_expiry_listed_and_revoked(
    settings: Settings, session: Session, web: TestClient
) -> None:
    result = runner.invoke(
        app,
        ["admin", "create-token", "crm", "--scope", "read", "--scope", "subscribers",
         "--expires", "30d"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("mlr_") and "\n" not in token  # stdout is the token alone
    assert "scopes: read, subscribers" in result.stderr
    row = accounts.token_row(session, token)
    assert row is not None and row.scope_list == ["read", "subscribers"]
    assert row.expires_at is not None
    assert abs(row.expires_at - (utcnow() + timedelta(days=30))) < timedelta(minutes=1)
    admin("create-token", "archive-bot", "--expires", "never")
    listing = admin("list-tokens").splitlines()
    assert listing[0].split() == ["NAME", "TOKEN", "SCOPES", "EXPIRES", "LAST", "USED", "STATE"]
    crm = next(line for line in listing if line.startswith("crm"))
    assert "read,subscribers" in crm and crm.endswith("active") and token[:12] in crm
    assert token not in "\n".join(listing)
    bot = next(line for line in listing if line.startswith("archive-bot"))
    assert "never" in bot and " read " in bot
    bearer = {"Authorization": f"Bearer {token}"}
    assert web.get("/api/v1/lists", headers=bearer).status_code == 200
    assert admin("revoke-token", "crm").strip() == "API token 'crm' revoked"
    assert web.get("/api/v1/lists", headers=bearer).status_code == 401  # at once, not at expiry
    assert next(
        line for line in admin("list-tokens").splitlines() if line.startswith("crm")
    ).endswith("revoked")
    with pytest.raises(accounts.AuthError, match="unknown scope 'everything'"):
        admin("create-token", "x", "--scope", "everything")
    with pytest.raises(accounts.AuthError, match="not understood"):
        admin("create-token", "y", "--expires", "tomorrow")


def test_create_user_reads_a_piped_password_as_its_help_says(
    settings: Settings, session: Session
) -> None:
    """No --password-stdin: stdin that is not a terminal is read, not prompted twice."""
    out = admin("create-user", "piped@example.com", input=OLD + "\n")
    assert "piped@example.com" in out
    # Where to log in, whole: the site's own address, not a bare path.
    assert f"log in at {settings.public_url}/admin/login" in out
    user = accounts.authenticate(session, "piped@example.com", OLD)
    assert user is not None and user.email == "piped@example.com"


@pytest.mark.parametrize("expires", ["9999999d", "10000y", "99999d", "2999-01-01", "200y"])
def test_an_expiry_too_far_ahead_is_refused_saying_so(
    settings: Settings, session: Session, expires: str
) -> None:
    """`--expires 9999999d` said "not understood" (it is a duration), `10000y` ended in an
    OverflowError traceback, and `2999-01-01` made a token that outlives everyone: each is
    refused as too far ahead, naming the latest accepted and `never`, and no token is made."""
    result = runner.invoke(app, ["admin", "create-token", "far", "--expires", expires])
    assert isinstance(result.exception, accounts.AuthError), result.output
    said = str(result.exception)
    assert said.startswith(f"--expires {expires!r} is too far ahead"), said
    assert f"{accounts.MAX_TOKEN_YEARS} years" in said and "never" in said
    assert "far" not in admin("list-tokens")
