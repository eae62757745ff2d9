"""`mailer list …`."""

import typer

app = typer.Typer(help="Mailing lists.", no_args_is_help=True)
