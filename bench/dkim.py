"""Benchmark (not a test): what DKIM adds to a message, against the cost of one signature.

    python bench/dkim.py [--repeat 9] [--messages 300]
    python bench/dkim.py --instructions [--messages 32]     (needs valgrind)

One process, no database: the fixture briefing (mailer/samples/) rendered once, then per message
`Composer.compose` (the ~130 KB message with its PDF part) with throw-away keys made at start:

- unsigned; signed rsa-sha256 (RSA-2048); dual-signed rsa-sha256 + ed25519-sha256 (RFC 8463),
  as MAILER_DKIM_* and MAILER_DKIM_ED25519_* configure it; and ed25519-sha256 alone (the Signer
  given the Ed25519 key only: the settings always sign with RSA first);
- the references, run in the same process with the signer's own call (`SigningKey.sign`, a key
  loaded apart): one RSA-2048 signature (cryptography: PKCS#1 v1.5, SHA-256) over a real
  header hash input taken from a signed message (~1.1 KB: the signed header fields and the
  DKIM-Signature), one Ed25519 signature over its SHA-256 digest (what RFC 8463 signs), the
  SHA-256 of one message's canonical body, and `Signer.signature` with its RSA operation stubbed
  over the header fields of distinct messages (the signer's own header work);
- two variants that place the signature inside a stream of messages: the signed composition with
  its RSA operation replaced by a ready-made signature (signed − that = the signature in-stream),
  and an unsigned composition followed by one RSA signature that is not used.

Timing (the default): every figure is the median over --repeat runs of --messages calls after a
warm-up; the variants run interleaved (one run of each, in turn), so a change in the machine's
load falls on all of them alike; wall-clock (time.perf_counter) and CPU time
(time.process_time), with the load average.

--instructions: the same variants run once more under callgrind (valgrind), each between two
markers (`zlib.adler32` zeroes the counters, `zlib.crc32` dumps them), and the figures are
instructions per call: independent of the machine's load, and exact about what work DKIM adds
(signed − unsigned against the signature, the body hash and the header work: what is left is
work nobody has named). Instructions are not time (an RSA or SHA-NI instruction costs more cycles
than an average one), so the target is judged on the timed figures.

Target: (signed − unsigned) ≤ 1.15 × one RSA-2048 signature. The floor is the signature plus
one SHA-256 pass over the message's canonical body: SHA-256 is sequential and the body runs
text part, HTML part, PDF part, so only the bytes before the text part's first personal line (its
tracked "view in browser" link) are the same in every message — the Composer carries the hash
state over the MIME preamble — and the PDF part, the same for everyone, comes last and must be
hashed again for each (a constant suffix cannot be skipped; only DKIM's l= could leave it out,
and that would let anyone swap the attachment under a valid signature).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import pickle
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    bench_settings,
    fixture_campaign_info,
    fixture_content,
    fmt_us,
    recipient,
    table,
    write_key,
)
from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: E402

from mailer.rendering.email_edition import RenderedIssue, render_issue  # noqa: E402
from mailer.sending.compose import CampaignInfo, Composer  # noqa: E402
from mailer.sending.dkim import Signer, SigningKey  # noqa: E402

TARGET = 1.15  # (signed − unsigned) ÷ one RSA-2048 signature
DOMAIN = "news.example.com"
LABELS = {
    "unsigned": "Composer.compose, unsigned",
    "rsa": "Composer.compose, rsa-sha256 (RSA-2048)",
    "rsa stubbed": "  the same, its RSA operation stubbed",
    "unsigned + RSA": "  unsigned, then one RSA signature apart",
    "dual": "Composer.compose, rsa-sha256 + ed25519-sha256",
    "ed25519": "Composer.compose, ed25519-sha256 alone",
    "one RSA": "one RSA-2048 signature (PKCS#1 v1.5, SHA-256)",
    "one Ed25519": "one Ed25519 signature (of the SHA-256 digest)",
    "body hash": "SHA-256 of one canonical body",
    "header signing": "Signer.signature, RSA stubbed",
}
COMPOSITIONS = ("rsa", "rsa stubbed", "unsigned + RSA", "dual", "ed25519")


def write_keys(folder: Path) -> tuple[Path, Path]:
    """An RSA-2048 and an Ed25519 key in PKCS#8 PEM, as `openssl genpkey` writes them."""
    return write_key(folder / "rsa.pem"), write_key(
        folder / "ed25519.pem", ed25519.Ed25519PrivateKey.generate()
    )


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


