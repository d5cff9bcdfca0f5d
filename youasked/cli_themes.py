"""``youasked theme ...``: a product manager's commands, the monthly update, release proposals.

Each command is published to ``feedback.theme-commands`` and, unless ``--no-wait``, the
command waits for the worker's outcome and prints it (accepted with its changes, or rejected
with the reason). The API publishes the same :class:`ThemeCommand` events.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from contracts.settings import get_settings

theme_app = typer.Typer(
    help="Decide about themes (status, cost, release, title, merge, split), publish the monthly update, "
    "and match release notes to open themes.",
    no_args_is_help=True,
)

PRODUCT = typer.Option(..., "--product", "-p", help="The product the theme belongs to.")
ACTOR = typer.Option("cli", help="Who decides (recorded in the theme's history).")
REASON = typer.Option("", help="Why (recorded; a decline's reason is told to the people who asked).")
WAIT = typer.Option(True, help="Wait for the worker's outcome and print it.")


def _send(fields: dict[str, Any], *, wait: bool) -> None:
    from pydantic import ValidationError

    from contracts.lifecycle import ThemeCommand, new_command_id
    from youasked.commands import publish_command, wait_for_outcome

    settings = get_settings()
    try:
        command = ThemeCommand.model_validate(
            {"command_id": new_command_id("cmd"), "issued_at": datetime.now(UTC).isoformat(), **fields}
        )
    except ValidationError as error:
        typer.echo(f"invalid command: {error}", err=True)
        raise typer.Exit(2) from error
    publish_command(settings, command)
    typer.echo(f"published {command.kind.value} {command.command_id} for {command.theme_id}", err=True)
    if not wait:
        return
    outcome = wait_for_outcome(settings, command.command_id)
    if outcome is None:
        typer.echo("no outcome yet: is the worker running? (`youasked worker`)", err=True)
        raise typer.Exit(3)
    typer.echo(outcome.model_dump_json(indent=2))
    if not outcome.accepted:
        raise typer.Exit(1)


def _release(name: str | None, version: str | None, released: str | None, link: str | None,
             note: str | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {"name": name or "release", "version": version, "date": released, "link": link, "note": note}


@theme_app.command("status")
def theme_status(
    theme_id: str = typer.Argument(..., help="The theme."),
    to: str = typer.Option(..., "--to", help="new, under_review, planned, in_progress, shipped or declined."),
    product: str = PRODUCT,
    title: str = typer.Option(None, help="The change's name in closure texts (default: the theme's title)."),
    release_version: str = typer.Option(None, help="Shipped in this release version."),
    release_name: str = typer.Option(None, help="The release's name."),
    release_date: str = typer.Option(None, help="The release's date (YYYY-MM-DD)."),
    release_link: str = typer.Option(None, help="Link to the release notes."),
    release_note: str = typer.Option(None, help="What changed, in words for people."),
    actor: str = ACTOR,
    reason: str = REASON,
    wait: bool = WAIT,
) -> None:
    """Move a theme through its life; shipping or declining publishes its closure."""
    _send({"kind": "set_status", "product": product, "theme_id": theme_id, "status": to, "title": title,
           "release": _release(release_name, release_version, release_date, release_link, release_note),
           "actor": actor, "reason": reason}, wait=wait)


@theme_app.command("cost")
def theme_cost(
    theme_id: str = typer.Argument(..., help="The theme."),
    product: str = PRODUCT,
    size: str = typer.Option(None, help="T-shirt size: XS, S, M, L, XL."),
    points: int = typer.Option(None, help="Story points (instead of a size)."),
    actor: str = ACTOR,
    reason: str = REASON,
    wait: bool = WAIT,
) -> None:
    """Set a theme's cost estimate (neither size nor points: back to unknown)."""
    cost = {"size": size.upper() if size else None, "points": points}
    _send({"kind": "set_cost", "product": product, "theme_id": theme_id, "cost": cost, "actor": actor,
           "reason": reason}, wait=wait)


@theme_app.command("release")
def theme_release(
    theme_id: str = typer.Argument(..., help="The theme."),
    version: str = typer.Option(..., help="Release version."),
    product: str = PRODUCT,
    name: str = typer.Option(None, help="Release name."),
    released: str = typer.Option(None, "--date", help="Release date (YYYY-MM-DD)."),
    link: str = typer.Option(None, help="Link to the release notes."),
    note: str = typer.Option(None, help="What changed, in words for people."),
    actor: str = ACTOR,
    reason: str = REASON,
    wait: bool = WAIT,
) -> None:
    """Attach the release a theme ships in."""
    _send({"kind": "attach_release", "product": product, "theme_id": theme_id,
           "release": _release(name, version, released, link, note), "actor": actor, "reason": reason},
          wait=wait)


