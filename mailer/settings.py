"""One typed settings object, read from MAILER_* environment variables and an optional .env.

The embedded default needs nothing set: a SQLite file in the current folder, tasks in-process, an
outbox folder, and a secret key generated once and kept beside the database so that tokens in mail
already sent keep verifying across restarts.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import sys
from collections.abc import Iterator
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from mailer import brand
from mailer.errors import ConfigError

# `scheme://user:PASSWORD@host`: the password runs to the last @ of the unbroken run (an
# unencoded @ or / inside it is still hidden), and `password=`-like query parameters.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^\s:/?#@]*:)(?P<secret>\S*)@", re.I)
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&;](?:password|passwd|pass|pwd|secret|token|api_key)=)(?P<secret>[^&\s'\"]+)",
    re.I,
)
HIDDEN = "***"
MIN_SECRET_LENGTH = 32
# Hosts that cannot be a production address: RFC 2606/6761 reserved names (example.com, .test,
# .invalid, .localhost) as shipped in .env.example, and (for addresses others must reach)
# loopback and "any".
_RESERVED_HOSTS = re.compile(
    r"^((.+\.)?example(\.(com|net|org))?|(.+\.)?(test|invalid|localhost)|)$", re.I
)
_LOOPBACK_HOSTS = re.compile(r"^(localhost|127(\.\d+){3}|0\.0\.0\.0|::1|\[::1\])$", re.I)


def placeholder_host(host: str, *, local_ok: bool = False) -> bool:
    """True for a host that cannot serve production mail or links: an example name, or (unless
    `local_ok`, as for a relay on the same machine) a loopback address."""
    host = host.strip().rstrip(".")
    return bool(_RESERVED_HOSTS.match(host) or (not local_ok and _LOOPBACK_HOSTS.match(host)))


# The database URL schemes the mailer accepts (SQLAlchemy's dialect+driver): SQLite through the
# standard library, PostgreSQL through psycopg 3 (the driver the package depends on).
DATABASE_SCHEMES = frozenset({"sqlite", "sqlite+pysqlite", "postgresql+psycopg"})

SECRET_FIELDS = frozenset({"secret_key", "previous_secret_keys"})


def redact(text: str) -> str:
    """`text` with every URL password (and `password=` parameter) replaced by `***`.

    For anything shown or logged that may hold a setting: SMTP, database, broker and rate-limit
    storage URLs, and error messages quoting them. The user name and host stay, so the message
    still says which account and server were meant."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{HIDDEN}@" if m["secret"] else m[0], text)
    return _QUERY_SECRET.sub(lambda m: f"{m['head']}{HIDDEN}", text)


