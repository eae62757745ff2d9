"""Whole-process start-up of the CLI against the interpreter's own start, in the same run.

    python bench/startup.py [--repeat 15]

Each command runs as a fresh process (`subprocess.run`, output discarded) in a throw-away folder
with a migrated, empty SQLite database (the product's default), --repeat times, the commands
interleaved round-robin so a load change on the shared machine touches all of them alike; the
figure is the median wall-clock time. Measured:
- `python -c pass`: the interpreter alone, the floor no command can go under;
- `python -m mailer --help`: the listing (the root group loads no sub-command module);
- `python -m mailer campaign list`: one real command that reads the database.

Target (issue 17): `mailer --help` and `mailer campaign list` under 0.25 s on this machine; the
line "over python" is what the product adds to the interpreter's start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import bench_env, table  # noqa: E402

TARGET_S = 0.25


def _env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
    env.update(bench_env())
    env["MAILER_DATABASE_URL"] = f"sqlite:///{folder / 'mailer.db'}"
    return env


def _time_once(argv: list[str], folder: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=folder, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    py = sys.executable
    commands = {
        "python -c pass": [py, "-c", "pass"],
        "mailer --help": [py, "-m", "mailer", "--help"],
        "mailer campaign list": [py, "-m", "mailer", "campaign", "list"],
    }
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        folder = Path(tmp)
        env = _env(folder)
        subprocess.run([py, "-m", "mailer", "db", "upgrade"], cwd=folder, env=env, check=True)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for argv in commands.values():  # warm-up: the OS file cache, .pyc files
            _time_once(argv, folder, env)
        for _ in range(args.repeat):
            for name, argv in commands.items():
                times[name].append(_time_once(argv, folder, env))
    floor = statistics.median(times["python -c pass"])
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        verdict = "" if name == "python -c pass" else ("met" if median < TARGET_S else "MISSED")
        rows.append(
            [
                name,
                f"{median * 1000:.0f}",
                f"{min(values) * 1000:.0f}",
                f"{(median - floor) * 1000:.0f}",
                verdict,
            ]
        )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{args.repeat} runs each, interleaved; target < {TARGET_S * 1000:.0f} ms")
    print(table(["command", "median ms", "min ms", "over python ms", "target"], rows))


if __name__ == "__main__":
    main()
