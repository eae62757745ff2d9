"""A pause or a cancel from another shell stops an in-process `mailer send` (the embedded
default) at once: after the command returns, at most the messages in flight reach the relay, a
row shown skipped never does, and a pause then a resume sends everyone exactly once."""

from __future__ import annotations

import asyncio
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.processes import wait_until
from tests.smtpd import SMTPServer, SMTPSink
from tests.webserver import MAILER, free_port, mailer_env, run_cli

# At most the message whose reply the batch awaits, and one whose end of data crossed the
# command's commit, reach the relay after a pause or a cancel returned.
IN_FLIGHT = 2


class SlowSink(SMTPSink):
    """A relay that takes a while over each message (its reply to the end of data)."""

    delay: float = 0.3  # 38 messages: 11 s, while the pause or cancel process starts

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


def _send(tmp_path: Path, database_url: str, relay: SMTPServer) -> tuple[dict[str, str], Any]:
    env = mailer_env(tmp_path, database_url, relay.url, free_port())
    env["MAILER_STALE_AFTER"] = "900"
    samples = Path(__file__).parents[2] / "mailer" / "samples"
    slug = ""
    for args in (
        ("list", "create", "clients", "--name", "Clients"),
        ("issue", "import", str(samples / "security-chatter-2025-04-09.txt")),
        ("subscribers", "import", str(samples / "subscribers-sample.csv"), "--list", "clients"),
    ):
        done = run_cli(env, *args, cwd=tmp_path)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        slug = done.stdout.split()[-1] if args[0] == "issue" else slug
    send = subprocess.Popen(
        [*MAILER, "send", slug, "--list", "clients", "--yes"],
        env={**env, "COLUMNS": "200"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return env, send


def _rows(database_url: str) -> dict[str, str]:
    """Each delivery's address and status, as the database has them."""
    engine = create_engine(database_url)
    with closing(engine.connect()) as conn:
        rows = conn.execute(
            text(
                "SELECT subscriber.email, delivery.status FROM delivery "
                "JOIN subscriber ON subscriber.id = delivery.subscriber_id"
            )
        ).all()
    engine.dispose()
    return {email.lower(): status for email, status in rows}


def _received(relay: SMTPServer) -> list[str]:
    with relay.sink.lock:
        return [a.lower() for r in relay.sink.received for a in r.rcpt_tos]


def _stop_mid_send(
    tmp_path: Path, database_url: str, relay: SMTPServer, command: str
) -> tuple[dict[str, str], subprocess.CompletedProcess[str], int]:
    """`mailer send` in-process, then `mailer campaign COMMAND 1` from another process once three
    messages are in: (env, the command's result, messages the relay had when it returned). The
    send has exited when this returns."""
    env, send = _send(tmp_path, database_url, relay)
    try:
        wait_until(lambda: len(_received(relay)) >= 3, timeout=60, what="three messages")
        stopped = run_cli(env, "campaign", command, "1", cwd=tmp_path)
        at_stop = len(_received(relay))
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        send.communicate(timeout=60)
    finally:
        send.kill()
    return env, stopped, at_stop


def test_a_cancel_stops_an_in_process_send_at_the_message_in_flight(
    tmp_path: Path, database_url: str
) -> None:
    with SMTPServer(SlowSink()) as relay:
        _, cancelled, at_cancel = _stop_mid_send(tmp_path, database_url, relay, "cancel")
        after = _received(relay)
        assert len(after) - at_cancel <= IN_FLIGHT, (at_cancel, len(after))
        rows = _rows(database_url)
        skipped = {email for email, status in rows.items() if status == "skipped"}
        assert skipped, rows  # the cancel came early: most were never sent
        assert not skipped & set(after), sorted(skipped & set(after))
        sent = {email for email, status in rows.items() if status == "sent"}
        assert sent == set(after) and len(after) == len(set(after)), (sorted(sent), after)
        assert all(status in ("sent", "skipped") for status in rows.values()), rows
        assert f"sent {len(sent)}" in cancelled.stdout, cancelled.stdout
        assert f"skipped {len(skipped)}" in cancelled.stdout, cancelled.stdout


def test_a_pause_stops_an_in_process_send_and_a_resume_sends_each_reader_once(
    tmp_path: Path, database_url: str
) -> None:
    with SMTPServer(SlowSink()) as relay:
        env, _, at_pause = _stop_mid_send(tmp_path, database_url, relay, "pause")
        assert len(_received(relay)) - at_pause <= IN_FLIGHT, (at_pause, len(_received(relay)))
        rows = _rows(database_url)
        assert any(status == "pending" for status in rows.values()), rows  # left to resume
        resumed = run_cli(env, "campaign", "resume", "1", cwd=tmp_path)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        received = _received(relay)
        rows = _rows(database_url)
        assert set(rows.values()) == {"sent"}, rows
        assert sorted(received) == sorted(rows), sorted(received)  # nobody lost, nobody twice
