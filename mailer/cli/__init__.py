"""The `mailer` command line: one Typer app, one sub-app module per noun, each loaded on demand.

`mailer --help` and every command start fast because the root group imports a sub-app module
only when its command is invoked: the names and one-line help of the listing come from the static
`COMMANDS` table below (tests/cli/test_startup.py checks it against the real commands, so it
cannot drift).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NamedTuple

import typer
import typer.main
from typer import _click as click  # typer vendors click; its classes are the ones typer calls
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption, _TyperParameter

from mailer.errors import MailerError, cannot_connect
from subscribers.errors import SubscribersError


class Entry(NamedTuple):
    """Where a top-level command lives: `mailer.cli.<module>.<attribute>`, and its listing help."""

    module: str
    attribute: str
    help: str


COMMANDS: dict[str, Entry] = {
    "send": Entry("send", "send", "Send an issue to a list (and segment), now or at a given time."),
    "report": Entry(
        "campaign",
        "report",
        "Counts by status, rate, duration, deferred and failed mail grouped by last reply, and "
        "engagement: unique clickers, click rate, clicks per item, unsubscribes, complaints.",
    ),
    "worker": Entry(
        "worker", "worker", "Run a Celery worker that sends campaigns (needs MAILER_BROKER_URL)."
    ),
    "beat": Entry(
        "worker", "beat", "Start scheduled campaigns when due and retry deferred messages."
    ),
    "web": Entry("web", "web", "Serve the public pages, the admin area and the API."),
    "demo": Entry(
        "demo",
        "demo",
        "Run the whole job on the shipped sample issue and subscribers, in this folder.",
    ),
    "db": Entry("db", "app", "Create or upgrade the database schema."),
    "partner": Entry("partner", "app", "Partners: who signs issues and receives replies."),
    "issue": Entry("issue", "app", "Issues: import, list, preview, check."),
    "list": Entry("lists", "app", "Mailing lists."),
    "subscribers": Entry(
        "subscribers", "app", "Subscribers: import, export, add, remove, show, GDPR."
    ),
    "suppression": Entry("suppression", "app", "Addresses that must never be mailed."),
    "segment": Entry("segment", "app", "Saved segment expressions and live counts."),
    "campaign": Entry(
        "campaign", "app", "Campaigns: list, status, pause, resume, cancel, retry failed."
    ),
    "inbound": Entry(
        "inbound",
        "app",
        "Receive replies, bounces and complaints by SMTP; `classify` judges files.",
    ),
    "admin": Entry("admin", "app", "Admin users (web login) and API tokens."),
    "digest": Entry("engagement", "app", "The partner's follow-up digest of a campaign."),
    "inquiries": Entry("inbound", "inquiries", "Client replies routed to partners."),
}

_LISTING = "mailer.cli.listing"


_KINDS = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT"}


def _value_kind(self: TyperArgument | TyperOption, ctx: click.Context) -> str | None:
    """What a parameter's help shows beside its name, as click and most CLIs do: nothing for
    a flag (`--yes`, `--wait / --no-wait`), an option's metavar if it has one, else the value's
    kind in capitals (TEXT, INTEGER, PATH, a|b for a choice). Typer 0.2x prints `<bool>`."""
    if isinstance(self, TyperOption):
        if self.is_flag or self.count:
            return None
        if self.metavar is not None:  # an argument's metavar is already its name in the listing
            return self.metavar
    label = self.display_type(ctx).strip("<>")
    if label.startswith("list[") and label.endswith("]"):
        label = label[5:-1]
    if "|" not in label:
        label = _KINDS.get(label, label.upper())
    return label + ("..." if self.nargs != 1 else "")


def _listed_name(self: TyperArgument) -> str:
    """An argument in the help's Arguments list as the usage line names it (`FILE PATH`, not
    typer's `file PATH` under `Usage: … FILE`)."""
    return self.display_name_raw.upper() + ("..." if self.nargs != 1 else "")


def _usage_name(self: TyperArgument) -> str:
    """An argument in the usage line: `SLUG` when required, `[SLUG]` when not (not `{SLUG}`),
    in capitals as click writes it, whether named by a metavar or by the parameter."""
    raw = self.display_name_raw.upper()
    name = raw if self.required else f"[{raw}]"
    return name + ("..." if self.nargs != 1 else "")


_typer_process_value = _TyperParameter.process_value