class Settings(BaseSettings):
    # env_ignore_empty: `MAILER_X=` (in the environment or .env) means "not set", for every
    # setting alike — an empty DKIM key file is no key file, not the path ".".
    model_config = SettingsConfigDict(
        env_prefix="MAILER_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
    )

    database_url: str = "sqlite:///mailer.db"
    broker_url: str | None = None
    smtp_url: str = "outbox://./outbox"
    public_url: str = "http://127.0.0.1:8000"
    mail_domain: str = "localhost"
    from_: str = Field(default="Briefing <briefing@localhost>", alias="MAILER_FROM")
    secret_key: str | None = None
    previous_secret_keys: list[str] = Field(default_factory=list)
    rate_limit: str = "0"
    dkim_key_file: Path | None = None
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    # A second, Ed25519 signature (RFC 8463) beside the RSA one, same d= domain.
    dkim_ed25519_key_file: Path | None = None
    dkim_ed25519_selector: str | None = None
    inbound_listen: str = "127.0.0.1:2525"
    postal_address: str = (
        "Miranda Delphi Solutions · Postal address not configured (set MAILER_POSTAL_ADDRESS)"
    )
    retry_base_delay: float = Field(default=60.0, ge=0)
    retry_deadline_hours: float = Field(default=48.0, gt=0)
    # Consecutive permanent refusals after which a campaign pauses itself (a relay refusing all).
    autopause_after: int = Field(default=25, ge=1)
    batch_size: int = Field(default=200, ge=1)
    # Subscribers per chunk of a campaign's audience snapshot: each chunk is committed and its
    # batches enqueued at once, so the first messages leave while later chunks are inserted.
    snapshot_chunk: int = Field(default=50_000, ge=1)
    beat_interval: float = Field(default=10.0, gt=0)
    # Seconds after which a task whose worker vanished is handed to another worker.
    visibility_timeout: int = Field(default=900, ge=1)
    # Seconds without a recorded outcome after which a batch's claimed rows count as abandoned.
    # Longer than an SMTP timeout plus the longest rate-limit wait.
    stale_after: float = Field(default=120.0, gt=0)
    ratelimit_storage_url: str | None = None  # defaults to the broker when it is Redis
    page_size: str = "A4"
    newsletter_name: str = "Security Chatter"
    firm_name: str = "Miranda Delphi Solutions"
    # The firm's brand in every edition (see mailer/brand.py): colours as #RRGGBB, a logo file
    # (PNG, JPEG or GIF) served under PUBLIC_URL/brand/, and optionally the firm's own serif and
    # sans typefaces (a font file or a folder of one family's files) for the PDF.
    brand_primary_color: str = "#0E2A47"
    brand_accent_color: str = "#B08D57"
    brand_logo: Path | None = None
    brand_logo_alt: str = ""  # defaults to MAILER_FIRM_NAME
    brand_serif_font: Path | None = None
    brand_sans_font: Path | None = None
    production: bool = False
    # IANA zone for times given without one (`mailer send --at`, the web's "send at" field) and
    # for showing scheduled times.
    timezone: str = "UTC"
    # Inbound mail (`mailer inbound`): larger messages are refused with 552 during SMTP.
    inbound_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    # Slow and greedy SMTP clients (mailer/inbound/door.py): a connection silent this long, or a
    # DATA phase not finished within it, is closed; no connection lasts longer than the session
    # limit; past the caps on open connections (all, and from one address) the answer is 421.
    inbound_timeout: float = Field(default=120.0, gt=0)
    inbound_session_seconds: float = Field(default=900.0, gt=0)
    inbound_max_sessions: int = Field(default=200, ge=1)
    inbound_max_sessions_per_peer: int = Field(default=10, ge=1)
    # This many soft bounces (distinct messages) within the window suppress the address.
    soft_bounce_threshold: int = Field(default=3, ge=1)
    soft_bounce_window_days: float = Field(default=30.0, gt=0)
    # Stored messages not processed after this many seconds are queued again by `mailer inbound`
    # (the broker was down when they arrived, or their task was lost).
    inbound_requeue_after: float = 120.0
    # Web uploads (the admin's CSV and issue files): larger requests get 413 naming the limit.
    upload_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # Confirmation mails the public subscribe forms may send per hour, all lists and visitors
    # together; past it the form answers "try again later" and mails nothing.
    confirmations_per_hour: int = Field(default=200, ge=1)
    # A proof-of-work challenge (ALTCHA, solved by the visitor's browser, verified here) on the
    # subscribe form; 0 turns it off. The work is about half this many SHA-256 hashes.
    subscribe_pow: int = Field(default=0, ge=0, le=10_000_000)
    # The reverse proxies (comma-separated IP addresses or CIDR networks) whose X-Forwarded-For
    # and X-Forwarded-Proto `mailer web` believes. Empty: none, so every client is the address
    # that connected, and a header a client wrote itself changes nothing (the login throttle
    # and the subscribe form's per-address window are keyed by that address).
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Engagement (mailer/engagement/): every link of an issue becomes a signed redirect that
    # records the reader's click (readers can opt out on the preferences page); an open pixel is
    # off by default (mail clients prefetch images, so opens are approximate).
    track_clicks: bool = True
    track_opens: bool = False
    # Seconds after a campaign finishes before its partner's follow-up digest goes out (48 h).
    digest_after: float = Field(default=48 * 3600.0, ge=0)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """repr() (tracebacks, debug logs) never shows a key or a URL's password."""
        for name, value in super().__repr_args__():
            if name in SECRET_FIELDS and value:
                yield name, HIDDEN
            elif isinstance(value, str):
                yield name, redact(value)
            else:
                yield name, value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str) -> str:
        """Only the databases the mailer is built and tested for, with the driver it ships:
        another scheme would fail later, deep in SQLAlchemy, on a driver that is not installed
        (`mysql://` → "No module named 'MySQLdb'", `postgresql://` → psycopg2)."""
        v = v.strip()
        scheme = v.partition("://")[0].lower() if "://" in v else ""
        if scheme not in DATABASE_SCHEMES:
            raise ValueError(
                f"{v!r} is not a supported database URL: use sqlite:///PATH (the default is "
                "sqlite:///mailer.db) or postgresql+psycopg://USER@HOST:PORT/DATABASE "
                "(SQLite and PostgreSQL are supported)"
            )
        return v

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, v: str) -> str:
        """Every link of every message is built on it (unsubscribe, archive, tracked links), so
        a value without `http(s)://` and a host would mail links no reader can follow."""
        v = v.strip().rstrip("/")
        parts = urlsplit(v)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(
                f"{v!r} is not a web address: set the http(s) address readers reach "
                "`mailer web` at, e.g. https://news.firm.com"
            )
        return v

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _trusted_proxies(cls, v: Any) -> list[str]:
        """Each entry an address or a network, written the one way uvicorn compares them: a
        host name or `*` (trust anyone, so any client could choose its own address) is refused
        rather than silently never matching, or matching everyone."""
        entries = v.split(",") if isinstance(v, str) else list(v)
        proxies = []
        for raw in entries:
            entry = str(raw).strip()
            if not entry:
                continue
            try:
                if "/" in entry:
                    proxies.append(str(ipaddress.ip_network(entry, strict=False)))
                else:
                    proxies.append(str(ipaddress.ip_address(entry)))
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network: list the addresses your "
                    "reverse proxy connects from, comma-separated, e.g. 127.0.0.1 or "
                    "172.16.0.0/12 (empty: trust no proxy)"
                ) from None
        return proxies

    @field_validator("rate_limit")
    @classmethod
    def _rate(cls, v: str) -> str:
        """Checked when the settings are read, so a send fails before its campaign exists."""
        v = v.strip()
        if v not in {"", "0", "unlimited"}:
            # The library the limiter itself parses it with, imported only for a rate to parse:
            # with its storage back-ends it is a tenth of a second of every command's start-up.
            from limits import parse

            try:
                parse(v)
            except ValueError:
                raise ValueError(
                    f"{v!r} is not a rate: use e.g. 40/second, 50000/hour or 0 (no limit)"
                ) from None
        return v

    @field_validator("page_size")
    @classmethod
    def _page_size(cls, v: str) -> str:
        if v.upper() not in {"A4", "LETTER"}:
            raise ValueError("MAILER_PAGE_SIZE must be A4 or Letter")
        return "A4" if v.upper() == "A4" else "Letter"

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"{v!r} is not an IANA time zone (e.g. America/Mexico_City, UTC)"
            ) from exc
        return v

    def zone(self) -> ZoneInfo:
        """MAILER_TIMEZONE as a tzinfo."""
        return ZoneInfo(self.timezone)

    @field_validator("brand_primary_color", "brand_accent_color")
    @classmethod
    def _colour(cls, v: str, info: ValidationInfo) -> str:
        colour = brand.parse_colour(v)
        if info.field_name == "brand_primary_color":
            brand.Palette.derive(colour, brand.DEFAULT_ACCENT)  # carries white text?
        return colour

    @field_validator("brand_logo")
    @classmethod
    def _logo(cls, v: Path | None) -> Path | None:
        if v is not None:
            brand.read_logo(v, "")
        return v

    @field_validator("brand_serif_font", "brand_sans_font")
    @classmethod
    def _font(cls, v: Path | None) -> Path | None:
        if v is not None:
            brand.read_font(v)
        return v

    def production_problems(self) -> list[str]:
        """Each setting still holding a default or placeholder, named, with what to put there.

        Production mail must not go out signed with a guessable key, from `@localhost`, with
        links to 127.0.0.1 or a placeholder postal address. Empty when all are real values."""
        problems = []
        key = self.secret_key or ""
        make = (
            f"{MIN_SECRET_LENGTH}+ random characters (python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')"
        )
        generated = None if key else self.secret_file()
        if generated is not None and generated.exists():
            # Production never reads the generated file: the links of mail sent so far are
            # signed with it, so its key is the one to carry over.
            problems.append(
                f"MAILER_SECRET_KEY is not set: the key generated in {generated} signs links "
                f"now, and production reads only the variable; set it to {make} (links in mail "
                "already sent keep working while that file stays beside the database)"
            )
        elif not key:
            problems.append(f"MAILER_SECRET_KEY is not set: set it to {make}")
        elif "change" in key.lower():
            problems.append(f"MAILER_SECRET_KEY is a placeholder: set it to {make}")
        elif len(key) < MIN_SECRET_LENGTH:
            problems.append(
                f"MAILER_SECRET_KEY is too short ({len(key)} characters) to sign links that "
                f"cannot be guessed: set it to {make}"
            )
        default = type(self).model_fields
        if self.postal_address_unset():
            problems.append("MAILER_POSTAL_ADDRESS is the placeholder: set the firm's address")
        if placeholder_host(self.mail_domain):
            problems.append(
                f"MAILER_MAIL_DOMAIN is {self.mail_domain!r}: set the domain whose MX points "
                "at `mailer inbound`"
            )
        if placeholder_host(urlsplit(self.public_url).hostname or ""):
            problems.append(
                f"MAILER_PUBLIC_URL is {self.public_url!r}: set the address readers reach "
                "`mailer web` at (unsubscribe links, the archive)"
            )
        if self.relay_reaches_no_one():
            problems.append(
                f"MAILER_SMTP_URL {redact(self.smtp_url)!r} delivers to no one (an example relay, "
                "a folder or the Mailpit catcher): set your relay's URL "
                "(smtp+starttls://user:password@relay:587)"
            )
        # The sample firm's names are defaults, for the demo: in production they must be said.
        for field, what in (("firm_name", "firm"), ("newsletter_name", "newsletter")):
            if field not in self.model_fields_set:
                problems.append(
                    f"MAILER_{field.upper()} is not set, so every issue would carry the sample "
                    f"{what} name {default[field].default!r}: set your {what}'s name"
                )
        from_domain = parseaddr(self.from_)[1].rpartition("@")[2]
        if self.from_ == default["from_"].default or placeholder_host(from_domain):
            problems.append(
                f"MAILER_FROM is {self.from_!r}: set the firm's sender, e.g. "
                "'Firm <briefing@news.firm.com>'"
            )
        return problems

    def postal_address_unset(self) -> bool:
        """Whether the footer's postal address is still the placeholder (unset, or a value
        saying it is not configured)."""
        default = type(self).model_fields["postal_address"].default
        return self.postal_address == default or "not configured" in self.postal_address.lower()

    def relay_reaches_no_one(self) -> bool:
        """Whether MAILER_SMTP_URL delivers to no reader: the outbox folder (the demo), the
        Mailpit catcher, or an example relay name. A relay on this machine is a real one."""
        smtp_host = urlsplit(self.smtp_url).hostname or ""
        return (
            self.smtp_url.startswith("outbox://")
            or smtp_host == "mailpit"
            or placeholder_host(smtp_host, local_ok=True)
        )

    def require_production_ready(self, what: str) -> None:
        """With MAILER_PRODUCTION set, refuse to run `what` on any default or placeholder.

        Raises ConfigError naming every such variable at once."""
        if not self.production:
            return
        problems = self.production_problems()
        if problems:
            raise ConfigError(
                f"MAILER_PRODUCTION is set, so {what} refuses to start: " + "; ".join(problems)
            )

    def secret(self) -> str:
        """The signing key: from settings, or generated once beside the SQLite database."""
        if self.secret_key:
            return self.secret_key
        if self.production:
            raise ConfigError("MAILER_SECRET_KEY is required when MAILER_PRODUCTION is set")
        path = self.secret_file()
        if path is None:
            raise ConfigError(
                "MAILER_SECRET_KEY is required with a non-SQLite database "
                "(set it to a long random string, e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`)"
            )
        if path.exists():
            return path.read_text().strip()
        database = self.sqlite_file()
        if database is not None and not database.exists():
            # The key belongs to a database: a command run where there is none (the wrong
            # folder) must not leave a key behind that a later `mailer demo` would adopt.
            raise ConfigError(
                f"the database {redact(self.database_url)} has no mailer tables yet ({database} "
                "does not exist): run `mailer db upgrade` first (or `mailer demo` to try the "
                "sample)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        return key

    def secret_source(self) -> str:
        """Where the signing key comes from, for people reading the settings (never the key)."""
        if self.secret_key:
            return "set (hidden)"
        path = self.secret_file()
        if path is not None and path.exists():
            return f"not set: the key generated in {path} is used (hidden)"
        if path is not None:
            return f"not set: a key will be generated in {path} on first use"
        return "not set (required with this database)"

    def sqlite_file(self) -> Path | None:
        """The embedded database's file (None for a server database or SQLite in memory)."""
        from sqlalchemy.engine import make_url  # here: reading the settings needs no SQLAlchemy

        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        return Path(url.database).resolve()

    def secret_file(self) -> Path | None:
        """Where the embedded default keeps its generated signing key: beside its database."""
        database = self.sqlite_file()
        return database.with_suffix(".secret") if database is not None else None

    def ratelimit_storage(self) -> str | None:
        """Where the shared sending window lives: Redis when there is one, else process memory."""
        if self.ratelimit_storage_url:
            return self.ratelimit_storage_url
        if self.broker_url and self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return None

    def verification_secrets(self) -> list[str]:
        """The current key first, then previous ones still accepted for links in sent mail.

        With MAILER_SECRET_KEY set beside a key generated earlier (`secret_file`: the embedded
        default signed with it until the variable was set, as `issue check` advises), the
        generated key is accepted too, so the links in mail sent before do not all break."""
        keys = [self.secret(), *self.previous_secret_keys]
        generated = self.secret_file() if self.secret_key else None
        if generated is not None and generated.is_file():
            earlier = generated.read_text().strip()
            if earlier and earlier not in keys:
                keys.append(earlier)
        return keys


def setting_names() -> set[str]:
    """Every MAILER_* variable a setting is read from."""
    return {info.alias or f"MAILER_{name.upper()}" for name, info in Settings.model_fields.items()}


def unknown_names(environ: dict[str, str], dotenv: dict[str, str | None]) -> list[str]:
    """A warning per MAILER_* name that is no setting, so a typo (`MAILER_FRM`) is not silently
    ignored: every such name in the .env file (it is ours), and in the environment those that
    look like a misspelt setting (other tools may set their own MAILER_* variables)."""
    import difflib

    known = setting_names()
    found: list[str] = []
    for where, names in (("in .env", dotenv), ("in the environment", environ)):
        for raw in names:
            name = raw.upper()
            if not name.startswith("MAILER_") or name in known:
                continue
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
            if not close and where != "in .env":
                continue
            hint = f" (did you mean {close[0]}?)" if close else ""
            found.append(f"{raw} {where} is not a setting{hint}; it is ignored")
    return found


def _warn_unknown_names() -> None:
    from dotenv import dotenv_values  # what pydantic-settings reads .env with

    env_file = Path(".env")
    dotenv = dict(dotenv_values(env_file)) if env_file.is_file() else {}
    for warning in unknown_names(dict(os.environ), dotenv):
        sys.stderr.write(f"warning: {warning}\n")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    _warn_unknown_names()
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            info = Settings.model_fields.get(field)
            name = (info.alias if info and info.alias else None) or f"MAILER_{field.upper()}"
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "bool_parsing":  # pydantic's text names neither value nor choice
                message = f"{error['input']!r} is not true or false (use true/false, 1/0, yes/no)"
            elif error["type"] in {"int_parsing", "int_from_float"}:
                message = f"{error['input']!r} is not a whole number"
            elif error["type"] == "float_parsing":
                message = f"{error['input']!r} is not a number"
            problems.append(f"{name}: {message}")
        raise ConfigError("invalid settings: " + "; ".join(problems)) from None


def reset_settings() -> None:
    """Forget cached settings (tests and the demo change the environment)."""
    get_settings.cache_clear()
