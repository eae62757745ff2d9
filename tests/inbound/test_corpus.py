"""`mailer inbound classify` over sisimai's labelled corpus of real bounces (tests/data/bounces/
sisimai, its README says where it comes from): the floors every change to the judgement must keep.

The figures are printed (run with -s to see them) and quoted in the README. The corpus is a
sample: a detector must be right about a kind of mail, not about these files.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from mailer.inbound.detectors.base import decoded_address

CORPUS = Path(__file__).parent.parent / "data" / "bounces" / "sisimai"


@dataclass
class Figures:
    bounce_files: int = 0
    bounces_recognised: int = 0
    bounce_rows: int = 0
    recipients_found: int = 0
    hard_agrees: int = 0
    complaint_files: int = 0
    complaints: int = 0
    auto_reply_files: int = 0
    auto_replies: int = 0
    delivered_as_failure: int = 0
    not_bounces_as_failure: int = 0
    unreadable: int = 0

    def ratio(self, part: int, whole: int) -> float:
        return part / whole if whole else 1.0

    def lines(self) -> list[str]:
        r = self.ratio
        return [
            f"bounces recognised: {self.bounces_recognised}/{self.bounce_files} "
            f"({r(self.bounces_recognised, self.bounce_files):.1%})",
            f"labelled recipients found: {self.recipients_found}/{self.bounce_rows} "
            f"({r(self.recipients_found, self.bounce_rows):.1%})",
            f"hard/soft agreeing with hardbounce: {self.hard_agrees}/{self.bounce_rows} "
            f"({r(self.hard_agrees, self.bounce_rows):.1%})",
            f"complaints: {self.complaints}/{self.complaint_files} "
            f"({r(self.complaints, self.complaint_files):.1%})",
            f"auto-replies: {self.auto_replies}/{self.auto_reply_files}",
            f"delivered notices taken as failures: {self.delivered_as_failure}; "
            f"non-bounces taken as failures: {self.not_bounces_as_failure}; "
            f"unreadable: {self.unreadable}",
        ]


def classify_all(files: list[Path]) -> dict[str, dict[str, object]]:
    """One `mailer inbound classify --json` run over the files: {relative path: verdict}."""
    result = subprocess.run(
        [sys.executable, "-m", "mailer", "inbound", "classify", "--json", *map(str, files)],
        capture_output=True,
        text=True,
        cwd=CORPUS,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    verdicts = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return {str(v["file"]): v for v in verdicts}


def measure() -> tuple[Figures, list[str]]:
    rows = list(csv.DictReader((CORPUS / "labels.csv").open(encoding="utf-8")))
    by_file: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_file[row["file"]].append(row)
    others = sorted(str(p.relative_to(CORPUS)) for p in (CORPUS / "not").glob("*.eml"))
    verdicts = classify_all([Path(f) for f in [*by_file, *others]])
    fig, misses = Figures(), []
    for name, labels in by_file.items():
        got = verdicts[name]
        kind = got["kind"]
        found = {
            str(r[key]).lower(): r
            for r in got["recipients"]  # type: ignore[attr-defined]
            for key in ("original", "address")
            if r[key]
        }
        fig.unreadable += kind == "unreadable"
        category = labels[0]["category"]
        if category == "bounce":
            fig.bounce_files += 1
            fig.bounces_recognised += kind == "bounce"
            if kind != "bounce":
                misses.append(f"{name}: {kind} ({got['reason']})")
            for label in labels:
                fig.bounce_rows += 1
                # sisimai reports an RFC 2047 encoded local part as written; we decode it.
                mine = found.get(decoded_address(label["recipient"]).lower())
                if mine is None:
                    if kind == "bounce":
                        misses.append(f"{name}: {label['recipient']} not in {sorted(found)}")
                    continue
                fig.recipients_found += 1
                if mine["hard"] == (label["hardbounce"] == "1"):
                    fig.hard_agrees += 1
                else:
                    misses.append(
                        f"{name}: {label['reason']}/{label['hardbounce']} judged "
                        f"{mine['reason']}/{mine['hard']} ({mine['status']}: "
                        f"{str(mine['diagnostic'])[:100]})"
                    )
        elif category == "feedback":
            fig.complaint_files += 1
            fig.complaints += kind == "complaint"
            if kind != "complaint":
                misses.append(f"{name}: complaint judged {kind}")
        elif category == "autoreply":
            fig.auto_reply_files += 1
            fig.auto_replies += kind == "auto_reply"
            if kind != "auto_reply":
                misses.append(f"{name}: auto-reply judged {kind} ({got['reason']})")
        elif category == "delivered":
            fig.delivered_as_failure += kind == "bounce"
    for name in others:
        fig.not_bounces_as_failure += verdicts[name]["kind"] == "bounce"
        fig.unreadable += verdicts[name]["kind"] == "unreadable"
    return fig, misses


def test_the_labelled_corpus_meets_the_floors() -> None:
    fig, misses = measure()
    print("\n" + "\n".join(fig.lines()))
    print("\n".join(misses[:60]))
    assert fig.ratio(fig.bounces_recognised, fig.bounce_files) >= 1.0
    assert fig.ratio(fig.recipients_found, fig.bounce_rows) >= 0.995
    assert fig.ratio(fig.hard_agrees, fig.bounce_rows) >= 0.98
    assert fig.ratio(fig.complaints, fig.complaint_files) >= 0.97
    assert fig.auto_replies == fig.auto_reply_files
    assert fig.delivered_as_failure == 0 and fig.not_bounces_as_failure == 0
    assert fig.unreadable == 0


if __name__ == "__main__":  # `python -m tests.inbound.test_corpus`: the figures and the misses
    figures, missed = measure()
    print("\n".join(missed))
    print("\n".join(figures.lines()))