def _process_value(self: _TyperParameter, ctx: click.Context, value: Any) -> Any:
    """As typer's, without building the parameter's pydantic TypeAdapter for an absent value.

    Typer 0.29 builds the adapter before it looks at the value, even for None (a flag left out,
    an option without a default), for which its coercion returns None (or () for a repeatable
    parameter) without calling the adapter. Every command has such flags (`--help` itself), so
    every command imported pydantic (~60% of `mailer campaign list`'s import time) and built
    adapters it never used. Here an absent value takes that same result directly; any value
    given still goes through typer's own coercion."""
    if value is not None:
        return _typer_process_value(self, ctx, value)
    if self.multiple or self.nargs == -1:
        value = ()
    if self.required and self.value_is_missing(value):
        raise click.exceptions.MissingParameter(ctx=ctx, param=self)
    if self.callback is not None:
        value = self.callback(ctx, self, value)
    return value


_TyperParameter.process_value = _process_value  # type: ignore[method-assign]
TyperOption.display_type_rich = _value_kind  # type: ignore[method-assign,assignment]
TyperArgument.display_type_rich = _value_kind  # type: ignore[method-assign,assignment]
TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
TyperArgument._rich_display_name = _listed_name  # type: ignore[method-assign]


def load_command(name: str) -> click.Command:
    """Import the module of top-level command `name` and build its click command.

    Raises KeyError for a name not in `COMMANDS`."""
    entry = COMMANDS[name]
    # The table declarations are not loaded here: mailer.db loads them all when it makes the
    # first engine, so a command that never opens the database never imports them.
    target = getattr(importlib.import_module(f"mailer.cli.{entry.module}"), entry.attribute)
    if isinstance(target, typer.Typer):
        command: click.Command = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)  # completion belongs to `mailer` itself
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    _plain(command)
    return command


def _plain(command: click.Command) -> None:
    """Click's plain help for `command` and everything under it, with each listed command's whole
    first paragraph rather than click's cut at the terminal width ("at a given...").

    Typer's boxed help (rich_utils) imports rich's Markdown, Traceback and Syntax, i.e.
    markdown-it and pygments: ~130 ms of CPU on this machine, over half of what `mailer --help`
    took (issue 17), for borders and colour. Usage errors print as click prints them."""
    command.rich_markup_mode = None  # type: ignore[attr-defined]
    if command.short_help is None and command.help:
        command.short_help = " ".join(command.help.split("\n\n")[0].split())
    for sub in getattr(command, "commands", {}).values():
        _plain(sub)


def suggestions(typo: str, names: list[str]) -> list[str]:
    """Commands a mistyped `typo` may have meant: close spellings, then those it starts."""
    import difflib

    close = difflib.get_close_matches(typo.lower(), names, n=3, cutoff=0.6)
    starts = [n for n in names if len(typo) >= 2 and n.startswith(typo.lower())]
    return list(dict.fromkeys([*close, *starts]))[:3]


class LazyGroup(TyperGroup):
    """The root group: lists commands from the static table, loads one only when it runs.

    See click's documentation, "Lazily Loading Subcommands"."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        known = super().get_command(ctx, cmd_name)
        if known is not None or cmd_name not in COMMANDS:
            return known
        if ctx.meta.get(_LISTING):
            # The help listing needs only a name and a line: a placeholder imports nothing.
            return TyperCommand(cmd_name, short_help=COMMANDS[cmd_name].help)
        command = load_command(cmd_name)
        self.commands[cmd_name] = command
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, and an unknown command suggests the close ones: typer only looks at the
        commands already loaded, which at the root are none (they load lazily)."""
        try:
            return self._click_resolve_command(ctx, args)
        except click.exceptions.UsageError as exc:
            if args and "Did you mean" not in exc.message:
                close = suggestions(args[0], self.list_commands(ctx))
                if close:
                    shown = ", ".join(f"'mailer {c}'" for c in close)
                    exc.message = f"{exc.message.rstrip('.')}. Did you mean {shown}?"
            raise

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        ctx.meta[_LISTING] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx.meta[_LISTING] = False


app = typer.Typer(
    name="mailer",
    cls=LazyGroup,
    help="Self-hosted newsletter distribution for the firm's intelligence briefing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's plain help: see _plain
)


@app.callback()
def _root() -> None:
    """Self-hosted newsletter distribution for the firm's intelligence briefing."""


def main() -> None:
    """Entry point: user errors print one clear line and exit 1, never a traceback."""
    try:
        app()
    except (MailerError, SubscribersError) as exc:
        from mailer.settings import redact

        # One line however long (scripts grep it), and the user's text is never read as markup.
        _error(redact(str(exc)))
        sys.exit(1)
    except Exception as exc:
        unreachable = _connection_failure(exc)
        if not _missing_schema(exc) and unreachable is None:
            raise
        from mailer.settings import get_settings, redact

        url = get_settings().database_url
        if unreachable is not None:
            _error(redact(str(cannot_connect(url, unreachable))))
        else:
            _error(
                f"the database {redact(url)} has no mailer tables yet (or an older schema): run "
                "`mailer db upgrade` first"
            )
        sys.exit(1)


