"""Benchmark (not a test): what DKIM adds to a message, against the cost of one signature.

    python bench/dkim.py [--repeat 9] [--messages 300]

One process, no database: the fixture briefing (mailer/samples/) rendered once, then per message
`Composer.compose` (the ~130 KB message with its PDF part) with throw-away keys made at start:

- unsigned; signed rsa-sha256 (RSA-2048); dual-signed rsa-sha256 + ed25519-sha256 (RFC 8463),
  as MAILER_DKIM_* and MAILER_DKIM_ED25519_* configure it; and ed25519-sha256 alone (the Signer
  given the Ed25519 key only: the settings always sign with RSA first);
- the references, timed in the same run: one RSA-2048 signature (cryptography: PKCS#1 v1.5,
  SHA-256) over a real header hash input taken from a signed message (~1.3 KB: the signed header
  fields and the DKIM-Signature), one Ed25519 signature over its SHA-256 digest (what RFC 8463
  signs), and the SHA-256 of one message's canonical body — which DKIM must hash for every
  message, and which no precomputation can avoid (only the few hundred bytes before the first
  personal line are the same in every message).

Every figure is the median over --repeat runs of --messages calls after a warm-up; the variants
run interleaved (one run of each, in turn), so a change in the machine's load falls on all of
them alike. Wall-clock (time.perf_counter) figures and CPU-time (time.process_time) figures are
printed; the second are less disturbed by other processes on the machine.

Target: (signed − unsigned) ≤ 1.15 × one RSA-2048 signature. The breakdown line splits the
extra cost into the RSA signature, the body hash and the rest (header canonicalisation, the
DKIM-Signature field, copying).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    bench_settings,
    fixture_campaign_info,
    fixture_content,
    fmt_us,
    recipient,
    table,
)
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa  # noqa: E402

from mailer.rendering.email_edition import render_issue  # noqa: E402
from mailer.sending.compose import Composer  # noqa: E402
from mailer.sending.dkim import Signer, SigningKey  # noqa: E402

TARGET = 1.15  # (signed − unsigned) ÷ one RSA-2048 signature
DOMAIN = "news.example.com"


def write_keys(folder: Path) -> tuple[Path, Path]:
    """An RSA-2048 and an Ed25519 key in PKCS#8 PEM, as `openssl genpkey` writes them."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    rsa_path, ed_path = folder / "rsa.pem", folder / "ed25519.pem"
    rsa_path.write_bytes(rsa_key.private_bytes(*pkcs8, serialization.NoEncryption()))
    ed_path.write_bytes(ed_key.private_bytes(*pkcs8, serialization.NoEncryption()))
    return rsa_path, ed_path


