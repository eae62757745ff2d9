"""A private Postfix relay for end-to-end tests: Debian's `postfix` run from the test's own
configuration directory, never the machine's instance (/etc/postfix is not read or touched).

It listens on a free loopback port, offers STARTTLS with a self-signed certificate made here,
relays everything it accepts to `relayhost` (the test's SMTP sink), and answers RCPT from an
access table (`check_recipient_access`) that the test rewrites and `postmap`s while it runs.
Postfix wants root to start (its master drops privileges to `postfix`); the directories are
world-traversable so that its daemons can reach the queue.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.processes import wait_until
from tests.smtpd import free_port

# Debian's master.cf reduced to what relaying needs, every service out of a chroot (column 5 "n":
# a chroot would need copies of /etc files under the queue directory).
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = relay.test.example
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{relay_port}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access hash:{conf}/access, permit_mynetworks, reject
smtpd_tls_cert_file = {conf}/cert.pem
smtpd_tls_key_file = {conf}/key.pem
smtpd_tls_security_level = may
smtpd_tls_received_header = yes
smtp_tls_security_level = none
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
"""


def self_signed(cert: Path, key: Path, host: str = "127.0.0.1") -> None:
    """A certificate for `host` (an IP address SAN, which Python's hostname check matches)."""
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay.test.example")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


class Postfix:
    """One private Postfix instance; `stop()` is safe to call at any point, even twice."""

    def __init__(self, relay_port: int):
        self.root = Path(tempfile.mkdtemp(prefix="mailer-postfix-"))
        self.root.chmod(0o755)  # its daemons run as `postfix` and must reach the queue
        self.conf = self.root / "conf"
        self.port = free_port()
        self.relay_port = relay_port
        self.started = False

    @property
    def cert(self) -> Path:
        return self.conf / "cert.pem"

    def start(self, access: dict[str, str] | None = None) -> None:
        self.conf.mkdir()
        (self.root / "queue").mkdir()
        data = self.root / "data"
        data.mkdir()
        shutil.chown(data, "postfix")
        self_signed(self.cert, self.conf / "key.pem")
        fields = {"root": self.root, "conf": self.conf, "relay_port": self.relay_port}
        (self.conf / "main.cf").write_text(MAIN_CF.format(**fields))
        (self.conf / "master.cf").write_text(MASTER_CF.format(port=self.port))
        self.set_access(access or {})
        self._postfix("check")
        self._postfix("start")
        self.started = True
        wait_until(self._listening, 30, f"postfix on 127.0.0.1:{self.port}")

    def set_access(self, entries: dict[str, str]) -> None:
        """Replace the recipient access table (address → action, e.g. "450 4.2.0 busy")."""
        table = self.conf / "access"
        table.write_text("".join(f"{address} {action}\n" for address, action in entries.items()))
        self._run("postmap", "-c", str(self.conf), f"hash:{table}")

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop the master and its daemons, then remove everything; never raises."""
        if self.started:
            self.started = False
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._postfix("stop")
            self._wait_master_gone()
        shutil.rmtree(self.root, ignore_errors=True)

    def _wait_master_gone(self) -> None:
        pid_file = self.root / "queue" / "pid" / "master.pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        with contextlib.suppress(AssertionError):
            wait_until(lambda: not _alive(pid), 15, "postfix's master to exit")
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # `stop` did not take: this master only, by its pid

    def _listening(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
            return True
        return False

    def _postfix(self, command: str) -> None:
        self._run("postfix", "-c", str(self.conf), command)

    def _run(self, *args: str) -> None:
        done = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (
            f"{' '.join(args)} failed ({done.returncode}): {done.stderr}\n{self.log()[-2000:]}"
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    with contextlib.suppress(OSError):
        return " Z " not in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4]
    return True
