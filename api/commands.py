"""Routes that change themes: status, cost, release, title, merge, split and keep apart, an ask a
product manager places in a theme, who a closure thanks (include or exclude a person), and a
command's outcome.

Each change is a :class:`ThemeCommand` on ``feedback.theme-commands`` keyed by product, answered
202 with its id once the broker has it; the worker decides, and the outcome (accepted, or
rejected with a reason) shows at ``/commands/{command_id}`` once projected.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.common import ACCEPTED, ERRORS, NOT_FOUND, ApiError, Pm, Send, ThemeId, Viewer
from api.readmodel.schema import OutcomeRow, SuggestionRow, ThemeRow
from api.schemas import (
    CommandAccepted,
    CostChange,
    KeepApartRequest,
    MergeRequest,
    OutcomeRead,
    PlaceRequest,
    ReleaseChange,
    RenameRequest,
    ReviewDecision,
    SplitRequest,
    StatusChange,
)
from api.security import Caller
from contracts.events import event_json
from contracts.lifecycle import CommandKind, ThemeCommand, new_command_id
from contracts.settings import Settings
from contracts.topics import THEME_COMMANDS

AuthorHashPath = Annotated[
    str, Path(pattern=r"^[0-9a-f]{16}$", description="A person, by hash (as the closure preview shows).")
]


def commands_router(settings: Settings, *, engine: Engine, send: Send) -> APIRouter:
    """The pm's theme commands and ``GET /commands/{command_id}``."""
    router = APIRouter()

    async def publish(
        caller: Caller, theme_id: str, kind: CommandKind, *, of_product: str | None = None, **fields: Any
    ) -> CommandAccepted:
        """Publish ``kind`` for ``theme_id``'s product (404 without that theme; with ``of_product``,
        also when the theme is another product's).
        """
        product = await asyncio.to_thread(_product_of, engine, theme_id)
        if product is None:
            raise ApiError(404, "not_found", f"no theme {theme_id}")
        if of_product is not None and of_product != product:
            raise ApiError(404, "not_found", f"no suggestion {fields.get('suggestion_id')} of {product}")
        command = ThemeCommand(
            command_id=new_command_id("api"),
            product=product,
            theme_id=theme_id,
            kind=kind,
            actor=caller.name,
            issued_at=datetime.now(UTC),
            **fields,
        )
        await send(settings.topic_name(THEME_COMMANDS), product.encode(), event_json(command))
        return CommandAccepted(command_id=command.command_id)

    command_route = partial(
        router.post, status_code=202, response_model=CommandAccepted, tags=["commands"], responses=ACCEPTED
    )

    @command_route("/themes/{theme_id}/status")
    async def set_status(theme_id: ThemeId, body: StatusChange, caller: Pm) -> CommandAccepted:
        """Move a theme to another status (shipped and declined close the loop)."""
        return await publish(
            caller, theme_id, CommandKind.SET_STATUS, status=body.status, reason=body.reason, title=body.title
        )

    @command_route("/themes/{theme_id}/cost")
    async def set_cost(theme_id: ThemeId, body: CostChange, caller: Pm) -> CommandAccepted:
        """Set the cost estimate (t-shirt size or points)."""
        return await publish(caller, theme_id, CommandKind.SET_COST, cost=body.cost, reason=body.reason)

    @command_route("/themes/{theme_id}/release")
    async def set_release(theme_id: ThemeId, body: ReleaseChange, caller: Pm) -> CommandAccepted:
        """Attach the release that ships the theme."""
        return await publish(
            caller, theme_id, CommandKind.ATTACH_RELEASE, release=body.release, reason=body.reason
        )

    @command_route("/themes/{theme_id}/title")
    async def rename(theme_id: ThemeId, body: RenameRequest, caller: Pm) -> CommandAccepted:
        """Rename a theme: the title stays across re-clusters and merges."""
        return await publish(caller, theme_id, CommandKind.RENAME, title=body.title, reason=body.reason)

    @command_route("/themes/{theme_id}/merge")
    async def merge(theme_id: ThemeId, body: MergeRequest, caller: Pm) -> CommandAccepted:
        """Merge other themes into this one."""
        return await publish(
            caller, theme_id, CommandKind.MERGE, source_ids=body.source_ids, reason=body.reason
        )

    @command_route("/themes/{theme_id}/keep-apart")
    async def keep_apart(theme_id: ThemeId, body: KeepApartRequest, caller: Pm) -> CommandAccepted:
        """Say that other themes are other ideas than this one: each pair leaves the themes that
        may be one idea (``GET /themes/pairs``), and both themes' history names the other.
        """
        return await publish(
            caller, theme_id, CommandKind.KEEP_APART, source_ids=body.other_ids, reason=body.reason
        )

    @command_route("/themes/{theme_id}/place")
    async def place(theme_id: ThemeId, body: PlaceRequest, caller: Pm) -> CommandAccepted:
        """Place an ask in this theme: one in no theme, or a stray of another theme that asks for
        this theme's idea. It moves here (its person counted and thanked here), both themes'
        history names it, and no re-cluster moves it out again.
        """
        known = await asyncio.to_thread(_suggestion_product, engine, body.suggestion_id)
        if known is None:
            raise ApiError(404, "not_found", f"no suggestion {body.suggestion_id}")
        return await publish(
            caller, theme_id, CommandKind.PLACE, of_product=known, suggestion_id=body.suggestion_id,
            reason=body.reason,
        )

    @command_route("/themes/{theme_id}/askers/{author_hash}/include")
    async def include_asker(
        theme_id: ThemeId, author_hash: AuthorHashPath, body: ReviewDecision, caller: Pm
    ) -> CommandAccepted:
        """Thank this person's asks made before shipping, whatever the closure's rules say; after
        the theme shipped, someone its closure did not thank gets a follow-up closure of their own.
        """
        return await publish(
            caller, theme_id, CommandKind.INCLUDE_ASKER, author_hash=author_hash, reason=body.reason
        )

    @command_route("/themes/{theme_id}/askers/{author_hash}/exclude")
    async def exclude_asker(
        theme_id: ThemeId, author_hash: AuthorHashPath, body: ReviewDecision, caller: Pm
    ) -> CommandAccepted:
        """Leave this person out of the theme's closures (a thanks already published stays)."""
        return await publish(
            caller, theme_id, CommandKind.EXCLUDE_ASKER, author_hash=author_hash, reason=body.reason
        )

    @command_route("/themes/{theme_id}/split")
    async def split(theme_id: ThemeId, body: SplitRequest, caller: Pm) -> CommandAccepted:
        """Split members of this theme into new themes."""
        return await publish(caller, theme_id, CommandKind.SPLIT, parts=body.parts, reason=body.reason)

    @router.get(
        "/commands/{command_id}",
        response_model=OutcomeRead,
        tags=["commands"],
        responses={**ERRORS, **NOT_FOUND},
    )
    def get_outcome(
        command_id: Annotated[str, Path(min_length=1, max_length=256)], _caller: Viewer
    ) -> OutcomeRead:
        """A command's outcome; 404 ``pending`` until the worker decided and it was projected."""
        with Session(engine) as session:
            row = session.get(OutcomeRow, command_id)
            if row is None:
                raise ApiError(404, "pending", f"no outcome yet for {command_id}")
            return OutcomeRead(
                command_id=row.command_id,
                theme_id=row.theme_id,
                kind=row.kind,
                accepted=row.accepted,
                code=row.code,
                message=row.message,
                closure_key=row.closure_key,
                decided_at=row.decided_at,
            )

    return router


def _suggestion_product(engine: Engine, suggestion_id: str) -> str | None:
    with Session(engine) as session:
        row = session.get(SuggestionRow, suggestion_id)
        return None if row is None else row.product


def _product_of(engine: Engine, theme_id: str) -> str | None:
    with Session(engine) as session:
        row = session.get(ThemeRow, theme_id)
        return None if row is None else row.product
