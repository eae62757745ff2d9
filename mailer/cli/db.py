"""`mailer db …`: schema management."""

import typer

from mailer import db
from mailer.settings import get_settings, redact

app = typer.Typer(help="Create or upgrade the database schema.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Create or upgrade the schema to the newest version (Alembic)."""
    before, after = db.upgrade()
    where = redact(get_settings().database_url)
    if before is None:
        typer.echo(f"created the schema in {where} (revision {after})")
    elif before != after:
        typer.echo(f"upgraded the schema in {where} from revision {before} to {after}")
    else:
        typer.echo(f"the schema in {where} is up to date (revision {after})")
