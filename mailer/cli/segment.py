"""`mailer segment …`."""

import typer

app = typer.Typer(help="Saved segment expressions and live counts.", no_args_is_help=True)
