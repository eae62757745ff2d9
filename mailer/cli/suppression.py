"""`mailer suppression …`."""

import typer

app = typer.Typer(help="Addresses that must never be mailed.", no_args_is_help=True)
