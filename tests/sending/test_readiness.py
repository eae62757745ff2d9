"""What every door checks before a campaign exists: DKIM, the SMTP URL, production placeholders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from mailer.errors import ConfigError
from mailer.sending import readiness
from mailer.settings import Settings, reset_settings
from tests.dkim_keys import write_key

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("MAILER_"):
            monkeypatch.delenv(key)
    reset_settings()
    return tmp_path


def test_the_embedded_default_is_ready(env: Path) -> None:
    assert readiness.problems(Settings()) == []


def test_a_dkim_key_file_that_does_not_exist_is_named(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_DKIM_KEY_FILE", str(env / "missing.pem"))
    monkeypatch.setenv("MAILER_DKIM_SELECTOR", "brief")
    monkeypatch.setenv("MAILER_DKIM_DOMAIN", "news.firm.mx")
    with pytest.raises(ConfigError, match=r"MAILER_DKIM_KEY_FILE .*missing\.pem: cannot read"):
        readiness.require(Settings())


def test_half_configured_dkim_names_what_is_missing(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_key(env / "dkim.pem")
    monkeypatch.setenv("MAILER_DKIM_KEY_FILE", str(env / "dkim.pem"))
    [problem] = readiness.problems(Settings())
    assert "MAILER_DKIM_SELECTOR, MAILER_DKIM_DOMAIN" in problem
    monkeypatch.setenv("MAILER_DKIM_SELECTOR", "brief")
    monkeypatch.setenv("MAILER_DKIM_DOMAIN", "news.firm.mx")
    assert readiness.problems(Settings()) == []


def test_the_ed25519_signature_is_checked_at_the_door(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half an Ed25519 configuration is named like half an RSA one; both halves: ready."""
    write_key(env / "dkim.pem")
    write_key(env / "ed25519.pem", ed25519.Ed25519PrivateKey.generate())
    monkeypatch.setenv("MAILER_DKIM_KEY_FILE", str(env / "dkim.pem"))
    monkeypatch.setenv("MAILER_DKIM_SELECTOR", "brief")
    monkeypatch.setenv("MAILER_DKIM_DOMAIN", "news.firm.mx")
    monkeypatch.setenv("MAILER_DKIM_ED25519_KEY_FILE", str(env / "ed25519.pem"))
    [problem] = readiness.problems(Settings())
    assert "MAILER_DKIM_ED25519_SELECTOR" in problem
    monkeypatch.setenv("MAILER_DKIM_ED25519_SELECTOR", "brief-ed")
    assert readiness.problems(Settings()) == []
    monkeypatch.setenv("MAILER_DKIM_ED25519_KEY_FILE", str(env / "dkim.pem"))
    with pytest.raises(ConfigError, match="MAILER_DKIM_ED25519_KEY_FILE must hold an Ed25519"):
        readiness.require(Settings())


