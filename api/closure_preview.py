"""``GET /themes/{theme_id}/closure-preview``: who a "You asked, we did" closure of a theme would
thank, hold for a person or leave out if it shipped now, with each ask and its cosines.

The rules are the worker's (:mod:`models.closure_selection`); the read model has no clustering
state, so the theme's centre and spread come from all its members' stored vectors (the worker
uses its sampled members) and the contrast with other themes' centres is left to the worker
(the release's other changes are contrasted here too): a verdict near a band's edge, or an ask
nearer another theme, may differ from the published closure.
A product manager's decisions override the rules, as in the worker: asks placed in the theme
(its history's ``place`` entries, and those of the themes merged into it) are thanked, then the
decisions about the theme's askers (accepted ``include_asker`` and ``exclude_asker`` outcomes,
the latest per person) apply.
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
from api.readmodel.schema import OutcomeRow, SuggestionRow, SuggestionVectorRow, ThemeHistoryRow, ThemeRow
from api.reads import placed_asks, theme_asks
from api.schemas import ClosurePreview, PreviewAsk
from api.search import SemanticIndex
from api.security import Role
from contracts.lifecycle import CommandKind, hash_author
from models.closure_selection import (
    RULE_AFTER_SHIPPING,
    AskJudgement,
    ThemeSpread,
    Verdict,
    asked_before,
    embed_what_shipped,
    judge_relevance,
    placed_judgement,
    shipped_cutoff,
)
from models.embedding import l2_normalize
from models.themes.asker_decisions import DECISION_KINDS, AskerDecision


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
        theme, members, vectors, decisions, placed = await asyncio.to_thread(_read, engine, theme_id)
        attached = theme.release or {}
        if release is not None and attached.get("version") == release:
            if released_on is None and attached.get("date"):
                released_on = date.fromisoformat(attached["date"])
            note = note or attached.get("note")
        # as the closure will: the product manager's title, else the theme's (a person's name for
        # it, or the one picked from its asks, which names nothing the theme does not)
        name = title or theme.title or theme.representative_text or theme.label or "this change"
        named = bool(title) or theme.named
        return await asyncio.to_thread(
            _preview, semantic, theme_id, members, vectors, release=release, released_on=released_on,
            title=name, note=note, handles=caller.role >= Role.pm, decisions=decisions, named=named,
            placed=placed,
        )

    return router


def _read(
    engine: Engine, theme_id: str
) -> tuple[ThemeRow, list[SuggestionRow], dict[str, bytes], dict[str, AskerDecision], set[str]]:
    with Session(engine) as session:
        theme = session.get(ThemeRow, theme_id)
        if theme is None:
            raise ApiError(404, "not_found", f"no theme {theme_id}")
        members = list(session.scalars(
            select(SuggestionRow).where(theme_asks(session, theme_id))
            .order_by(SuggestionRow.asked_at, SuggestionRow.suggestion_id)
        ).all())
        ids = [m.suggestion_id for m in members]
        vectors = {
            row.suggestion_id: row.vector
            for row in session.scalars(
                select(SuggestionVectorRow).where(SuggestionVectorRow.suggestion_id.in_(ids))
            )
        }
        decisions = _decisions(session, theme_id)
        placed = placed_asks(session, theme_id) & set(ids)
        session.expunge_all()
    return theme, members, vectors, decisions, placed


def _decisions(session: Session, theme_id: str) -> dict[str, AskerDecision]:
    """The standing decision about each person of the theme: the latest accepted one."""
    rows = session.scalars(
        select(OutcomeRow).where(
            OutcomeRow.theme_id == theme_id, OutcomeRow.accepted.is_(True),
            OutcomeRow.author_hash.is_not(None),
            OutcomeRow.kind.in_([kind.value for kind in DECISION_KINDS]),
        ).order_by(OutcomeRow.decided_at, OutcomeRow.command_id)
    )
    decisions: dict[str, AskerDecision] = {}
    for row in rows:
        assert row.author_hash is not None
        history = session.scalar(select(ThemeHistoryRow).where(ThemeHistoryRow.command_id == row.command_id))
        decisions[row.author_hash] = AskerDecision(
            author_hash=row.author_hash, include=row.kind == CommandKind.INCLUDE_ASKER.value,
            actor=history.actor if history else "a product manager", reason=history.reason if history else "",
            command_id=row.command_id, at=row.decided_at,
        )
    return decisions


def _preview(
    semantic: SemanticIndex, theme_id: str, members: list[SuggestionRow], stored: dict[str, bytes], *,
    release: str | None, released_on: date | None, title: str, note: str | None, handles: bool,
    decisions: dict[str, AskerDecision], named: bool = True, placed: set[str] | frozenset[str] = frozenset(),
) -> ClosurePreview:
    cutoff = shipped_cutoff(released_on, datetime.now(UTC))
    judged: dict[str, AskJudgement] = {}
    if members:
        vectors = l2_normalize(_member_vectors(semantic, members, stored))
        centre = l2_normalize(vectors.mean(axis=0, keepdims=True))[0]
        spread = ThemeSpread.of(vectors, centre)
        shipped = embed_what_shipped(
            title, note, centre, semantic.embed, spread=spread, fallback=title, named=named
        )
        before = [i for i, m in enumerate(members) if asked_before(m.asked_at, cutoff)]
        relevance = judge_relevance(
            suggestion_ids=[members[i].suggestion_id for i in before], ask_vectors=vectors[before],
            shipped_vectors=shipped.vectors, centre=centre, spread=spread,
            other_changes=shipped.other_vectors,
        ) if before else []
        judged = {j.suggestion_id: placed_judgement(j) if j.suggestion_id in placed else j for j in relevance}
    asks = [_ask(m, _decided(m, judged.get(m.suggestion_id), decisions), handles=handles) for m in members]
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


def _author_hash(member: SuggestionRow) -> str:
    return member.author_hash or hash_author(member.platform, member.author_id)


def _decided(
    member: SuggestionRow, judgement: AskJudgement | None, decisions: dict[str, AskerDecision]
) -> tuple[AskJudgement | None, str | None]:
    """The rules' verdict on an ask made before shipping, or the product manager's over it."""
    decision = decisions.get(_author_hash(member))
    if judgement is None or decision is None:
        return judgement, None
    verdict = Verdict.THANKED if decision.include else Verdict.LEFT_OUT
    return AskJudgement(member.suggestion_id, verdict, decision.rule, judgement.release_similarity,
                        judgement.centre_similarity), decision.actor


def _ask(
    member: SuggestionRow, decided: tuple[AskJudgement | None, str | None], *, handles: bool
) -> PreviewAsk:
    judgement, decided_by = decided
    verdict = judgement.verdict.value if judgement else Verdict.AFTER_SHIPPING.value
    return PreviewAsk(
        suggestion_id=member.suggestion_id, comment_id=member.comment_id, platform=member.platform,
        author_hash=_author_hash(member), author_handle=member.author_handle if handles else None,
        asked_at=member.asked_at, ask=member.text, verdict=verdict, decided_by=decided_by,
        rule=judgement.rule if judgement else RULE_AFTER_SHIPPING,
        release_similarity=judgement.release_similarity if judgement else None,
        centre_similarity=judgement.centre_similarity if judgement else None,
    )
