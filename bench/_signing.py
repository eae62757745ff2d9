"""bench/send.py's DKIM comparison: what signing costs the workers, against the signature timed
in the same runs.

One signed run against one unsigned run is not enough here: the workers' CPU per message moves
by ±0.1 ms from one run to the next on this machine (measured: the same unsigned campaign at
0.54, 0.58 and 0.62 ms), as much as a third of a signature. So the comparison runs pairs of the
same campaign, unsigned and RSA-2048-signed, interleaved in ABBA order (unsigned then signed,
signed then unsigned, …) so that a drift of the machine falls on both sides, and takes medians.

In every run of the pairs the workers time `SigningKey.sign` — the RSA operation itself — with
bench/_cprofile's probe limited to that one step (BENCH_CPUTIME_STEPS): the signature timed in
the very processes and runs whose cost it is compared with. The probe's own cost (two clock
reads per message, about a microsecond) falls on the signed side. Between the pairs this
process times the same signature alone (the same key file, over a header section of the signed
message) and the SHA-256 of the message's canonical body: S and H of bench/dkim.py, for the
floor S + H that every signer pays.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import table

from mailer.sending.dkim import SigningKey, relaxed_body_end

TARGET = 1.15  # (signed − unsigned) ÷ one RSA-2048 signature, issue 17


@dataclass
class Pair:
    unsigned: float  # pool CPU seconds per message
    signed: float
    signature: float  # seconds per SigningKey.sign call in the signed run's workers
    signatures: int  # calls timed


def read_step(folder: Path, step: str) -> tuple[int, float]:
    """(calls, CPU seconds) of one step summed over the pool processes' files (bench/_cprofile)."""
    import json

    calls, seconds = 0, 0.0
    for f in folder.glob("steps-*.json"):
        entry = json.loads(f.read_text()).get(step)
        if entry:
            calls += entry[0]
            seconds += entry[1]
    return calls, seconds


def signature_alone(key_file: Path, data: bytes, *, calls: int = 200, repeat: int = 5) -> float:
    """Median CPU seconds of one signature by the signer's own call, in this process."""
    key = SigningKey(key_file.read_bytes(), "bench")
    key.sign(data)
    runs = []
    for _ in range(repeat):
        began = time.process_time()
        for _ in range(calls):
            key.sign(data)
        runs.append((time.process_time() - began) / calls)
    return statistics.median(runs)


def body_hash_alone(message: bytes, *, calls: int = 200, repeat: int = 5) -> float:
    """Median CPU seconds of the SHA-256 of the message's relaxed canonical body."""
    body = relaxed_body_end(message.partition(b"\r\n\r\n")[2])
    runs = []
    for _ in range(repeat):
        began = time.process_time()
        for _ in range(calls):
            hashlib.sha256(body).digest()
        runs.append((time.process_time() - began) / calls)
    return statistics.median(runs)


def compare(
    run: Callable[[bool, Path], Any],
    pairs: int,
    workdir: Path,
    key_file: Path,
    recipients: int,
) -> tuple[Any, dict[str, float]]:
    """Run `pairs` interleaved pairs (`run(signed, probe_folder)` → a CampaignRun) and print the
    comparison; returns the first signed run (for the throughput table) and the medians."""
    results: list[Pair] = []
    alone: list[float] = []
    hashes: list[float] = []
    signed_runs = []
    for i in range(pairs):
        cpu: dict[bool, float] = {}
        for sign in (False, True) if i % 2 == 0 else (True, False):
            folder = workdir / f"dkim-pair-{i}-{'signed' if sign else 'unsigned'}"
            r = run(sign, folder)
            cpu[sign] = r.cpu["pool"] / recipients
            if sign:
                signed_runs.append(r)
                calls, seconds = read_step(folder, "SigningKey.sign")
        if calls != recipients:
            raise SystemExit(f"the workers timed {calls} signatures for {recipients} messages")
        results.append(Pair(cpu[False], cpu[True], seconds / calls, calls))
        message = signed_runs[-1].message_bytes
        alone.append(signature_alone(key_file, message.partition(b"\r\n\r\n")[0]))
        hashes.append(body_hash_alone(message))
    med = {
        "unsigned": statistics.median(p.unsigned for p in results),
        "signed": statistics.median(p.signed for p in results),
        "extra": statistics.median(p.signed - p.unsigned for p in results),
        "in_workers": statistics.median(p.signature for p in results),
        "alone": statistics.median(alone),
        "hash": statistics.median(hashes),
        # The headline: each pair's extra cost against the signature timed in that very run.
        "ratio": statistics.median((p.signed - p.unsigned) / p.signature for p in results),
        "pair0_unsigned": results[0].unsigned,
        "pair0_signed": results[0].signed,
    }
    print_comparison(results, alone, med, recipients)
    return signed_runs[0], med


def print_comparison(
    results: list[Pair], alone: list[float], med: dict[str, float], recipients: int
) -> None:
    us = 1e6
    rows = [
        [
            f"pair {i + 1} ({'unsigned first' if i % 2 == 0 else 'signed first'})",
            f"{p.unsigned * us:.0f}",
            f"{p.signed * us:.0f}",
            f"{(p.signed - p.unsigned) * us:+.0f}",
            f"{p.signature * us:.0f}",
            f"{a * us:.0f}",
            f"{(p.signed - p.unsigned) / p.signature:.2f}",
        ]
        for i, (p, a) in enumerate(zip(results, alone, strict=True))
    ]
    rows.append(
        [
            "median",
            f"{med['unsigned'] * us:.0f}",
            f"{med['signed'] * us:.0f}",
            f"{med['extra'] * us:+.0f}",
            f"{med['in_workers'] * us:.0f}",
            f"{med['alone'] * us:.0f}",
            f"{med['ratio']:.2f}",
        ]
    )
    print(
        f"\nDKIM (RSA-2048) in the workers: {len(results)} interleaved pairs of "
        f"{recipients:,}-recipient runs, µs of pool CPU per message (rendering and snapshot "
        "included); S timed by the workers themselves in the signed runs, and alone in this "
        "process between the pairs"
    )
    print(
        table(
            [
                "",
                "unsigned",
                "signed",
                "signed − unsigned",
                "S in the workers",
                "S alone",
                "÷ S in the workers",
            ],
            rows,
        )
    )
    s, h, extra = med["in_workers"], med["hash"], med["extra"]
    ok = med["ratio"] <= TARGET
    print(
        f"(signed − unsigned) ÷ S = {med['ratio']:.2f} with S timed in the workers of each pair "
        f"(median of the pairs; {'meets' if ok else 'MISSES'} ≤ {TARGET}), "
        f"{extra / med['alone']:.2f} with S alone (medians); "
        f"H, the SHA-256 of this message's canonical body alone, {h * us:.0f} µs: the floor "
        f"(S + H) ÷ S is {(s + h) / s:.2f} with S in the workers, "
        f"{(med['alone'] + h) / med['alone']:.2f} with S alone"
    )