def interleaved(
    fns: dict[str, Callable[[int], object]], *, number: int, repeat: int
) -> dict[str, tuple[float, float]]:
    """(median wall seconds, median CPU seconds) per call of each fn, runs taken in turn."""
    walls: dict[str, list[float]] = {k: [] for k in fns}
    cpus: dict[str, list[float]] = {k: [] for k in fns}
    i = 0
    for run in range(repeat + 1):  # the first run is the warm-up
        for label, fn in fns.items():
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(number):
                fn(i)
                i += 1
            if run:
                walls[label].append((time.perf_counter() - wall) / number)
                cpus[label].append((time.process_time() - cpu) / number)
    return {k: (statistics.median(walls[k]), statistics.median(cpus[k])) for k in fns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per figure (median)")
    parser.add_argument("--messages", type=int, default=300, help="calls per run")
    args = parser.parse_args()

    content = fixture_content()
    plain = bench_settings()
    rendered = render_issue(content, plain)
    info = fixture_campaign_info(content)
    folder = Path(tempfile.mkdtemp(prefix="bench-dkim-"))
    rsa_pem, ed_pem = write_keys(folder)
    rsa_settings = bench_settings(dkim_key_file=rsa_pem, dkim_selector="brief", dkim_domain=DOMAIN)
    dual_settings = bench_settings(
        dkim_key_file=rsa_pem,
        dkim_selector="brief",
        dkim_domain=DOMAIN,
        dkim_ed25519_key_file=ed_pem,
        dkim_ed25519_selector="brief-ed",
    )
    unsigned = Composer(rendered, info, plain)
    signed = Composer(rendered, info, rsa_settings)
    dual = Composer(rendered, info, dual_settings)
    ed_only = Composer(rendered, info, plain)
    ed_key = SigningKey(ed_pem.read_bytes(), "brief-ed", setting="MAILER_DKIM_ED25519_KEY_FILE")
    ed_only.signer = Signer([ed_key], DOMAIN)
    assert signed.signer is not None and dual.signer is not None

    # A real header hash input, and a real message's canonical body (its bodies are written in
    # canonical form; the fixed parts are already so), for the reference operations.
    captured: list[bytes] = []
    rsa_key = signed.signer.keys[0]
    sign = rsa_key.sign

    def capture(data: bytes) -> bytes:
        captured.append(data)
        return sign(data)

    rsa_key.sign = capture  # type: ignore[method-assign]
    sample = signed.compose(0, *recipient(0)).data
    rsa_key.sign = sign  # type: ignore[method-assign]
    header_input = captured[0]
    body = sample.split(b"\r\n\r\n", 1)[1]
    assert sample.count(b"DKIM-Signature:") == 1
    assert dual.compose(0, *recipient(0)).data.count(b"DKIM-Signature:") == 2

    people = [recipient(i) for i in range(args.messages * (args.repeat + 1) * 8)]
    private_rsa = serialization.load_pem_private_key(rsa_pem.read_bytes(), password=None)
    private_ed = serialization.load_pem_private_key(ed_pem.read_bytes(), password=None)
    assert isinstance(private_rsa, rsa.RSAPrivateKey)
    assert isinstance(private_ed, ed25519.Ed25519PrivateKey)

    def composing(composer: Composer) -> Callable[[int], object]:
        return lambda i: composer.compose(i, *people[i % len(people)])

    fns: dict[str, Callable[[int], object]] = {
        "unsigned": composing(unsigned),
        "rsa": composing(signed),
        "dual": composing(dual),
        "ed25519": composing(ed_only),
        "one RSA": lambda i: private_rsa.sign(header_input, padding.PKCS1v15(), hashes.SHA256()),
        "one Ed25519": lambda i: private_ed.sign(hashlib.sha256(header_input).digest()),
        "body hash": lambda i: hashlib.sha256(body).digest(),
    }
    t = interleaved(fns, number=args.messages, repeat=args.repeat)

    print(
        f"Fixture issue: {content.title!r}; message {len(sample) / 1024:.1f} KiB signed, "
        f"canonical body {len(body) / 1024:.1f} KiB; header hash input {len(header_input)} B"
    )
    print(
        f"Python {sys.version.split()[0]}; median of {args.repeat} interleaved runs × "
        f"{args.messages} calls after a warm-up run\n"
    )
    labels = {
        "unsigned": "Composer.compose, unsigned",
        "rsa": "Composer.compose, rsa-sha256 (RSA-2048)",
        "dual": "Composer.compose, rsa-sha256 + ed25519-sha256",
        "ed25519": "Composer.compose, ed25519-sha256 alone",
        "one RSA": "one RSA-2048 signature (PKCS#1 v1.5, SHA-256)",
        "one Ed25519": "one Ed25519 signature (of the SHA-256 digest)",
        "body hash": "SHA-256 of one canonical body",
    }
    rows = []
    for key, label in labels.items():
        wall, cpu = t[key]
        extra = ""
        if key in ("rsa", "dual", "ed25519"):
            extra = f"+{fmt_us(wall - t['unsigned'][0])}"
        rows.append([label, fmt_us(wall), fmt_us(cpu), extra])
    print(table(["per call", "wall", "CPU", "vs unsigned"], rows))

    print()
    for which, index in (("wall-clock", 0), ("CPU time", 1)):
        added = t["rsa"][index] - t["unsigned"][index]
        one = t["one RSA"][index]
        ratio = added / one
        body_hash = t["body hash"][index]
        rest = added - one - body_hash
        verdict = "met" if ratio <= TARGET else "NOT met"
        print(
            f"{which}: signed − unsigned = {fmt_us(added)} = {ratio:.2f} × one RSA signature "
            f"(target ≤ {TARGET:.2f}: {verdict})"
        )
        print(
            f"  = RSA {fmt_us(one)} + body SHA-256 {fmt_us(body_hash)} "
            f"({body_hash / one:.2f} × RSA) + the rest {fmt_us(rest)} ({rest / one:+.2f} × RSA)"
        )
        dual_added = t["dual"][index] - t["unsigned"][index]
        print(
            f"  dual-signed adds {fmt_us(dual_added)}: {dual_added / one:.2f} × one RSA; "
            f"the Ed25519 signature itself {fmt_us(t['one Ed25519'][index])}"
        )


if __name__ == "__main__":
    main()
