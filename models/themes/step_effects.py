"""The effects of one clustering step: theme snapshots and member records to emit, then the
writes that store the product (shared by suggestions, ticks and commands).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.events import SuggestionDetected, ThemeStatus
from contracts.topics import THEME_MEMBERS, THEMES
from models.closure import ClosureTemplates
from models.duplicates import DuplicateConfig
from models.embedding import Embedder
from models.lifecycle import ThemeState
from models.scoring import DEFAULT_WEIGHTS, ScoringWeights
from models.theme_mapping import moved_member, suggestion_themed, theme_snapshot
from models.themes.config import ThemeConfig
from models.themes.effects import Effect, Effects, Emit
from models.themes.emerging import is_emerging
from models.themes.engine import ThemeEngine
from models.themes.records import ThemeRecord
from models.themes.tables import STEP_FIELD, ThemeTables, set_member, work_writes
from models.themes.workflow import Lineage, ProductWork, StepResult

LifeOf = Callable[[str], ThemeState | None]


@dataclass(frozen=True)
class ThemeRules:
    """The themes agent's rules: the engine and duplicate settings, closure texts, score weights and
    the model that embeds what shipped.
    """

    engine: ThemeEngine
    templates: ClosureTemplates
    duplicates: DuplicateConfig = field(default_factory=DuplicateConfig)
    weights: ScoringWeights = DEFAULT_WEIGHTS
    embedder: Embedder | None = None  # judges a closure's asks against what shipped (None: time only)


def snapshot_before(work: ProductWork) -> dict[str, dict[str, Any]]:
    """Every live theme's record before a step (the last word of a theme it merges away)."""
    return {tid: rec.to_dict() for tid, rec in work.themes.themes.items()}


def step_effects(
    rules: ThemeRules,
    tables: ThemeTables,
    work: ProductWork,
    result: StepResult,
    *,
    detected: SuggestionDetected | None,
    before: dict[str, dict[str, Any]],
    previous_pool: set[str],
    now: datetime,
) -> Effects:
    """A suggestion's or a tick's effects: :func:`step_emits`, the member records, the product."""
    retired = {old: before[old] for old in result.merged if old in before}
    items: list[Effect] = []
    members = step_emits(
        tables,
        work,
        result,
        items,
        detected=detected,
        now=now,
        retired=retired,
        life=lambda tid: stored_life(tables, tid),
        weights=rules.weights,
        config=rules.engine.config,
    )
    if detected is not None:
        # The suggestion's own entry keeps the step count its step stores with the product
        # (:attr:`ProductWork.steps`): a re-delivery then tells whether the state has the step.
        work.steps += 1
        own = members.get(detected.suggestion_id)
        if own is not None:
            members[detected.suggestion_id] = {**own, STEP_FIELD: work.steps}
    items.extend(set_member(sid, payload) for sid, payload in members.items())
    everything = result.reclustered or bool(result.merged)
    items.extend(work_writes(work, result, previous_pool=previous_pool, everything=everything))
    return Effects(items, stepped=True)


def stored_life(tables: ThemeTables, theme_id: str) -> ThemeState | None:
    """The stored lifecycle of ``theme_id`` (None: no command changed it yet)."""
    stored = tables.life(theme_id)
    return None if stored is None else ThemeState.from_dict(stored)


def step_emits(
    tables: ThemeTables,
    work: ProductWork,
    result: StepResult,
    items: list[Effect],
    *,
    detected: SuggestionDetected | None,
    now: datetime,
    retired: dict[str, dict[str, Any]],
    life: LifeOf,
    weights: ScoringWeights,
    config: ThemeConfig,
) -> dict[str, dict[str, Any]]:
    """Append to ``items`` the snapshots of the themes ``result`` changed (by id), of the themes
    it merged away (from their ``retired`` records), and the member records of its placements;
    return the member records to store (suggestion id -> JSON). A live theme reads ``emerging``
    while it holds fewer than ``config.min_cluster_size`` suggestions.
    """
    state = work.themes
    for theme_id, change in sorted(result.changed.items()):
        if theme_id in state.themes:
            small = is_emerging(state.themes[theme_id], config)
            snapshot = theme_snapshot(
                state.themes[theme_id],
                work.lineage.get(theme_id, Lineage()),
                change=change,
                now=now,
                status=ThemeStatus.EMERGING if small else ThemeStatus.ACTIVE,
                life=life(theme_id),
                weights=weights,
                found_threshold=config.found_threshold,
            )
            items.append(Emit(THEMES, theme_id, snapshot))
    for old, new in result.merged.items():
        if old not in retired:
            continue
        snapshot = theme_snapshot(
            ThemeRecord.from_dict(retired[old]),
            work.lineage.get(old, Lineage(merged_into=new)),
            change="merged",
            now=now,
            status=ThemeStatus.MERGED,
            life=life(old),
        )
        items.append(Emit(THEMES, old, snapshot))
    members: dict[str, dict[str, Any]] = {}
    for placement in result.placements:
        if detected is not None and placement.suggestion_id == detected.suggestion_id:
            record = suggestion_themed(detected, placement, now=now)
        else:
            known = tables.member(placement.suggestion_id)
            if known is None:
                continue
            record = moved_member(known, placement, now=now)
        members[record.suggestion_id] = record.model_dump(mode="json")
        items.append(Emit(THEME_MEMBERS, record.suggestion_id, record))
    return members
