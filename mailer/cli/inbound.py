"""`mailer inbound` and `mailer inquiries …`: mail that comes back."""

import typer

inquiries = typer.Typer(help="Client replies routed to partners.", no_args_is_help=True)
