"""``youasked db ...``: the read model's schema, for deployments that migrate before the API starts."""

from __future__ import annotations

import typer

from contracts.settings import get_settings

db_app = typer.Typer(help="The read model's database: migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(
    revision: str = typer.Option("head", help="Migration to bring the database to (default: the latest)."),
) -> None:
    """Apply the read model's migrations to ``YOUASKED_DATABASE_URL`` (or the SQLite file in the
    state folder) and print the revision it is at. Safe to run again: an up-to-date database is
    left as it is. The API also migrates when it starts; a deployment runs this first (the Helm
    chart's pre-install and pre-upgrade Job) so that several API processes never race to do it.
    """
    from alembic.runtime.migration import MigrationContext

    from api.readmodel.db import make_engine, upgrade

    settings = get_settings()
    engine = make_engine(settings.read_model_url)
    try:
        upgrade(engine, revision)
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    typer.echo(f"read model at revision {current} ({engine.url.render_as_string(hide_password=True)})")
