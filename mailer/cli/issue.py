"""`mailer issue …`."""

import typer

app = typer.Typer(help="Issues: import, preview, check.", no_args_is_help=True)
