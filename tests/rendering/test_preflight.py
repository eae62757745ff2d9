"""`mailer issue preview` and `mailer issue check`, and the preflight checks behind them."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailer.cli import app
from mailer.db import session_scope
from mailer.rendering.email_edition import MAX_HTML_BYTES
from mailer.rendering.preflight import (
    FAIL,
    PASS,
    check_headers,
    check_html_size,
    check_images,
    check_links,
    preflight,
)
from mailer.settings import Settings, reset_settings
from mailer.tokens import parse_delivery_token
from tests.conftest import BRIEFING

runner = CliRunner()


@pytest.fixture
def imported(settings: Settings) -> str:
    result = runner.invoke(app, ["issue", "import", str(BRIEFING)])
    assert result.exit_code == 0, result.output
    return result.output.split()[-1]


def test_preview_writes_the_four_files(imported: str, settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "preview"
    result = runner.invoke(app, ["issue", "preview", imported, "--out", str(out)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["MI-SecurityChatter-040925.pdf", "email.html", "email.txt", "message.eml"]
    pdf = (out / "MI-SecurityChatter-040925.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    html = (out / "email.html").read_text(encoding="utf-8")
    text = (out / "email.txt").read_text(encoding="utf-8")
    assert "Sheinbaum takes a new direction in the fight against insecurity in Mexico." in html
    assert "Sheinbaum takes a new direction" in text
    msg = email.message_from_bytes((out / "message.eml").read_bytes(), policy=email.policy.default)
    (to,) = msg["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Sample Reader", "reader@example.com")
    assert msg["Reply-To"].addresses[0].display_name == "Fausto Carbajal Glass"
    # The files are the parts of the message, not a separate rendering.
    attachment = list(msg.walk())[-1]
    assert attachment.get_filename() == "MI-SecurityChatter-040925.pdf"
    assert attachment.get_content() == pdf
    html_part = msg.get_body(("html",))
    assert html_part is not None
    assert html_part.get_content().replace("\r\n", "\n") == html
    token = msg["List-Unsubscribe"].split("/u/", 1)[1].split(">", 1)[0]
    assert parse_delivery_token(token, settings.verification_secrets()) == 0


def test_preview_of_an_unknown_issue_names_the_known_ones(imported: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["issue", "preview", "no-such-issue", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "no-such-issue" in str(result.exception)
    assert imported in str(result.exception)


def test_check_passes_on_the_fixture(imported: str) -> None:
    result = runner.invoke(app, ["issue", "check", imported])
    assert result.exit_code == 0, result.output
    out = result.output
    for name in ["MIME structure", "Headers", "HTML size", "Image alt text", "Links"]:
        assert name in out
    assert "SpamAssassin" in out and "score" in out  # installed here (and in CI)
    assert "FAIL" not in out
    assert "all checks passed" in out


def test_check_for_a_private_list_passes_without_list_archive(imported: str) -> None:
    """A private list's message has no List-Archive on purpose; the check passes it, and fails
    a public-looking message offered as a private list's (the archive would leak its issues)."""
    from subscribers.lists import create_list

    with session_scope() as session:
        create_list(session, "board", "Board briefing", private=True)
    result = runner.invoke(app, ["issue", "check", imported, "--list", "board"])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output and "all checks passed" in result.output
    message = f"List-Archive: <https://news.example.com/archive>\r\n{_MINIMAL}".encode()
    msg = email.message_from_bytes(message, policy=email.policy.default)
    public = check_headers(msg)  # type: ignore[arg-type]
    private = check_headers(msg, web_edition=False)  # type: ignore[arg-type]
    assert "List-Archive on a private list's message" not in " ".join(public.problems)
    assert "List-Archive on a private list's message (its issues are not archived)" in (
        private.problems
    )


_MINIMAL = "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"


def _html(body: str) -> str:
    return f"<html><body>{body}</body></html>"