def marked(fns: dict[str, Callable[[int], object]], *, number: int) -> None:
    """Each fn `number` times between callgrind's markers, after a warm-up of three calls.

    The cyclic garbage collector is off inside the windows (and run before each): a collection
    lands in whichever window reaches its allocation threshold, millions of instructions that
    belong to no variant in particular."""
    i = 0
    for fn in fns.values():
        for _ in range(3):
            fn(i)
            i += 1
        gc.collect()
        gc.disable()
        zlib.adler32(b"")  # --zero-before=zlib_adler32
        for _ in range(number):
            fn(i)
            i += 1
        zlib.crc32(b"")  # --dump-before=zlib_crc32
        gc.enable()


def header_fields_of(composer: Composer, count: int) -> list[Sequence[bytes]]:
    """The header fields the Composer hands its signer, for `count` distinct recipients."""
    assert composer.signer is not None
    field_sets: list[Sequence[bytes]] = []
    record = composer.signer.signature

    def recording(fields: Sequence[bytes], body_hash: bytes, **kw: int | None) -> bytes:
        field_sets.append(fields)
        return record(fields, body_hash)

    composer.signer.signature = recording  # type: ignore[method-assign]
    for i in range(count):
        composer.compose(i, *recipient(10_000_000 + i))
    composer.signer.signature = record  # type: ignore[method-assign]
    return field_sets


class Variants:
    """The ten callables, and what the report says about the message they sign."""

    def __init__(
        self, rendered: RenderedIssue, info: CampaignInfo, keys: tuple[Path, Path], people: int
    ) -> None:
        rsa_pem, ed_pem = keys
        plain = bench_settings()
        rsa_settings = bench_settings(
            dkim_key_file=rsa_pem, dkim_selector="brief", dkim_domain=DOMAIN
        )
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

        # A real header hash input, and a real message's canonical body (its bodies are written
        # in canonical form; the fixed parts are already so), for the reference operations.
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
        a_signature = sign(header_input)
        body = sample.split(b"\r\n\r\n", 1)[1]
        assert sample.count(b"DKIM-Signature:") == 1
        assert dual.compose(0, *recipient(0)).data.count(b"DKIM-Signature:") == 2
        self.sizes = len(sample), len(body), len(header_input)

        # The signed composition with the RSA operation replaced by a ready-made signature.
        # Its own key object: keys are parsed once per process and shared by every Composer
        # of the same settings, so stubbing the shared one stubbed the signed runs too (they
        # then cost the same as this one, and the signature seemed free).
        stubbed = Composer(rendered, info, rsa_settings)
        assert stubbed.signer is not None
        stubbed.signer = Signer([SigningKey(rsa_pem.read_bytes(), "brief")], DOMAIN)
        stubbed.signer.keys[0].sign = lambda data: a_signature  # type: ignore[method-assign]
        assert signed.signer.keys[0].sign is not stubbed.signer.keys[0].sign
        # Signer.signature alone, RSA stubbed, over the header fields of distinct messages as the
        # Composer writes them (so the per-message fields are new to it, as in a campaign).
        header_signer = Signer([SigningKey(rsa_pem.read_bytes(), "brief")], DOMAIN)
        header_signer.keys[0].sign = lambda data: a_signature  # type: ignore[method-assign]
        field_sets = header_fields_of(stubbed, min(3000, people))
        bh = hashlib.sha256(body).digest()

        # The references call what the signer calls, with keys loaded apart.
        one_rsa = SigningKey(rsa_pem.read_bytes(), "ref").sign
        one_ed = SigningKey(
            ed_pem.read_bytes(), "ref-ed", setting="MAILER_DKIM_ED25519_KEY_FILE"
        ).sign
        recipients = [recipient(i) for i in range(people)]

        def composing(composer: Composer) -> Callable[[int], object]:
            return lambda i: composer.compose(i, *recipients[i % people])

        def unsigned_then_rsa(i: int) -> object:
            unsigned.compose(i, *recipients[i % people])
            return one_rsa(header_input)

        self.fns: dict[str, Callable[[int], object]] = {
            "unsigned": composing(unsigned),
            "rsa": composing(signed),
            "rsa stubbed": composing(stubbed),
            "unsigned + RSA": unsigned_then_rsa,
            "dual": composing(dual),
            "ed25519": composing(ed_only),
            "one RSA": lambda i: one_rsa(header_input),
            "one Ed25519": lambda i: one_ed(header_input),
            "body hash": lambda i: hashlib.sha256(body).digest(),
            "header signing": lambda i: header_signer.signature(
                field_sets[i % len(field_sets)], bh
            ),
        }


