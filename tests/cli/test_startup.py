"""Start-up: `mailer --help` lists every command without importing any of them, and a command
imports only what it needs. (How fast that is goes in bench/startup.py, not here.)"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import mailer.cli
from mailer.cli import COMMANDS, app, load_command

# Heavy libraries that only some commands need: none of them may load for the listing.
HEAVY = ("sqlalchemy", "alembic", "premailer", "weasyprint", "mjml", "celery", "fastapi")

_PROBE = """
import json, sys
sys.argv = ["mailer", *sys.argv[1:]]
from mailer.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _modules_loaded_by(
    folder: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    modules = set(json.loads(done.stderr.strip().splitlines()[-1]))
    return done, modules


def _top(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_the_listing_names_every_command_with_its_own_help() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for name, entry in COMMANDS.items():
        real = load_command(name)
        # The table's line is the command's own (first paragraph of its help), word for word.
        first = " ".join((real.help or "").split("\n\n")[0].split())
        assert entry.help == first, name
        assert name in result.output
    # Every sub-app module of the CLI is reachable from the table: none was forgotten.
    modules = {m.name for m in pkgutil.iter_modules(mailer.cli.__path__)}
    assert modules == {entry.module for entry in COMMANDS.values()}


def test_every_subcommand_still_runs_through_the_lazy_root() -> None:
    result = CliRunner().invoke(app, ["campaign", "--help"])
    assert result.exit_code == 0, result.output
    for sub in ("list", "status", "pause", "resume", "cancel"):
        assert sub in result.output
    unknown = CliRunner().invoke(app, ["campain"])
    assert unknown.exit_code == 2
    assert "No such command 'campain'" in unknown.output


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    done, modules = _modules_loaded_by(tmp_path, "--help")
    assert "campaign" in done.stdout and "subscribers" in done.stdout
    assert not _top(modules) & set(HEAVY), sorted(_top(modules) & set(HEAVY))
    assert not {m for m in modules if m.startswith("mailer.cli.")}


def test_campaign_list_imports_neither_rendering_nor_migrations(tmp_path: Path) -> None:
    # An empty SQLite database (the default URL) without the schema: the command still loads
    # everything it needs before it reports the missing tables.
    done, modules = _modules_loaded_by(tmp_path, "campaign", "list")
    assert "run `mailer db upgrade` first" in done.stderr
    assert "sqlalchemy" in _top(modules)  # it does read the database
    assert not _top(modules) & {"alembic", "premailer", "weasyprint", "mjml", "celery"}
