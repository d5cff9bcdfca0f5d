"""``youasked api`` and ``youasked key ...``: the product managers' API and its keys."""

from __future__ import annotations

import typer

from contracts.settings import get_settings

key_app = typer.Typer(help="API keys (viewer, pm, admin): create and revoke.", no_args_is_help=True)


def serve(
    project: bool = typer.Option(True, help="Also run the projection that fills the read model."),
) -> None:
    """Serve the API on ``YOUASKED_API_HOST:YOUASKED_API_PORT`` (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import create_api

    settings = get_settings()
    uvicorn.run(create_api(settings, project=project), host=settings.api_host, port=settings.api_port)


@key_app.command("create")
def key_create(
    name: str = typer.Option(..., help="Who or what uses the key."),
    role: str = typer.Option("viewer", help="viewer, pm or admin."),
) -> None:
    """Create a key in the read model's database and print it (shown this once)."""
    from api.readmodel.db import make_engine, upgrade
    from api.security import Role, create_key

    if role not in Role.__members__:
        raise typer.BadParameter("viewer, pm or admin", param_hint="--role")
    engine = make_engine(get_settings().read_model_url)
    upgrade(engine)
    typer.echo(create_key(engine, name=name, role=Role[role]))


@key_app.command("revoke")
def key_revoke(key_id: str = typer.Argument(..., help="The key's id (the part after 'ya_').")) -> None:
    """Revoke a key."""
    from api.readmodel.db import make_engine
    from api.security import revoke_key

    if not revoke_key(make_engine(get_settings().read_model_url), key_id):
        typer.echo(f"no live key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")