def rows_of(t: dict[str, float], fmt: Callable[[float], str], unit: str) -> list[tuple[str, str]]:
    """The breakdown of signed − unsigned, each figure also as a multiple of one signature."""
    one = t["one RSA"]
    added = t["rsa"] - t["unsigned"]
    named = one + t["body hash"] + t["header signing"]
    rows = [
        ("S    one RSA-2048 signature, alone", one),
        (
            "     the RSA signature in-stream: signed − signed, RSA stubbed",
            t["rsa"] - t["rsa stubbed"],
        ),
        (
            "     unsigned then one RSA signature apart − unsigned",
            t["unsigned + RSA"] - t["unsigned"],
        ),
        ("H    SHA-256 of this message's canonical body, alone", t["body hash"]),
        (
            "     the signer's header work alone (Signer.signature, RSA stubbed)",
            t["header signing"],
        ),
        (
            "     H + header work in-stream: signed, RSA stubbed − unsigned",
            t["rsa stubbed"] - t["unsigned"],
        ),
        ("floor: S + H", one + t["body hash"]),
        ("signed − unsigned", added),
        ("the rest: signed − unsigned − (S + H + header work)", added - named),
        ("dual-signed − unsigned", t["dual"] - t["unsigned"]),
        ("ed25519-sha256 alone − unsigned", t["ed25519"] - t["unsigned"]),
    ]
    return [(label, f"{fmt(value):>12s} {unit} {value / one:6.2f} × S") for label, value in rows]


def breakdown(t: dict[str, float], which: str) -> None:
    """The target's ratio, the floor's, and the extra cost of signing split against S."""
    one = t["one RSA"]
    ratio = (t["rsa"] - t["unsigned"]) / one
    floor = (one + t["body hash"]) / one
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(
        f"{which}: (signed − unsigned) ÷ S = {ratio:.2f} (target ≤ {TARGET:.2f}: {verdict}); "
        f"floor (S + H) ÷ S = {floor:.2f}"
        + (" — the target is below the floor" if floor > TARGET else "")
    )
    for label, figure in rows_of(t, lambda s: f"{s * 1e6:,.0f}", "µs"):
        print(f"  {label:68s}{figure}")