def test_checks_catch_what_they_should() -> None:
    assert check_html_size(_html("x" * 1000)).status == PASS
    big = check_html_size(_html("x" * MAX_HTML_BYTES))
    assert big.status == FAIL and "KB" in big.detail

    images = check_images(
        _html('<img src="a.png" alt="Logo"><img src="b.png"><img src="c" alt="">')
    )
    assert images.status == FAIL and images.problems == ("b.png",)
    assert check_images(_html('<img src="a.png" alt="Logo">')).status == PASS

    links = check_links(
        _html(
            '<a href="https://ok.example">a</a><a href="mailto:x@example.com">b</a>'
            '<a href="javascript:alert(1)">c</a><a href="/relative">d</a><a href="">e</a>'
            '<a href="http://">f</a><a>g</a>'
        )
    )
    assert links.status == FAIL
    assert links.problems == (
        "javascript:alert(1)",
        "/relative",
        "(empty href)",
        "http://",
        "(empty href)",
    )


def test_missing_headers_fail() -> None:
    raw = b"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    result = check_headers(msg)  # type: ignore[arg-type]
    assert result.status == FAIL
    assert "missing List-Unsubscribe" in result.problems and "missing Reply-To" in result.problems
    assert "missing From" not in result.problems
    assert "missing List-Archive" in result.problems


def test_preflight_of_a_bare_html_message_fails() -> None:
    raw = (
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: text/html; charset="utf-8"\r\n\r\n<p><img src="x.png"></p>\r\n'
    )
    checks = {c.name: c for c in preflight(raw, spam=False)}
    assert checks["MIME structure"].failed
    assert checks["Headers"].failed
    assert checks["Image alt text"].failed


def test_check_fails_in_production_on_each_placeholder(
    imported: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fixture's settings are a test's, not a firm's: in production the check says so."""
    monkeypatch.setenv("MAILER_PRODUCTION", "true")
    monkeypatch.setenv("MAILER_SECRET_KEY", "change-me")
    monkeypatch.delenv("MAILER_POSTAL_ADDRESS")  # a new user's: the placeholder
    reset_settings()
    result = runner.invoke(app, ["issue", "check", imported])
    assert result.exit_code == 1, result.output
    flat = " ".join(result.output.split())
    assert "Sending settings" in flat and "failed: Sending settings" in flat
    for name in ("MAILER_SECRET_KEY", "MAILER_POSTAL_ADDRESS", "MAILER_MAIL_DOMAIN",
                 "MAILER_PUBLIC_URL", "MAILER_FROM", "MAILER_SMTP_URL"):  # fmt: skip
        assert name in flat
    assert "all checks passed" not in flat


def test_check_warns_outside_production_of_what_readers_would_see(
    imported: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new user's settings (the sample firm's names, the placeholder postal address) are
    allowed outside production, but `issue check` is where an editor looks before real readers
    get them: a warning naming each, the check still passing."""
    monkeypatch.delenv("MAILER_POSTAL_ADDRESS")
    reset_settings()
    result = runner.invoke(app, ["issue", "check", imported])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.replace("│", " ").split())
    assert "Sending settings warn not production (MAILER_PRODUCTION unset):" in flat
    assert "- MAILER_POSTAL_ADDRESS is the placeholder: set the firm's address" in flat
    assert flat.endswith("all checks passed; see the warnings: Sending settings")


def test_check_fits_the_terminals_width(imported: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The table was always 120 columns wide, so in an 80-column terminal every row wrapped
    into a mess: it takes the terminal's width (COLUMNS), 120 only when piped."""
    monkeypatch.delenv("MAILER_POSTAL_ADDRESS")
    reset_settings()
    narrow = runner.invoke(app, ["issue", "check", imported], env={"COLUMNS": "80"})
    assert narrow.exit_code == 0, narrow.output
    table = narrow.stdout.splitlines()[:-1]  # the last line is the verdict, outside the table
    assert max(len(line) for line in table) <= 80, narrow.stdout
    flat = " ".join(narrow.stdout.replace("│", " ").split())
    assert "Sending settings warn" in flat and "MAILER_POSTAL_ADDRESS is the placeholder" in flat
