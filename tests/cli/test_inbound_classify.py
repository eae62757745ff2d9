"""`mailer inbound classify`: the judgement of saved messages, without a database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailer.cli import app
from mailer.settings import reset_settings

DATA = Path(__file__).parent.parent / "data"
runner = CliRunner()


def test_json_gives_one_object_per_file_with_its_recipients_and_rule() -> None:
    dsn = DATA / "inbound" / "dsn-5.7.1-spam-block.eml"
    arf = DATA / "inbound" / "complaint-arf.eml"
    got = runner.invoke(
        app,
        [
            "inbound",
            "classify",
            "--json",
            "--mail-from",
            "",
            "--rcpt",
            "bounces+1-aaaaaaaaaaaaaaaa@localhost",
            str(dsn),
            str(arf),
        ],
    )
    assert got.exit_code == 0, got.output
    first, second = (json.loads(line) for line in got.output.splitlines())
    assert first["file"] == str(dsn) and first["kind"] == "bounce" and first["rule"] == "rfc3464"
    [failure] = first["recipients"]
    assert (failure["address"], failure["status"], failure["hard"]) == (
        "reader@example.com",
        "5.7.1",
        False,
    )
    assert failure["reason"] in ("spam_or_content", "policy_blocked")
    assert second["kind"] == "complaint" and second["recipients"][0]["address"] == (
        "complainer@example.com"
    )


def test_the_human_output_names_kind_rule_and_each_recipient() -> None:
    sample = DATA / "bounces" / "sisimai" / "bsd" / "lhost-dragonfly-04.eml"
    got = runner.invoke(app, ["inbound", "classify", str(sample)])
    assert got.exit_code == 0, got.output
    assert f"{sample}: bounce (text)" in got.output
    assert "postmaster@cx.libsisimai.org - host_unknown hard" in got.output


def test_a_missing_file_is_named_and_the_others_still_judged(tmp_path: Path) -> None:
    reply = tmp_path / "reply.eml"
    reply.write_bytes(b"From: a@example.org\r\nSubject: Re: x\r\n\r\nCall me?\r\n")
    got = runner.invoke(
        app,
        [
            "inbound",
            "classify",
            "--rcpt",
            "reply+1-aaaaaaaaaaaaaaaa@news.example.com",
            str(tmp_path / "nope.eml"),
            str(reply),
        ],
    )
    assert got.exit_code == 1
    assert "nope.eml: cannot read" in got.output and f"{reply}: inquiry (reply)" in got.output


REPLY = (
    "Delivered-To: {delivered}\r\n"
    "From: Dan <dan@example.org>\r\nTo: Briefing <{to}>\r\nSubject: Re: Security Chatter\r\n"
    "In-Reply-To: <c1.d1.abcdefgh@localhost>\r\nMessage-ID: <r1@example.org>\r\n\r\n"
    "Can we talk about item 2?\r\n"
)


def test_without_rcpt_the_recipient_comes_from_the_messages_own_headers(tmp_path: Path) -> None:
    """A saved reply says where it was delivered: judged as an inquiry, naming the header."""
    reply = tmp_path / "reply.eml"
    reply.write_text(REPLY.format(delivered="dan@example.org", to="reply+1-aaaa@localhost"))
    got = runner.invoke(app, ["inbound", "classify", str(reply)])
    assert got.exit_code == 0, got.output
    assert f"{reply}: inquiry (reply)" in got.output
    assert "as received at reply+1-aaaa@localhost (from its To header)" in got.output
    # The delivering MTA's record comes first.
    reply.write_text(
        REPLY.format(delivered="bounces+1-bbbb@localhost", to="reply+1-aaaa@localhost")
    )
    got = runner.invoke(app, ["inbound", "classify", "--json", str(reply)])
    record = json.loads(got.output)
    assert (record["rcpt"], record["rcpt_from"]) == ("bounces+1-bbbb@localhost", "Delivered-To")


def test_a_message_to_none_of_our_addresses_says_so(tmp_path: Path) -> None:
    mail = tmp_path / "mail.eml"
    mail.write_text(REPLY.format(delivered="dan@example.org", to="editor@example.org"))
    got = runner.invoke(app, ["inbound", "classify", str(mail)])
    assert got.exit_code == 0, got.output
    assert "unrecognized (none)" in got.output
    assert "as received at none of our addresses" in got.output


def test_a_bad_rcpt_or_a_file_that_is_not_a_message_is_refused(tmp_path: Path) -> None:
    reply = tmp_path / "reply.eml"
    reply.write_text(REPLY.format(delivered="dan@example.org", to="reply+1-aaaa@localhost"))
    got = runner.invoke(app, ["inbound", "classify", "--rcpt", "notanaddress", str(reply)])
    assert got.exit_code == 2
    assert "'notanaddress' is not an email address" in got.output
    people = tmp_path / "people.csv"
    people.write_text("email,name\nana@example.com,Ana\n")
    got = runner.invoke(app, ["inbound", "classify", str(people), str(reply)])
    assert got.exit_code == 1
    assert f"{people}: not an email message" in got.output
    assert f"{reply}: inquiry (reply)" in got.output


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MAILER_INBOUND_MAX_BYTES", "4096")
    reset_settings()
    yield
    reset_settings()


def test_a_file_past_the_inbound_limit_is_refused_by_name_and_the_others_judged(
    tmp_path: Path, small_limit: None
) -> None:
    """A 40 MB file took 6 s and 380 MB to judge, though `mailer inbound` refuses anything over
    MAILER_INBOUND_MAX_BYTES: classify keeps the same limit, file by file."""
    reply = tmp_path / "reply.eml"
    reply.write_bytes(b"From: a@example.org\r\nSubject: Re: x\r\n\r\nCall me?\r\n")
    big = tmp_path / "big.eml"
    big.write_bytes(b"From: a@example.org\r\nSubject: big\r\n\r\n" + b"x" * 5000 + b"\r\n")
    exact = tmp_path / "exact.eml"
    exact.write_bytes(reply.read_bytes().ljust(4096, b"y"))
    args = ["--rcpt", "reply+1-aaaaaaaaaaaaaaaa@news.example.com"]
    got = runner.invoke(app, ["inbound", "classify", *args, str(big), str(reply), str(exact)])
    assert got.exit_code == 1
    assert f"{big}: 5,039 bytes, larger than 4,096 bytes" in got.output
    assert "MAILER_INBOUND_MAX_BYTES" in got.output
    assert f"{reply}: inquiry (reply)" in got.output and f"{exact}: inquiry" in got.output
    # From a pipe, which has no size to look at first: read only up to the limit.
    piped = subprocess.run(
        [sys.executable, "-m", "mailer", "inbound", "classify", *args, "/dev/stdin"],
        input=big.read_bytes(),
        capture_output=True,
        cwd=tmp_path,
        env={**os.environ, "MAILER_INBOUND_MAX_BYTES": "4096"},
        timeout=60,
        check=False,
    )
    assert piped.returncode == 1
    assert b"/dev/stdin: larger than 4,096 bytes" in piped.stderr, piped.stderr
