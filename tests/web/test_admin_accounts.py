"""Admin users, API tokens, and the settings and health page, in process."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.accounts import AdminUser, ApiToken
from mailer.settings import Settings
from mailer.web.admin.health import check_relay, dkim_record, shown_settings
from tests.builders import Newsroom
from tests.dkim_keys import txt_record, write_key
from tests.smtpd import SMTPServer
from tests.web.test_admin import PASSWORD, Editor, editor, text_of  # noqa: F401

# ruff: noqa: F811  (the fixtures imported from test_admin are parameters here)


def test_users_are_created_disabled_and_enabled_but_never_self_disabled(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    short = editor.post("/admin/users", {"email": "ana@firm.example", "password": "short"})
    assert short.status_code == 422 and "too short" in short.text
    made = editor.post("/admin/users", {"email": "Ana@Firm.example", "password": PASSWORD})
    assert "Admin user ana@firm.example created" in made.text
    ana = session.scalar(select(AdminUser).where(AdminUser.email == "ana@firm.example"))
    me = session.scalar(select(AdminUser).where(AdminUser.email == "editor@example.com"))
    assert ana is not None and me is not None
    assert "ana@firm.example disabled" in editor.post(f"/admin/users/{ana.id}/disable").text
    session.expire_all()
    assert not ana.active and accounts.authenticate(session, ana.email, PASSWORD) is None
    editor.post(f"/admin/users/{ana.id}/enable")
    session.expire_all()
    assert ana.active
    refused = editor.post(f"/admin/users/{me.id}/disable")
    assert refused.status_code == 409 and "your own account" in refused.text


def test_an_admin_changes_their_own_password_and_their_other_sessions_end(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    """There was no way to change one's password from the admin (only `mailer admin
    set-password` on the server). The current password is asked; this session goes on, the
    others end; the old password no longer signs in."""
    from fastapi.testclient import TestClient

    from mailer.web.app import create_app
    from tests.web.test_admin import BROWSER, SITE

    page = editor.get("/admin/users")
    assert "Your password" in page.text and 'href="/admin/users#password"' in page.text
    new = PASSWORD + "-renewed"
    with TestClient(create_app(), base_url=SITE, headers=BROWSER) as other_client:
        other = Editor(other_client)
        other.get("/admin/login")
        other.post("/admin/login", {"email": "editor@example.com", "password": PASSWORD})
        assert other.get("/admin/users").status_code == 200  # a second session, signed in
        form = {"current_password": PASSWORD, "new_password": new, "repeat_password": new}
        wrong = editor.post("/admin/users/me/password", {**form, "current_password": "nope"})
        assert wrong.status_code == 422 and "current password is not right" in wrong.text
        differ = editor.post("/admin/users/me/password", {**form, "repeat_password": new + "x"})
        assert differ.status_code == 422 and "two new passwords differ" in differ.text
        short = {"current_password": PASSWORD, "new_password": "short", "repeat_password": "short"}
        assert "too short" in editor.post("/admin/users/me/password", short).text
        session.expire_all()
        assert accounts.authenticate(session, "editor@example.com", PASSWORD) is not None
        changed = editor.post("/admin/users/me/password", form)
        assert changed.status_code == 200 and "Your password is changed" in changed.text
        assert editor.get("/admin/users").status_code == 200  # this session goes on
        ended = other.get("/admin/users", follow_redirects=False)
        assert ended.status_code in (302, 303) and "/admin/login" in ended.headers["location"]
    session.expire_all()
    assert accounts.authenticate(session, "editor@example.com", PASSWORD) is None
    assert accounts.authenticate(session, "editor@example.com", new) is not None


def test_a_token_is_shown_once_with_its_scopes_and_expiry_then_revoked(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    bad = editor.post("/admin/tokens", {"name": "ci", "scope": "admin", "expires": "90d"})
    assert bad.status_code == 422 and "unknown scope &#39;admin&#39;" in bad.text
    made = editor.client.post(
        "/admin/tokens",
        data={"name": "ci", "scope": ["read", "send"], "expires": "30d", "csrf_token": editor.csrf},
    )
    assert made.headers["cache-control"] == "no-store"
    token = re.search(r"data-new-token>([^<]+)<", made.text).group(1)  # type: ignore[union-attr]
    row = accounts.token_row(session, token)
    assert row is not None and row.scope_list == ["read", "send"] and row.expires_at is not None
    assert token not in editor.get("/admin/tokens").text  # shown once
    assert (
        editor.client.get("/api/v1/lists", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    editor.post(f"/admin/tokens/{row.id}/revoke")
    assert (
        editor.client.get("/api/v1/lists", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    session.expire_all()
    assert session.get(ApiToken, row.id).revoked_at is not None  # type: ignore[union-attr]


def test_settings_hide_secrets_and_health_checks_the_database(
    editor: Editor, room: Newsroom, settings: Settings
) -> None:
    page = editor.get("/admin/settings")
    assert page.status_code == 200
    assert settings.secret() not in page.text
    shown = dict(shown_settings(Settings(smtp_url="smtp://u:hunter22@relay.example:25")))
    assert shown["MAILER_SMTP_URL"] == "smtp://u:***@relay.example:25"
    assert shown["MAILER_SECRET_KEY"].startswith(("set (hidden)", "not set"))
    assert 'data-check="Database" data-ok="yes"' in page.text


def test_the_relay_check_lists_the_ehlo_extensions_and_reports_a_dead_relay() -> None:
    with SMTPServer() as relay:
        up = check_relay(Settings(smtp_url=relay.url))
    assert up.ok and any(line.startswith("8BITMIME") or "SIZE" in line for line in up.lines)
    down = check_relay(Settings(smtp_url="smtp://127.0.0.1:1?timeout=1"))
    assert down.ok is False and "127.0.0.1" in down.detail


def test_the_dkim_record_is_the_public_key_to_publish(tmp_path: Path) -> None:
    pem = tmp_path / "dkim.pem"
    key = write_key(pem)
    check = dkim_record(
        Settings(dkim_key_file=pem, dkim_selector="brief", dkim_domain="firm.example")
    )
    record = check.lines[0]
    assert record.startswith("brief._domainkey.firm.example. IN TXT")
    value = "".join(re.findall(r'"([^"]*)"', record))
    assert value == txt_record(key).decode()
    assert all(len(s) <= 255 for s in re.findall(r'"([^"]*)"', record))
    assert dkim_record(Settings(dkim_key_file=None)).ok is None  # not signing: nothing to publish


def test_the_ed25519_dkim_record_is_the_raw_public_key(tmp_path: Path) -> None:
    """RFC 8463 §4.2: p= is the raw 32-byte key, base64 (not a DER SubjectPublicKeyInfo)."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = tmp_path / "ed25519.pem"  # PKCS#8, as `openssl genpkey -algorithm ed25519` writes it
    key = write_key(pem, ed25519.Ed25519PrivateKey.generate())
    settings = Settings(
        dkim_ed25519_key_file=pem, dkim_ed25519_selector="brief-ed", dkim_domain="firm.example"
    )
    check = dkim_record(settings, ed25519_key=True)
    assert check.ok and check.name == "DKIM Ed25519"
    assert check.lines == (
        f'brief-ed._domainkey.firm.example. IN TXT ( "{txt_record(key).decode()}" )',
    )
    unset = dkim_record(Settings(dkim_ed25519_key_file=None), ed25519_key=True)
    assert unset.ok is None and "MAILER_DKIM_ED25519_KEY_FILE" in unset.detail


def test_the_settings_page_says_where_a_generated_secret_comes_from(tmp_path: Path) -> None:
    """No MAILER_SECRET_KEY but a generated mailer.secret in use: not just "not set"."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'mailer.db'}", secret_key=None)
    shown = dict(shown_settings(settings))
    assert shown["MAILER_SECRET_KEY"] == (
        f"not set: a key will be generated in {tmp_path / 'mailer.secret'} on first use"
    )
    (tmp_path / "mailer.db").touch()  # a key is generated only for a database that exists
    key = settings.secret()
    shown = dict(shown_settings(settings))
    assert shown["MAILER_SECRET_KEY"] == (
        f"not set: the key generated in {tmp_path / 'mailer.secret'} is used (hidden)"
    )
    assert key not in shown["MAILER_SECRET_KEY"]