def timed(args: argparse.Namespace) -> None:
    content = fixture_content()
    rendered = render_issue(content, bench_settings())
    info = fixture_campaign_info(content)
    with tempfile.TemporaryDirectory(prefix="bench-dkim-") as folder:
        keys = write_keys(Path(folder))
        variants = Variants(rendered, info, keys, args.messages * (args.repeat + 1) * 10)
    t = interleaved(variants.fns, number=args.messages, repeat=args.repeat)
    message, body, header_input = variants.sizes
    print(
        f"Fixture issue: {content.title!r}; message {message / 1024:.1f} KiB signed, "
        f"canonical body {body / 1024:.1f} KiB; header hash input {header_input} B"
    )
    print(
        f"Python {sys.version.split()[0]}; median of {args.repeat} interleaved runs × "
        f"{args.messages} calls after a warm-up run; load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + "\n"
    )
    rows = []
    for key, label in LABELS.items():
        wall, cpu = t[key]
        extra = f"+{fmt_us(wall - t['unsigned'][0])}" if key in COMPOSITIONS else ""
        extra_cpu = f"+{fmt_us(cpu - t['unsigned'][1])}" if key in COMPOSITIONS else ""
        rows.append([label, fmt_us(wall), fmt_us(cpu), extra, extra_cpu])
    print(table(["per call", "wall", "CPU", "wall vs unsigned", "CPU vs unsigned"], rows))
    for which, index in (("wall-clock", 0), ("CPU time", 1)):
        print()
        breakdown({k: v[index] for k, v in t.items()}, which)


def instructions(args: argparse.Namespace) -> None:
    """The variants under callgrind, in a child process; instructions per call from its dumps."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        sys.exit("--instructions needs valgrind (apt-get install valgrind)")
    folder = Path(tempfile.mkdtemp(prefix="bench-dkim-"))
    content = fixture_content()
    rendered = render_issue(content, bench_settings())  # rendered here: WeasyPrint is slow there
    keys = write_keys(folder)
    (folder / "issue.pickle").write_bytes(
        pickle.dumps((rendered, fixture_campaign_info(content), keys))
    )
    out = folder / "callgrind.out"
    print(f"running the variants under callgrind ({args.messages} calls each; a few minutes)…")
    subprocess.run(
        [
            valgrind,
            "--tool=callgrind",
            "--zero-before=zlib_adler32",
            "--dump-before=zlib_crc32",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--marked-run",
            str(folder),
            "--messages",
            str(args.messages),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    counts = {}
    for n, key in enumerate(LABELS, start=1):
        text = Path(f"{out}.{n}").read_text()
        found = re.search(r"^summary: (\d+)", text, re.MULTILINE)  # self costs: "totals" adds calls
        assert found is not None, f"no summary in {out}.{n}"
        counts[key] = int(found.group(1)) / args.messages
    shutil.rmtree(folder)
    print(
        f"Instructions per call (callgrind; not disturbed by load), {args.messages} calls each:\n"
    )
    rows = [[label, f"{counts[key]:,.0f}"] for key, label in LABELS.items()]
    print(table(["per call", "instructions"], rows))
    one = counts["one RSA"]
    added = counts["rsa"] - counts["unsigned"]
    print(
        f"\ninstructions: (signed − unsigned) ÷ S = {added / one:.3f};"
        f" floor (S + H) ÷ S = {(one + counts['body hash']) / one:.3f}"
    )
    for label, figure in rows_of(counts, lambda x: f"{x:,.0f}", "Ir"):
        print(f"  {label:68s}{figure}")


def marked_run(folder: Path, number: int) -> None:
    """The child of --instructions, under callgrind: the variants between the markers."""
    # Written by the parent process a moment ago, in its own fresh temporary folder.
    rendered, info, keys = pickle.loads((folder / "issue.pickle").read_bytes())  # noqa: S301
    marked(Variants(rendered, info, keys, 10 * (number + 3)).fns, number=number)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per figure (median)")
    parser.add_argument("--messages", type=int, help="calls per run (300; 32 with --instructions)")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions under callgrind"
    )
    parser.add_argument("--marked-run", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.marked_run:
        marked_run(args.marked_run, args.messages)
    elif args.instructions:
        # OpenSSL renews an RSA key's blinding every 32 signatures (a modular inverse): 32
        # calls hold exactly one renewal, whatever the phase, so the variants compare alike.
        args.messages = args.messages or 32
        instructions(args)
    else:
        args.messages = args.messages or 300
        timed(args)


if __name__ == "__main__":
    main()
