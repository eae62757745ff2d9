"""Settings: an empty value is no value, for every setting; MAILER_TIMEZONE is an IANA zone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mailer.errors import ConfigError, TokenError
from mailer.settings import Settings, get_settings, reset_settings


def _env_name(field: str) -> str:
    info = Settings.model_fields[field]
    return info.alias or f"MAILER_{field.upper()}"


# Every setting of the model: each has a default, so each is optional (a new field is covered
# without touching this test).
OPTIONAL = sorted(name for name, info in Settings.model_fields.items() if not info.is_required())


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No MAILER_* variable and no .env: the defaults."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("MAILER_"):
            monkeypatch.delenv(key)
    reset_settings()
    return tmp_path


def test_every_setting_is_covered() -> None:
    assert len(OPTIONAL) == len(Settings.model_fields) >= 40
    assert "dkim_key_file" in OPTIONAL and "timezone" in OPTIONAL


@pytest.mark.parametrize("field", OPTIONAL)
def test_an_empty_variable_behaves_as_unset(
    field: str, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unset = Settings().model_dump()
    monkeypatch.setenv(_env_name(field), "")
    assert Settings().model_dump() == unset
    monkeypatch.delenv(_env_name(field))
    # The same line in a .env file, as .env.example ships it (`MAILER_DKIM_KEY_FILE=`).
    (clean_env / ".env").write_text(f"{_env_name(field)}=\n")
    assert Settings().model_dump() == unset


def test_an_empty_dkim_key_file_is_no_key_file(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text(
        "MAILER_DKIM_KEY_FILE=\nMAILER_DKIM_SELECTOR=\nMAILER_DKIM_DOMAIN=\n"
    )
    settings = Settings()
    assert settings.dkim_key_file is None
    from mailer.sending.dkim import Signer

    assert Signer.from_settings(settings) is None


def test_timezone_defaults_to_utc_and_names_a_bad_zone(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings().timezone == "UTC"
    monkeypatch.setenv("MAILER_TIMEZONE", "America/Mexico_City")
    assert str(Settings().zone()) == "America/Mexico_City"
    monkeypatch.setenv("MAILER_TIMEZONE", "Mexico City")
    reset_settings()
    with pytest.raises(ConfigError, match="MAILER_TIMEZONE.*IANA"):
        get_settings()
    reset_settings()


def test_a_bad_value_is_named_once_with_what_was_given_and_what_would_do(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_TIMEZONE", "Mars/Base")
    monkeypatch.setenv("MAILER_TRACK_CLICKS", "maybe")
    reset_settings()
    with pytest.raises(ConfigError) as caught:
        get_settings()
    reset_settings()
    text = str(caught.value)
    assert text.count("MAILER_TIMEZONE") == 1, text
    assert "MAILER_TIMEZONE: 'Mars/Base' is not an IANA time zone" in text
    assert "MAILER_TRACK_CLICKS: 'maybe' is not true or false (use true/false" in text


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("MAILER_RATE_LIMIT", "fast", "MAILER_RATE_LIMIT: 'fast' is not a rate: use e.g. 40"),
        ("MAILER_RATE_LIMIT", "40 per sec", "MAILER_RATE_LIMIT: '40 per sec' is not a rate"),
        ("MAILER_BATCH_SIZE", "many", "MAILER_BATCH_SIZE: 'many' is not a whole number"),
        ("MAILER_BATCH_SIZE", "0", "MAILER_BATCH_SIZE: Input should be greater than or equal to 1"),
        ("MAILER_RETRY_BASE_DELAY", "soon", "MAILER_RETRY_BASE_DELAY: 'soon' is not a number"),
        ("MAILER_PUBLIC_URL", "notaurl", "MAILER_PUBLIC_URL: 'notaurl' is not a web address"),
        ("MAILER_PUBLIC_URL", "news.firm.com", "MAILER_PUBLIC_URL: 'news.firm.com' is not a web"),
        ("MAILER_PUBLIC_URL", "ftp://news.firm.com", "MAILER_PUBLIC_URL: 'ftp://news.firm.com'"),
        ("MAILER_PUBLIC_URL", "https://", "MAILER_PUBLIC_URL: 'https:' is not a web address"),
        # Trusting anyone (`*`) lets every client choose its address; a host name never matches.
        ("MAILER_TRUSTED_PROXIES", "*", "MAILER_TRUSTED_PROXIES: '*' is not an IP address or"),
        ("MAILER_TRUSTED_PROXIES", "127.0.0.1,nginx", "MAILER_TRUSTED_PROXIES: 'nginx' is not"),
        ("MAILER_TRUSTED_PROXIES", "10.0.0.0/33", "MAILER_TRUSTED_PROXIES: '10.0.0.0/33' is not"),
        ("MAILER_TRUSTED_PROXIES", '["127.0.0.1"]', "MAILER_TRUSTED_PROXIES: '[\"127.0.0.1\"]'"),
        ("MAILER_DATABASE_URL", "mysql://x@y/z", "MAILER_DATABASE_URL: 'mysql://x@y/z' is not a"),
        ("MAILER_DATABASE_URL", "postgresql://u@db/news", "'postgresql://u@db/news' is not a"),
        ("MAILER_DATABASE_URL", "mailer.db", "use sqlite:///PATH (the default is sqlite:///"),
        ("MAILER_DATABASE_URL", "oracle://u@db", "or postgresql+psycopg://USER@HOST:PORT/"),
    ],
)
def test_a_setting_the_send_needs_is_checked_when_the_settings_are_read(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    monkeypatch.setenv(variable, value)
    reset_settings()
    with pytest.raises(ConfigError) as caught:
        get_settings()
    reset_settings()
    assert said in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///mailer.db",
        "sqlite:////srv/mailer/mailer.db",
        "sqlite+pysqlite:///mailer.db",
        "sqlite://",
        "postgresql+psycopg://mailer:pw@db:5432/mailer",
        "POSTGRESQL+PSYCOPG://mailer@db/mailer",
    ],
)
def test_the_supported_database_urls_pass(clean_env: Path, url: str) -> None:
    assert Settings(database_url=url).database_url == url


def test_good_rates_pass(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for rate in ("0", "40/second", "50000/hour", "10 per minute"):
        assert Settings(rate_limit=rate).rate_limit == rate


def test_no_proxy_is_trusted_unless_listed_comma_separated(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings().trusted_proxies == []
    monkeypatch.setenv("MAILER_TRUSTED_PROXIES", " 127.0.0.1, 172.16.0.0/12 ,::1,,10.1.2.3/8")
    assert Settings().trusted_proxies == ["127.0.0.1", "172.16.0.0/12", "::1", "10.0.0.0/8"]
    monkeypatch.delenv("MAILER_TRUSTED_PROXIES")
    (clean_env / ".env").write_text("MAILER_TRUSTED_PROXIES=192.0.2.10\n")
    assert Settings().trusted_proxies == ["192.0.2.10"]


def test_a_public_url_keeps_its_path_without_the_last_slash(clean_env: Path) -> None:
    assert Settings(public_url="https://firm.example/news/").public_url == (
        "https://firm.example/news"
    )
    assert Settings(public_url=" http://127.0.0.1:8937 ").public_url == "http://127.0.0.1:8937"


def test_a_misspelt_setting_in_env_or_the_environment_is_named_with_the_likely_one(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (clean_env / ".env").write_text("MAILER_FRM=Firm <news@firm.example>\nMAILER_COLOUR=red\n")
    monkeypatch.setenv("MAILER_RATE_LIMT", "40/second")
    monkeypatch.setenv("MAILER_SOMETHING_ELSE", "another tool's")  # not ours to judge
    get_settings()
    reset_settings()
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "warning: MAILER_FRM in .env is not a setting (did you mean MAILER_FROM?); it is ignored",
        "warning: MAILER_COLOUR in .env is not a setting; it is ignored",
        "warning: MAILER_RATE_LIMT in the environment is not a setting (did you mean "
        "MAILER_RATE_LIMIT?); it is ignored",
    ]


def test_production_problems_name_the_signing_key_in_use(clean_env: Path) -> None:
    """`issue check` listed MAILER_SECRET_KEY as "not set" while the key generated beside the
    SQLite database signed every link, and called a short key "a placeholder": each case says
    what is there and what production needs."""

    def key_problem(settings: Settings) -> str:
        [found] = [p for p in settings.production_problems() if "MAILER_SECRET_KEY" in p]
        return found

    url = f"sqlite:///{clean_env / 'mailer.db'}"
    embedded = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="has no mailer tables yet"):
        embedded.secret()  # no database: no key is generated for it
    assert not (clean_env / "mailer.secret").exists()
    (clean_env / "mailer.db").touch()
    assert key_problem(embedded).startswith("MAILER_SECRET_KEY is not set: set it to 32+")
    generated = embedded.secret()
    said = key_problem(embedded)
    assert str(clean_env / "mailer.secret") in said and "signs links now" in said
    assert generated not in said  # the key itself is never shown
    short = Settings(_env_file=None, secret_key="k" * 20)  # type: ignore[call-arg]
    assert "too short (20 characters)" in key_problem(short)
    placeholder = Settings(_env_file=None, secret_key="change-me-" * 4)  # type: ignore[call-arg]
    assert "is a placeholder" in key_problem(placeholder)
    good = Settings(_env_file=None, secret_key="q" * 48)  # type: ignore[call-arg]
    assert not [p for p in good.production_problems() if "MAILER_SECRET_KEY" in p]


def test_links_signed_with_the_generated_key_stay_valid_once_the_variable_is_set(
    clean_env: Path,
) -> None:
    """`issue check` tells a new user to set MAILER_SECRET_KEY; doing so made every link in mail
    already sent (signed with the generated mailer.secret) "not valid"."""
    from mailer import tokens

    url = f"sqlite:///{clean_env / 'mailer.db'}"
    (clean_env / "mailer.db").touch()
    before = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    sent = tokens.delivery_token(7, before.secret())
    after = Settings(_env_file=None, database_url=url, secret_key="n" * 48)  # type: ignore[call-arg]
    assert after.secret() == "n" * 48  # new links are signed with the variable's key
    assert tokens.parse_delivery_token(sent, after.verification_secrets()) == 7
    (clean_env / "mailer.secret").unlink()
    with pytest.raises(TokenError):
        tokens.parse_delivery_token(sent, after.verification_secrets())