@pytest.mark.parametrize(
    "url", ["mailpit:1025", "smtp://", "smtp://relay:notaport", "smtp://relay?timeout=soon"]
)
def test_an_smtp_url_that_cannot_be_read_is_named(
    url: str, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_SMTP_URL", url)
    with pytest.raises(ConfigError, match="MAILER_SMTP_URL"):
        readiness.require(Settings())


def test_production_with_the_example_file_names_every_placeholder(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (env / ".env").write_text((REPO / ".env.example").read_text())
    problems = " | ".join(readiness.problems(Settings()))
    for name in (
        "MAILER_SECRET_KEY",
        "MAILER_POSTAL_ADDRESS",
        "MAILER_MAIL_DOMAIN",
        "MAILER_PUBLIC_URL",
        "MAILER_FROM",
        "MAILER_SMTP_URL",
        "MAILER_FIRM_NAME",  # the sample firm's names, which the file used to fill in
        "MAILER_NEWSLETTER_NAME",
    ):
        assert name in problems
    with pytest.raises(ConfigError, match="MAILER_PRODUCTION is set, so `mailer web` refuses"):
        Settings().require_production_ready("`mailer web`")
    # Outside production the same values are only a demo's defaults.
    monkeypatch.setenv("MAILER_PRODUCTION", "false")
    assert readiness.problems(Settings()) == []


def test_the_example_file_never_sends_as_the_sample_firm(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cp .env.example .env` with every other placeholder filled used to pass the production
    check while every mail went out as Miranda Delphi Solutions' Security Chatter: the file filled
    in the sample firm's names, and only unset names were refused."""
    (env / ".env").write_text((REPO / ".env.example").read_text())
    for variable, value in {
        "MAILER_SECRET_KEY": "k" * 48,
        "MAILER_POSTAL_ADDRESS": "Acme Risk · 1 Main St, Springfield",
        "MAILER_MAIL_DOMAIN": "news.acme-risk.com",
        "MAILER_PUBLIC_URL": "https://news.acme-risk.com",
        "MAILER_FROM": "Acme Risk <briefing@news.acme-risk.com>",
        "MAILER_SMTP_URL": "smtp+starttls://user:pw@relay.acme-risk.com:587",
    }.items():
        monkeypatch.setenv(variable, value)
    problems = Settings().production_problems()
    assert [p.split()[0] for p in problems] == ["MAILER_FIRM_NAME", "MAILER_NEWSLETTER_NAME"]
    monkeypatch.setenv("MAILER_FIRM_NAME", "Acme Risk")
    monkeypatch.setenv("MAILER_NEWSLETTER_NAME", "Risk Weekly")
    ready = Settings()
    assert ready.production_problems() == []
    assert ready.brand_logo_alt == ""  # so the logo's alt text is the firm's name, not the sample's


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MAILER_SECRET_KEY", "change-me-to-something-long-and-random-xxxxx"),
        ("MAILER_SECRET_KEY", "short-but-real-9f8e7d"),
        ("MAILER_MAIL_DOMAIN", "localhost"),
        ("MAILER_PUBLIC_URL", "http://127.0.0.1:8000"),
        ("MAILER_PUBLIC_URL", "http://localhost"),
        ("MAILER_FROM", "Briefing <briefing@localhost>"),
        ("MAILER_POSTAL_ADDRESS", ""),  # empty = unset = the placeholder
        ("MAILER_SMTP_URL", "smtp+starttls://user:password@smtp.example.com:587"),
        ("MAILER_SMTP_URL", "smtp://mailpit:1025"),
        ("MAILER_SMTP_URL", ""),  # the outbox folder
        ("MAILER_FIRM_NAME", ""),  # unset: the sample firm's name
        ("MAILER_NEWSLETTER_NAME", ""),
    ],
)
def test_production_refuses_each_placeholder(
    variable: str, value: str, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = {
        "MAILER_PRODUCTION": "true",
        "MAILER_SECRET_KEY": "k" * 48,
        "MAILER_POSTAL_ADDRESS": "Miranda Delphi Solutions · Paseo de la Reforma 250, CDMX",
        "MAILER_MAIL_DOMAIN": "news.mirandadelphi.mx",
        "MAILER_PUBLIC_URL": "https://news.mirandadelphi.mx",
        "MAILER_FROM": "Miranda Delphi Solutions <briefing@news.mirandadelphi.mx>",
        "MAILER_FIRM_NAME": "Miranda Delphi Solutions",
        "MAILER_NEWSLETTER_NAME": "Security Chatter",
    }
    real["MAILER_SMTP_URL"] = "smtp://127.0.0.1:25"  # a relay on the same machine is fine
    for k, v in real.items():
        monkeypatch.setenv(k, v)
    assert Settings().production_problems() == []
    monkeypatch.setenv(variable, value)
    [problem] = Settings().production_problems()
    assert problem.startswith(variable)


@pytest.mark.parametrize(
    ("smtp_url", "refused"),
    [
        ("smtp+starttls://user:pw@relay.acme-risk.com:587", True),
        ("smtp://127.0.0.1:25", True),  # a relay on this machine delivers to readers too
        ("", False),  # the outbox folder: the demo
        ("smtp://mailpit:1025", False),  # the compose file's catcher
    ],
)
def test_a_relay_to_readers_needs_the_postal_address_outside_production_too(
    env: Path, monkeypatch: pytest.MonkeyPatch, smtp_url: str, refused: bool
) -> None:
    """Outside production a campaign through a real relay carried "Postal address not
    configured" to every reader: such a send is refused naming MAILER_POSTAL_ADDRESS (a test
    copy, to the editor, is not); the outbox and the Mailpit catcher reach no reader."""
    monkeypatch.setenv("MAILER_SMTP_URL", smtp_url)
    found = readiness.problems(Settings())
    assert any(p.startswith("MAILER_POSTAL_ADDRESS is not set") for p in found) is refused
    assert readiness.problems(Settings(), readers=False) == []
    monkeypatch.setenv("MAILER_POSTAL_ADDRESS", "Acme Risk · 1 Main St, Springfield")
    assert readiness.problems(Settings()) == []
