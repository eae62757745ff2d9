"""The deployment files, checked structurally (no Docker engine runs here): every service runs a
real `mailer` command, every MAILER_* variable they set is a setting, and the pieces a multi-machine
deployment relies on are there."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from mailer.cli import app
from mailer.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]


def setting_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(field.alias or f"MAILER_{name.upper()}")
    return names


def resolve(command: list[str]) -> Any:
    """The (click) command a `mailer …` argv reaches, or a failure naming the unknown word."""
    assert command[0] == "mailer", command
    node: Any = typer.main.get_command(app)
    for word in command[1:]:
        if word.startswith("-"):
            break
        assert hasattr(node, "commands"), f"{command}: {node.name} takes no subcommand"
        # Through get_command, as the CLI itself resolves it: the root group loads lazily.
        sub = node.get_command(node.make_context(node.name, [], resilient_parsing=True), word)
        assert sub is not None, f"{command}: `{word}` is not a mailer command"
        node = sub
    assert not hasattr(node, "commands") or node.invoke_without_command, (
        f"{command} names a group, not a command"
    )
    options = {opt for param in node.params for opt in getattr(param, "opts", [])}
    for word in command[1:]:
        if word.startswith("--"):
            assert word.split("=")[0] in options, f"{command}: unknown option {word}"
    return node


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env


@pytest.mark.parametrize("name", sorted(n for n, s in SERVICES.items() if "command" in s))
def test_every_mailer_service_runs_a_real_command(name: str) -> None:
    command = SERVICES[name]["command"]
    if command[0] == "mailer":
        resolve(command)
    else:
        assert name in {"redis"}, f"{name} runs {command[0]}, not mailer"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_mailer_variable_is_a_setting(name: str) -> None:
    known = setting_names()
    unknown = [k for k in environment(SERVICES[name]) if k.startswith("MAILER_") and k not in known]
    assert unknown == []


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    names = {m.group(1) for line in lines if (m := re.match(r"(MAILER_[A-Z0-9_]+)=", line))}
    assert names == setting_names()


def test_the_processes_that_must_exist_exist() -> None:
    for name in ("postgres", "redis", "web", "worker", "beat", "inbound", "mailpit"):
        assert name in SERVICES, name
    assert "2525" in SERVICES["inbound"]["ports"][0] and SERVICES["inbound"]["ports"][0].startswith(
        "25:"
    )
    # Scalable: `--scale worker=N` fails with a fixed container name or a published port.
    assert "container_name" not in SERVICES["worker"] and "ports" not in SERVICES["worker"]
    # Queued tasks survive a Redis restart.
    assert "--appendonly" in SERVICES["redis"]["command"]
    assert SERVICES["mailpit"]["image"].startswith("axllent/mailpit")


MAILER_SERVICES = sorted(
    n for n, s in SERVICES.items() if s.get("command", [""])[0] == "mailer" and n != "migrate"
)


@pytest.mark.parametrize("name", MAILER_SERVICES)
def test_every_mailer_service_waits_for_the_migration_to_complete(name: str) -> None:
    depends = SERVICES[name]["depends_on"]
    assert depends["migrate"] == {"condition": "service_completed_successfully"}
    assert depends["postgres"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("name", [*MAILER_SERVICES, "migrate"])
def test_every_setting_reaches_every_mailer_container(name: str) -> None:
    """From .env through compose's interpolation: a setting left out would be silently ignored."""
    assert set(environment(SERVICES[name])) == setting_names()
    assert "env_file" not in SERVICES[name]  # .env is optional: compose only interpolates it


def compose_config(folder: Path) -> dict[str, Any]:
    done = subprocess.run(
        ["docker-compose", "config"], cwd=folder, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def fresh_clone(tmp_path: Path) -> Path:
    """The files `docker compose` reads, as a clone has them: no .env."""
    for name in ("docker-compose.yml", "Dockerfile", ".env.example"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_docker_compose_config_passes_on_a_fresh_clone(tmp_path: Path) -> None:
    config = compose_config(fresh_clone(tmp_path))
    web = config["services"]["web"]["environment"]
    # No .env: every setting empty, which the mailer reads as unset; the services' own addresses
    # and the Mailpit catcher are the defaults.
    assert web["MAILER_SECRET_KEY"] == ""
    assert web["MAILER_SMTP_URL"] == "smtp://mailpit:1025"
    assert "profiles" not in config["services"]["mailpit"]


def test_settings_in_dot_env_reach_the_containers(tmp_path: Path) -> None:
    folder = fresh_clone(tmp_path)
    shutil.copy(folder / ".env.example", folder / ".env")
    config = compose_config(folder)
    for name in MAILER_SERVICES:
        env = config["services"][name]["environment"]
        assert env["MAILER_PRODUCTION"] == "true" and env["MAILER_SECRET_KEY"] == "change-me"  # noqa: S105
        assert env["MAILER_TIMEZONE"] == "America/Mexico_City"
    assert config["services"]["inbound"]["environment"]["MAILER_INBOUND_LISTEN"] == "0.0.0.0:2525"


def test_the_image_has_what_weasyprint_needs() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"):
        assert package in dockerfile
    assert "slim" in dockerfile.splitlines()[1] or "slim" in dockerfile
    # The PDF's fonts ship with the package (templates/fonts): the image installs none.
    installs = " ".join(
        line for line in dockerfile.splitlines() if not line.lstrip().startswith("#")
    )
    assert not re.search(r"\bfonts-[a-z]", installs), "the image installs system fonts"


def test_the_inbound_listen_address_is_said_alike_in_code_example_and_readme() -> None:
    """The code listened on 127.0.0.1:2525, .env.example said 0.0.0.0:2525 (so a copied file
    without compose listened on every interface, yet not on port 25) and the README only "port
    25". The example now leaves it to the code's default, and both documents say that default,
    compose's 0.0.0.0:2525 published as the host's port 25, and what to set without compose."""
    default = Settings.model_fields["inbound_listen"].default
    assert default == "127.0.0.1:2525"
    example = (ROOT / ".env.example").read_text()
    assert re.search(r"^MAILER_INBOUND_LISTEN=$", example, re.M)
    readme = " ".join((ROOT / "README.md").read_text().split())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    published = compose["services"]["inbound"]["ports"]
    compose_listen = compose["x-env"]["MAILER_INBOUND_LISTEN"]
    assert published == ["25:2525"] and compose_listen.endswith(":-0.0.0.0:2525}")
    for document in (" ".join(example.split()), readme):
        assert f"empty: {default}" in document or f"by default {default}" in document
        assert "0.0.0.0:2525" in document and "port 25" in document
        assert re.search(r"0\.0\.0\.0:25\b", document) and "CAP_NET_BIND_SERVICE" in document
