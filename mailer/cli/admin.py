"""`mailer admin …`: admin users and API tokens."""

import typer

app = typer.Typer(help="Admin users (web login) and API tokens.", no_args_is_help=True)
