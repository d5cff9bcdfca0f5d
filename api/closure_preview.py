"""``GET /themes/{theme_id}/closure-preview``: who a "You asked, we did" closure of a theme would
thank, hold for a person or leave out if it shipped now, with each ask and its cosines.

The rules are the worker's (:mod:`models.closure_selection`); the read model has no clustering
state, so the theme's centre and spread come from all its members' stored vectors (the worker
uses its sampled members): a verdict near a band's edge may differ from the published closure.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.common import ERRORS, NOT_FOUND, ApiError, Pm
from api.parameters import ReadThemeId
from api.readmodel.schema import SuggestionRow, SuggestionVectorRow, ThemeRow
from api.schemas import ClosurePreview, PreviewAsk
from api.search import SemanticIndex
from api.security import Role
from models.closure_selection import (
    RULE_AFTER_SHIPPING,
    AskJudgement,
    ThemeSpread,
    Verdict,
    asked_before,
    embed_what_shipped,
    judge_relevance,
    shipped_cutoff,
)
from models.embedding import l2_normalize


def closure_preview_router(*, engine: Engine, semantic: SemanticIndex) -> APIRouter:
    """``GET /themes/{theme_id}/closure-preview``."""
    router = APIRouter()

    @router.get(
        "/themes/{theme_id}/closure-preview",
        response_model=ClosurePreview,
        tags=["themes", "closures"],
        responses={**ERRORS, **NOT_FOUND},
    )
    async def closure_preview(
        theme_id: ReadThemeId,
        caller: Pm,
        release: Annotated[
            str | None,
            Query(max_length=128, description="The release's version; the theme's attached release gives its "
                  "date and note when it has this version."),
        ] = None,
        released_on: Annotated[
            date | None, Query(description="The release's date (asks after it are not thanked).")
        ] = None,
        title: Annotated[
            str | None, Query(max_length=300, description="What shipped, in the PM's words.")
        ] = None,
        note: Annotated[str | None, Query(max_length=4000, description="The release note.")] = None,
    ) -> ClosurePreview:
        """Each ask of the theme with the verdict a closure shipped now would give it."""
        theme, members, vectors = await asyncio.to_thread(_read, engine, theme_id)
        attached = theme.release or {}
        if release is not None and attached.get("version") == release:
            if released_on is None and attached.get("date"):
                released_on = date.fromisoformat(attached["date"])
            note = note or attached.get("note")
        name = title or theme.representative_text or theme.label or "this change"
        return await asyncio.to_thread(
            _preview, semantic, theme_id, members, vectors, release=release, released_on=released_on,
            title=name, note=note, handles=caller.role >= Role.pm,
        )

    return router


def _read(engine: Engine, theme_id: str) -> tuple[ThemeRow, list[SuggestionRow], dict[str, bytes]]:
    with Session(engine) as session:
        theme = session.get(ThemeRow, theme_id)
        if theme is None:
            raise ApiError(404, "not_found", f"no theme {theme_id}")
        members = list(session.scalars(
            select(SuggestionRow).where(SuggestionRow.theme_id == theme_id)
            .order_by(SuggestionRow.asked_at, SuggestionRow.suggestion_id)
        ).all())
        ids = [m.suggestion_id for m in members]
        vectors = {
            row.suggestion_id: row.vector
            for row in session.scalars(
                select(SuggestionVectorRow).where(SuggestionVectorRow.suggestion_id.in_(ids))
            )
        }
        session.expunge_all()
    return theme, members, vectors


def _preview(
    semantic: SemanticIndex, theme_id: str, members: list[SuggestionRow], stored: dict[str, bytes], *,
    release: str | None, released_on: date | None, title: str, note: str | None, handles: bool,
) -> ClosurePreview:
    cutoff = shipped_cutoff(released_on, datetime.now(UTC))
    judged: dict[str, AskJudgement] = {}
    if members:
        vectors = l2_normalize(_member_vectors(semantic, members, stored))
        centre = l2_normalize(vectors.mean(axis=0, keepdims=True))[0]
        _, shipped = embed_what_shipped(title, note, centre, semantic.embed, fallback=title)
        before = [i for i, m in enumerate(members) if asked_before(m.asked_at, cutoff)]
        relevance = judge_relevance(
            suggestion_ids=[members[i].suggestion_id for i in before], ask_vectors=vectors[before],
            shipped_vectors=shipped, centre=centre,
            spread=ThemeSpread.of(vectors, centre),
        ) if before else []
        judged = {j.suggestion_id: j for j in relevance}
    asks = [_ask(m, judged.get(m.suggestion_id), handles=handles) for m in members]
    counts = {verdict: sum(1 for a in asks if a.verdict == verdict.value) for verdict in Verdict}
    return ClosurePreview(
        theme_id=theme_id, title=title, release=release, asked_by=cutoff, asks=asks,
        thanked=counts[Verdict.THANKED], held=counts[Verdict.HELD], left_out=counts[Verdict.LEFT_OUT],
        asked_after_shipping=counts[Verdict.AFTER_SHIPPING],
    )


def _member_vectors(semantic: SemanticIndex, members: list[SuggestionRow], stored: dict[str, bytes]) -> Any:
    """Each member's stored embedding when it has the model's size, else its ask embedded now."""
    dim = semantic.dim
    kept = {m.suggestion_id: np.frombuffer(stored[m.suggestion_id], dtype=np.float32) for m in members
            if len(stored.get(m.suggestion_id, b"")) == 4 * dim}
    missing = [m for m in members if m.suggestion_id not in kept]
    made = semantic.embed([m.text for m in missing])
    kept.update((m.suggestion_id, vector) for m, vector in zip(missing, made, strict=True))
    return np.stack([kept[m.suggestion_id] for m in members])


def _ask(member: SuggestionRow, judgement: AskJudgement | None, *, handles: bool) -> PreviewAsk:
    verdict = judgement.verdict.value if judgement else Verdict.AFTER_SHIPPING.value
    return PreviewAsk(
        suggestion_id=member.suggestion_id, comment_id=member.comment_id, platform=member.platform,
        author_handle=member.author_handle if handles else None, asked_at=member.asked_at, ask=member.text,
        verdict=verdict,
        rule=judgement.rule if judgement else RULE_AFTER_SHIPPING,
        release_similarity=judgement.release_similarity if judgement else None,
        centre_similarity=judgement.centre_similarity if judgement else None,
    )
