"""Routes about people's suggestions: settle a possible duplicate, erase a person.

* ``POST /review-queue/{suggestion_id}/confirm`` and ``.../reject`` (pm): a possible duplicate
  of the review queue is confirmed (it then counts for what it repeats) or rejected (it stays a
  suggestion of its own). Both are theme commands: 202, outcome at ``/commands/{id}``.
* ``POST /erasures`` (admin): a person (platform + author id) is erased. The read model forgets
  them at once (their suggestions, vectors and judged comments go, closures drop them); the
  erasure is published on ``feedback.erasures`` (by hash, so a rebuilt read model forgets them
  too) and one ``erase_author`` command per known product makes the worker remove their texts
  and counts from theme state and tombstone their member records.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Engine, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.common import ACCEPTED, Admin, ApiError, Pm, Send
from api.parameters import SuggestionId
from api.readmodel.project import forget
from api.readmodel.schema import SuggestionRow, ThemeRow
from api.schemas import (
    CommandAccepted,
    ErasureAccepted,
    ErasureCounts,
    ErasureRequest,
    ReviewDecision,
)
from contracts.events import event_json
from contracts.lifecycle import AuthorErased, CommandKind, ThemeCommand, hash_author, new_command_id
from contracts.settings import Settings
from contracts.topics import ERASURES, THEME_COMMANDS


def people_router(settings: Settings, *, engine: Engine, send: Send) -> APIRouter:
    """The review decisions and the erasure route."""
    router = APIRouter()

    async def review(suggestion_id: str, kind: CommandKind, caller: Any, reason: str) -> CommandAccepted:
        row = await asyncio.to_thread(_suggestion, engine, suggestion_id)
        if row is None:
            raise ApiError(404, "not_found", f"no suggestion {suggestion_id}")
        command = ThemeCommand(
            command_id=new_command_id("api"),
            product=row.product,
            theme_id=row.theme_id or "pool",
            kind=kind,
            actor=caller.name,
            reason=reason,
            issued_at=datetime.now(UTC),
            suggestion_id=suggestion_id,
        )
        await send(settings.topic_name(THEME_COMMANDS), row.product.encode(), event_json(command))
        return CommandAccepted(command_id=command.command_id)

    @router.post(
        "/review-queue/{suggestion_id}/confirm",
        status_code=202,
        response_model=CommandAccepted,
        tags=["commands"],
        responses=ACCEPTED,
    )
    async def confirm(suggestion_id: SuggestionId, body: ReviewDecision, caller: Pm) -> CommandAccepted:
        """Confirm a possible duplicate: it counts for the suggestion it repeats (and its theme)."""
        return await review(suggestion_id, CommandKind.CONFIRM_DUPLICATE, caller, body.reason)

    @router.post(
        "/review-queue/{suggestion_id}/reject",
        status_code=202,
        response_model=CommandAccepted,
        tags=["commands"],
        responses=ACCEPTED,
    )
    async def reject(suggestion_id: SuggestionId, body: ReviewDecision, caller: Pm) -> CommandAccepted:
        """Reject a possible duplicate: it stays a suggestion of its own and leaves the queue."""
        return await review(suggestion_id, CommandKind.REJECT_DUPLICATE, caller, body.reason)

    @router.post(
        "/erasures", status_code=202, response_model=ErasureAccepted, tags=["admin"], responses=ACCEPTED
    )
    async def erase(body: ErasureRequest, caller: Admin) -> ErasureAccepted:
        """Erase a person: the read model forgets them now; theme state follows (see the commands)."""
        author_hash = hash_author(body.platform.value, body.author_id.strip())
        now = datetime.now(UTC)
        products = await asyncio.to_thread(_products, engine)
        erasure = AuthorErased(
            erasure_id=f"erasure-{uuid.uuid4().hex}",
            author_hash=author_hash,
            products=products,
            requested_by=caller.name,
            erased_at=now,
        )
        commands = [
            ThemeCommand(
                command_id=new_command_id("api"),
                product=product,
                theme_id="*",
                kind=CommandKind.ERASE_AUTHOR,
                actor=caller.name,
                reason=body.reason,
                issued_at=now,
                author_hash=author_hash,
            )
            for product in products
        ]
        # The read model first: the projection's own copy of the record, arriving later, then
        # finds the erasure applied. Should the broker fail after it, the request answers 503
        # and is repeated; an erasure applies again without harm.
        removed = await asyncio.to_thread(_forget, engine, erasure)
        await send(settings.topic_name(ERASURES), author_hash.encode(), event_json(erasure))
        for command in commands:
            await send(settings.topic_name(THEME_COMMANDS), command.product.encode(), event_json(command))
        return ErasureAccepted(
            erasure_id=erasure.erasure_id,
            author_hash=author_hash,
            products=products,
            command_ids=[c.command_id for c in commands],
            removed=removed,
        )

    return router


def _suggestion(engine: Engine, suggestion_id: str) -> SuggestionRow | None:
    with Session(engine) as session:
        return session.get(SuggestionRow, suggestion_id)


def _products(engine: Engine) -> list[str]:
    with Session(engine) as session:
        query = union(select(ThemeRow.product), select(SuggestionRow.product))
        return sorted({str(p) for p in session.scalars(query)})


def _forget(engine: Engine, erasure: AuthorErased) -> ErasureCounts:
    """Apply the erasure to the read model now; what it removed. Another process applying an
    erasure of the same person at the same moment makes the first try fail on the key: the
    second finds its work done and deletes what is left.
    """
    for attempt in (1, 2):
        try:
            with Session(engine) as session, session.begin():
                return ErasureCounts(**forget(session, erasure))
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