def campaign_id_value(value: str) -> int:
    """A campaign's id as typed: a whole number, or a message that says so (not pydantic's)."""
    try:
        number = int(value.strip().removeprefix("#"))
    except ValueError:
        raise typer.BadParameter(
            f"campaign id must be a number (as `mailer campaign list` shows), not {value!r}"
        ) from None
    if number < 1:
        raise typer.BadParameter(f"campaign id must be a number from 1 up, not {value!r}")
    return number


def email_value(value: str) -> str:
    """An address argument as typed, checked before the command runs so a bad one is named
    ("'notanemail' is not an email address: …", a usage error) instead of the validator's
    bare sentence. The command canonicalises it as it always did."""
    from subscribers.addresses import normalize  # the validator: only commands taking an address
    from subscribers.errors import InvalidAddress

    try:
        normalize(value)
    except InvalidAddress as exc:
        raise typer.BadParameter(f"{value!r} is not an email address: {exc}") from None
    return value


def sending_time(p: Any, start: float | None = None) -> str:
    """A campaign's duration as `mailer report` and the end of `mailer send` word it: the
    sending only (`Progress.sending_seconds`), saying that the start before it (rendering the
    issue; `start` seconds when known) is not counted, so that it is not read as the whole wait
    `mailer send` showed."""
    if p.finished_at is None:
        return f"running: {p.sending_seconds:.1f} s sending so far"
    took = f", {start:.1f} s" if start is not None else ""
    return f"{p.sending_seconds:.1f} s sending (not counting the start: rendering{took})"


def row_folded(prefix: str, text: str) -> str:
    """A plain-text table row whose last column (`text`, after the fixed-width `prefix`) folds
    onto indented continuation lines so that no line is wider than the terminal (COLUMNS, else
    80); when the fixed columns leave under 20 characters, the text goes on its own lines below.
    Words break only when one alone is wider than the room left."""
    import shutil
    import textwrap

    columns = shutil.get_terminal_size().columns
    room = columns - len(prefix)
    if len(text) <= room:
        return prefix + text
    if room < 20:  # the fixed columns fill the line: the text goes below them, indented
        lines = textwrap.wrap(text, columns - 4, break_on_hyphens=False)
        return "\n".join([prefix.rstrip(), *("    " + line for line in lines)])
    lines = textwrap.wrap(text, room, break_on_hyphens=False) or [text]
    return "\n".join([prefix + lines[0], *(" " * len(prefix) + line for line in lines[1:])])


def _error(text: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(
        f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True
    )


def _missing_schema(exc: Exception) -> bool:
    """A database error saying the tables are not there (SQLAlchemy is loaded if it was raised)."""
    sa_exc: Any = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None or not isinstance(exc, (sa_exc.OperationalError, sa_exc.ProgrammingError)):
        return False
    text = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def _connection_failure(exc: Exception) -> str | None:
    """The driver's message when `exc` is SQLAlchemy's error for a connection that could not be
    made (no statement was being run: the server refused, is not there, or has no such
    database); None for any other error."""
    sa_exc: Any = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None or not isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return None
    if exc.statement is not None:  # type: ignore[attr-defined]
        return None
    return str(getattr(exc, "orig", exc))


def listen_problem(host: str, port: int, other: str) -> tuple[str, str] | None:
    """Why a server could not listen on `host`:`port`, found by binding it as the server will
    (SO_REUSEADDR) and letting it go: ("port", …) when it is in use (`other`: the program that
    may hold it), ("host", …) when the address cannot be bound here. None when it can."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "port", (
                    f"{host}:{port} is already in use ({other}): stop that program or choose "
                    "another port"
                )
            if exc.errno == errno.EACCES:
                return "port", (
                    f"cannot listen on {host}:{port} ({exc.strerror}): a port below 1024 needs "
                    "root or CAP_NET_BIND_SERVICE, or choose a port from 1024 up"
                )
            return "host", (
                f"cannot listen on {host}:{port} ({exc.strerror}): give an address of this "
                "machine, such as 127.0.0.1 or 0.0.0.0"
            )
    return None


def exclusive(*flags: tuple[str, bool]) -> None:
    """Refuse flags that contradict each other (`--private --public`) as click refuses a bad
    option: a usage error naming them, exit status 2, instead of the last one silently winning.
    `flags`: (option as typed, whether it was given)."""
    given = [flag for flag, on in flags if on]
    if len(given) > 1:
        raise click.exceptions.UsageError(
            f"{' and '.join(given)} contradict each other: give only one of them"
        )
