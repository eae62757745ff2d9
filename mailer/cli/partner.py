"""`mailer partner …`."""

import typer

app = typer.Typer(help="Partners: who signs issues and receives replies.", no_args_is_help=True)
