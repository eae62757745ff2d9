"""The bench's SMTP sink and the reference clients measured against it (used by bench/send.py).

The sink is a minimal asyncio server in its own process (`python bench/_sink.py`, so it never
shares a GIL with a measured process) that answers 250 to everything, offers PIPELINING, and
counts messages and bytes with time.monotonic() stamps (CLOCK_MONOTONIC, comparable between
processes on one machine). Its parent talks to it over stdin/stdout (`Sink`).

`smtp_source` runs Postfix's smtp-source (C, one command at a time, no pipelining) against it:
the physical reference for what one machine's loopback and this sink can take.
"""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

SMTP_SOURCE = "/usr/sbin/smtp-source"


TERMINATOR = b"\r\n.\r\n"
EHLO_REPLY = b"250-sink.local\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 0\r\n"


class SinkStats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.messages = 0
        self.bytes = 0
        self.connections = 0
        self.first = 0.0  # monotonic time the first message ended
        self.last = 0.0  # monotonic time the last message ended

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "bytes": self.bytes,
            "connections": self.connections,
            "first": self.first,
            "last": self.last,
            "now": time.monotonic(),
        }


class SinkProtocol(asyncio.Protocol):
    """SMTP reduced to what clients send: 250 to everything, 354 to DATA, 221 to QUIT.

    DATA is never buffered: only the last four bytes are kept to find a terminator split
    across reads, so a 130 KB message costs a few `bytes.find` calls.
    """

    def __init__(self, stats: SinkStats) -> None:
        self.stats = stats
        self.buffer = b""
        self.in_data = False
        self.tail = b""
        self.size = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.stats.connections += 1
        transport.write(b"220 sink.local ESMTP bench sink\r\n")

    def data_received(self, chunk: bytes) -> None:
        if self.in_data:
            self._data(chunk)
        else:
            self.buffer += chunk
            self._commands()

    def _data(self, chunk: bytes) -> None:
        joined = self.tail + chunk
        end = joined.find(TERMINATOR)
        if end < 0:
            self.size += len(chunk)
            self.tail = joined[-4:]
            return
        self.size += end - len(self.tail) + 2
        stats = self.stats
        stats.messages += 1
        stats.bytes += self.size
        stats.last = time.monotonic()
        if stats.messages == 1:
            stats.first = stats.last
        self.in_data, self.tail, self.size = False, b"", 0
        self.buffer = joined[end + len(TERMINATOR) :]
        # With the commands that followed the end of data (a streaming client's next envelope)
        # in one write, as a server flushes its replies once its input is drained.
        self._commands([b"250 2.0.0 Ok: queued\r\n"])

    def _commands(self, replies: list[bytes] | None = None) -> None:
        assert self.transport is not None
        replies = replies or []
        while not self.in_data:
            line, sep, rest = self.buffer.partition(b"\r\n")
            if not sep:
                break
            self.buffer = rest
            verb = line[:4].upper()
            if verb == b"EHLO":
                replies.append(EHLO_REPLY)
            elif verb == b"DATA":
                replies.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                self.in_data, self.tail, self.size = True, b"\r\n", 0
            elif verb == b"QUIT":
                replies.append(b"221 2.0.0 Bye\r\n")
                self.transport.write(b"".join(replies))
                self.transport.close()
                return
            else:
                replies.append(b"250 2.0.0 Ok\r\n")
        if replies:
            self.transport.write(b"".join(replies))
        if self.in_data and self.buffer:
            rest, self.buffer = self.buffer, b""
            self._data(rest)


def sink_main() -> None:
    """Serve on a free port; print {"port": N}; answer `stats`/`reset` lines on stdin."""
    stats = SinkStats()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SinkProtocol(stats), "127.0.0.1", 0, backlog=512)
        port = server.sockets[0].getsockname()[1]
        print(json.dumps({"port": port}), flush=True)
        stop = asyncio.Event()

        def control() -> None:
            for line in sys.stdin:
                cmd = line.strip()
                if cmd == "stats":
                    print(json.dumps(stats.as_dict()), flush=True)
                elif cmd == "reset":
                    stats.reset()
                    print(json.dumps({"ok": True}), flush=True)
                elif cmd == "quit":
                    break
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=control, daemon=True).start()
        async with server:
            await stop.wait()

    asyncio.run(serve())


class Sink:
    """The parent's handle on the sink process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(json.loads(self.proc.stdout.readline())["port"])

    def _ask(self, cmd: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def stats(self) -> dict[str, Any]:
        return self._ask("stats")

    def reset(self) -> None:
        self._ask("reset")

    def wait_for(self, count: int, timeout: float, alive: list[subprocess.Popen[Any]]) -> dict:
        """Poll until `count` messages arrived; fail if it stalls or a worker died."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.stats()
            if s["messages"] >= count:
                return s
            dead = [p for p in alive if p.poll() is not None]
            if dead:
                raise SystemExit(f"a worker exited (code {dead[0].returncode}) mid-run: {s}")
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out waiting for {count} messages at the sink: {s}")
            time.sleep(0.05)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def smtp_source_available() -> bool:
    """Debian's postfix package installs smtp-source in /usr/sbin."""
    return Path(SMTP_SOURCE).exists() or shutil.which("smtp-source") is not None


def smtp_source(sink: Sink, count: int, message: bytes, workdir: Path, sessions: int = 2) -> dict:
    """Postfix's smtp-source sending `message` `count` times over `sessions` persistent
    connections (-d) to the sink. It reads -F's file line by line and ends each line with CRLF,
    so it is given the message with LF line ends; it adds one empty line at the end (2 bytes).

    Returns {"seconds": launch → last message, "span": first → last message, "cpu": its user +
    system seconds (rusage of the reaped child), "messages": what the sink counted}.
    """
    path = workdir / "message-lf.eml"
    path.write_bytes(message.replace(b"\r\n", b"\n"))
    exe = SMTP_SOURCE if Path(SMTP_SOURCE).exists() else str(shutil.which("smtp-source"))
    sink.reset()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(
        [exe, "-d", "-s", str(sessions), "-m", str(count), "-F", str(path)]
        + ["-f", "bounces@news.example.com", "-t", "reader@example.org"]
        + [f"127.0.0.1:{sink.port}"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stats = sink.stats()
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {
        "seconds": stats["last"] - started,
        "span": stats["last"] - stats["first"],
        "cpu": cpu,
        "messages": stats["messages"],
    }


if __name__ == "__main__":
    sink_main()
