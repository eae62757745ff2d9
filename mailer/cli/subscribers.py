"""`mailer subscribers …`."""

import typer

app = typer.Typer(help="Subscribers: import, export, add, remove, show, GDPR.", no_args_is_help=True)
