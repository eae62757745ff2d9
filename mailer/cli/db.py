"""`mailer db …`: schema management."""

import typer

from mailer import db

app = typer.Typer(help="Create or upgrade the database schema.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Create or upgrade the schema to the newest version (Alembic)."""
    db.upgrade()
    typer.echo("database is up to date")
