"""`mailer demo` in an empty folder with nothing configured: the whole job, embedded."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from pathlib import Path

from mailer import tokens


def run_demo(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
    return subprocess.run(
        [sys.executable, "-m", "mailer", "demo"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_demo_sends_the_fixture_issue_to_the_sample_subscribers(tmp_path: Path) -> None:
    first = run_demo(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    outbox = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(outbox) == 38  # the sample CSV's good rows, the duplicate merged
    recipients = set()
    for path in outbox:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        [pdf] = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
        assert pdf.get_filename() == "MI-SecurityChatter-040925.pdf"
        assert pdf.get_content().startswith(b"%PDF-")
        assert msg["Return-Path"].startswith("<bounces+")
        recipients.add(msg["To"].addresses[0].addr_spec)
        kind, _token = tokens.parse_address(msg["Reply-To"].addresses[0].addr_spec, "localhost")
        assert kind == "reply"
    assert len(recipients) == 38
    assert (tmp_path / "preview" / "email.html").stat().st_size > 10_000
    assert "38 messages in" in first.stdout

    again = run_demo(tmp_path)  # a second run sends nothing new
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Recipients: 0" in again.stdout
    assert "nothing new to send: everyone on the list already has this issue" in again.stdout
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 38