@theme_app.command("rename")
def theme_rename(
    theme_id: str = typer.Argument(..., help="The theme."),
    title: str = typer.Option(..., help="Its new title (empty: back to the title picked from its asks)."),
    product: str = PRODUCT,
    actor: str = ACTOR,
    reason: str = REASON,
    wait: bool = WAIT,
) -> None:
    """Give a theme a title of your own: it stays across re-clusters and merges."""
    _send({"kind": "rename", "product": product, "theme_id": theme_id, "title": title, "actor": actor,
           "reason": reason}, wait=wait)


@theme_app.command("merge")
def theme_merge(
    target: str = typer.Argument(..., help="The theme that stays."),
    sources: list[str] = typer.Option(..., "--from", help="A theme folded into the target (repeatable)."),
    product: str = PRODUCT,
    actor: str = ACTOR,
    reason: str = REASON,
    wait: bool = WAIT,
) -> None:
    """Fold themes into one: their askers are thanked when the target ships."""
    _send({"kind": "merge", "product": product, "theme_id": target, "source_ids": sources, "actor": actor,
           "reason": reason}, wait=wait)


@theme_app.command("split")
def theme_split(
    theme_id: str = typer.Argument(..., help="The theme to split."),
    parts: list[str] = typer.Option(
        ..., "--part", help="NEW_THEME_ID=SUGGESTION_ID,SUGGESTION_ID,... (repeatable)."
    ),
    product: str = PRODUCT,
    actor: str = ACTOR,
    reason: str = REASON,
    wait: bool = WAIT,
) -> None:
    """Split suggestions off a theme into new themes."""
    parsed = []
    for part in parts:
        new_id, sep, members = part.partition("=")
        if not sep or not new_id.strip() or not members.strip():
            raise typer.BadParameter(f"expected NEW_THEME_ID=ID,ID..., got {part!r}", param_hint="--part")
        parsed.append({"new_theme_id": new_id.strip(),
                       "member_ids": [m.strip() for m in members.split(",") if m.strip()]})
    _send({"kind": "split", "product": product, "theme_id": theme_id, "parts": parsed, "actor": actor,
           "reason": reason}, wait=wait)


@theme_app.command("monthly")
def theme_monthly(
    product: str = PRODUCT,
    month: str = typer.Option(None, help="YYYY-MM (default: this month, UTC)."),
    publish: bool = typer.Option(True, help="Publish the update to feedback.monthly-updates."),
) -> None:
    """"What we shipped this month": print the text and publish the update as an event."""
    from models.factories import closure_templates
    from models.theme_commands import monthly_update_event
    from youasked.commands import publish_monthly, read_closures, read_impacts

    settings = get_settings()
    now = datetime.now(UTC)
    update = monthly_update_event(
        read_closures(settings), product=product, month=month or now.strftime("%Y-%m"),
        templates=closure_templates(settings), now=now, impacts=read_impacts(settings),
    )
    if publish:
        publish_monthly(settings, update)
    typer.echo(update.text)
    typer.echo(json.dumps({"product": update.product, "month": update.month, "themes": len(update.items),
                           "distinct_people": update.distinct_people, "published": publish}), err=True)


@theme_app.command("propose-releases")
def theme_propose_releases(
    notes: Path = typer.Option(..., "--input", exists=True, dir_okay=False,
                               help="CSV of release notes (columns version, date, release)."),
    product: str = PRODUCT,
    min_similarity: float = typer.Option(None, help="Cosine from which a theme is proposed (default 0.45)."),
    limit: int = typer.Option(5, min=1, help="Proposals per release note."),
) -> None:
    """Propose which open themes each release note ships, for a person to confirm (never closes one)."""
    from contracts.topics import THEMES
    from models.factories import embedder
    from models.release_match import DEFAULT_MIN_SIMILARITY
    from youasked.release_proposals import open_themes, propose_for_notes, read_release_notes

    settings = get_settings()
    model = embedder(settings)
    themes = open_themes(settings, model, product=product)
    if not themes:
        typer.echo(f"no open themes of {product!r} on {settings.topic_name(THEMES)}", err=True)
    proposals = propose_for_notes(
        read_release_notes(notes), themes, model, min_similarity=min_similarity or DEFAULT_MIN_SIMILARITY,
        limit=limit,
    )
    for proposal in proposals:
        sys.stdout.write(json.dumps(proposal, ensure_ascii=False) + "\n")
