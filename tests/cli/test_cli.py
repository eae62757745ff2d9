"""The command line's own behaviour: errors are one clear line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def mailer(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
    return subprocess.run(
        [sys.executable, "-m", "mailer", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_database_without_the_schema_says_to_upgrade(tmp_path: Path) -> None:
    done = mailer(tmp_path, "campaign", "list")
    assert done.returncode == 1
    assert "run `mailer db upgrade` first" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_setting_names_the_variable(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MAILER_PAGE_SIZE=Tabloid\nMAILER_BATCH_SIZE=many\n")
    done = mailer(tmp_path, "db", "upgrade")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "MAILER_PAGE_SIZE: MAILER_PAGE_SIZE must be A4 or Letter" in done.stderr
    assert "Value error" not in done.stderr  # pydantic's wording is not the user's
    assert "MAILER_BATCH_SIZE:" in done.stderr
