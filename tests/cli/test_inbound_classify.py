"""`mailer inbound classify`: the judgement of saved messages, without a database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mailer.cli import app

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
