"""A plain (non-editable) install works on its own: the wheel carries the templates, the samples
and the migrations, and `mailer demo` in an empty folder sends the fixture issue to ./outbox.

The wheel is built from a copy of the source tree (so the build leaves nothing in the checkout) and
installed into a fresh virtualenv without system site-packages; its dependencies are this test
run's own (see `installed`), checked against what the wheel declares. The demo runs from an empty
folder with no MAILER_* variable set, so nothing can come from the checkout or the developer's
settings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PDF_NAME = "MI-SecurityChatter-040925.pdf"
SAMPLE_READERS = 38  # active rows of mailer/samples/subscribers-sample.csv

COPY_IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "__pycache__",
    "*.pyc",
    "build",
    "dist",
    "*.egg-info",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    "outbox",
    "preview",
    "*.db",
    "*.secret",
    ".env",
    "node_modules",
)


def clean_env(venv: Path) -> dict[str, str]:
    """The environment of a user who just installed: no MAILER_*, no PYTHONPATH, the venv first."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MAILER_") and k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {done.returncode}\n"
        f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    )
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip install .` would build, built from a copy of the checkout."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=COPY_IGNORE)
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(work / "dist"), "."],
        cwd=src,
    )
    (built,) = (work / "dist").glob("*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv (no system site-packages) with the wheel, and the dependencies this
    test run already has: one `.pth` line puts its site-packages after the venv's own.

    What this test checks is the wheel's own files (templates, samples, migrations, the console
    script) working from an empty folder, and `mailer` is imported from the venv (asserted
    below): this run's editable `mailer` is not on that path, only the packages beside it.
    Installing the dependencies again from the index took 150-300 s of a CI worker on a fresh
    machine; `.ci/run` installs them from the index (the same declared requirements) every run,
    and `pip check` here fails if the wheel declares a requirement that is not met."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    ours = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    assert ours, sys.path
    (Path(purelib.stdout.strip()) / "zz_test_run_dependencies.pth").write_text(
        "\n".join(ours) + "\n", encoding="utf-8"
    )
    pip = [python, "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "install", "--quiet", "--no-compile", "--no-deps", str(wheel)])
    run([*pip, "check"])
    return venv


def shipped_files(folder: Path) -> set[str]:
    return {
        p.relative_to(ROOT).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def test_the_wheel_ships_templates_samples_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    needed = (
        shipped_files(ROOT / "templates")
        | shipped_files(ROOT / "mailer" / "samples")
        | shipped_files(ROOT / "mailer" / "migrations")
    )
    assert "templates/newsletter/email.mjml.j2" in needed  # the walk found the real tree
    assert "mailer/samples/security-chatter-2025-04-09.txt" in needed
    missing = sorted(needed - names)
    assert not missing, f"files the installed package needs but the wheel lacks: {missing}"
    # The PDF's fonts and their licences (the print must not depend on the host's fonts).
    for family in ("SourceSerifPro", "SourceSansPro"):
        assert f"templates/fonts/{family}-LICENSE.txt" in names
        for style in ("Regular", "It", "Semibold"):
            assert f"templates/fonts/{family}-{style}.ttf" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "mailer = mailer.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_pip_install_then_mailer_demo_in_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    env = clean_env(installed)

    where = run(
        [
            str(installed / "bin" / "python"),
            "-c",
            "import mailer, templates; print(mailer.__file__)",
        ],
        cwd=folder,
        env=env,
    ).stdout.strip()
    assert where.startswith(str(installed)), f"mailer imported from {where}, not the venv"

    done = run([str(installed / "bin" / "mailer"), "demo"], cwd=folder, env=env, timeout=600)
    assert "outbox" in done.stdout  # it says where to look

    messages = sorted((folder / "outbox").glob("*.eml"))
    assert len(messages) == SAMPLE_READERS
    recipients = set()
    for path in messages:
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        assert msg.get_content_type() == "multipart/mixed", path.name
        pdfs = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
        assert len(pdfs) == 1, f"{path.name}: expected one PDF attachment"
        assert pdfs[0].get_filename() == PDF_NAME
        assert pdfs[0].get_content().startswith(b"%PDF-")
        body = msg.get_body(preferencelist=("html",))
        assert body is not None and "Security Chatter" in body.get_content()
        recipients.add(str(msg["To"]))
    assert len(recipients) == SAMPLE_READERS  # one message per reader, none twice
