"""The themes agent's records: one product's engine state in a faust table
(:class:`ThemeStore`), the public snapshot of a theme, a closure's default title and the
rejection of an unreadable command.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from contracts.events import LifecycleStatus, ThemeChanged, ThemeStatus
from contracts.lifecycle import CommandOutcome
from models.duplicates import DuplicateConfig
from models.lifecycle import ThemeState
from models.scoring import ScoringWeights
from models.theme_commands import cost_input, release_ref, theme_score
from models.themes.records import ThemeRecord
from models.themes.state import ProductThemes
from models.themes.workflow import Lineage, ProductWork, StepResult

logger = logging.getLogger(__name__)


def theme_snapshot(
    record: ThemeRecord,
    lineage: Lineage,
    *,
    change: str,
    now: datetime,
    status: ThemeStatus = ThemeStatus.ACTIVE,
    life: ThemeState | None = None,
    weights: ScoringWeights | None = None,
) -> ThemeChanged:
    """The public snapshot of one theme record, with its lifecycle and (if live) its score."""
    life = life or ThemeState(theme_id=record.theme_id)
    merged = status is ThemeStatus.MERGED
    lifecycle_status = LifecycleStatus.MERGED if merged else LifecycleStatus(life.status.value)
    score = None
    if not merged:
        score = theme_score(record, life.cost, now=now, weights=weights or ScoringWeights())
    return ThemeChanged(
        theme_id=record.theme_id,
        product=record.product,
        status=status,
        merged_into=lineage.merged_into,
        merged_from=list(lineage.merged_from),
        split_from=lineage.split_from,
        label=record.label,
        keywords=list(record.keywords),
        representative_id=record.representative_id,
        representative_text=record.representative_text,
        member_count=record.member_count,
        mention_count=record.mention_count,
        author_count=record.authors.count(),
        first_seen=record.first_seen,
        last_seen=record.last_seen,
        platform_counts=dict(record.platforms),
        weekly_counts=dict(sorted(record.weeks.items())),
        change=change,
        changed_at=now,
        lifecycle_status=lifecycle_status,
        cost=cost_input(life.cost),
        release=release_ref(life.release),
        engagement=record.engagement,
        score=score,
    )


class ThemeStore:
    """Loads and saves one product's :class:`ProductWork` through a faust table."""

    def __init__(self, table: Any, *, dim: int, duplicates: DuplicateConfig) -> None:
        self.table = table
        self.dim = dim
        self.duplicates = duplicates
        self.loaded: dict[str, ProductWork] = {}
        self.last_step: dict[str, float] = {}

    def forget(self) -> None:
        self.loaded.clear()

    def load(self, product: str) -> ProductWork:
        work = self.loaded.get(product)
        if work is not None:
            return work
        meta = self.table.get(f"meta:{product}")
        if meta is None:
            work = ProductWork.new(product=product, dim=self.dim)
        else:
            themes = {tid: self.table[f"theme:{tid}"] for tid in meta["theme_ids"]}
            pool = {pid: self.table[f"pool:{pid}"] for pid in meta["pool_ids"]}
            lineage = self.table.get(f"lineage:{product}") or {"next_id": 0, "themes": {}}
            work = ProductWork(
                themes=ProductThemes.from_records(meta, themes, pool),
                window=ProductWork.new(product=product, dim=self.dim).window,
                next_id=int(lineage["next_id"]),
                lineage={tid: Lineage.from_dict(v) for tid, v in lineage["themes"].items()},
            )
            work.rebuild_window(self.duplicates)
            logger.info("themes of %s resumed: %d themes, %d pooled", product, len(themes), len(pool))
        self.loaded[product] = work
        return work

    def save(
        self, work: ProductWork, result: StepResult, *, previous_pool: set[str], everything: bool
    ) -> None:
        state = work.themes
        product = state.product
        changed = set(state.themes) if everything else set(result.changed)
        for placement in result.placements:
            if placement.theme_id in state.themes:
                changed.add(placement.theme_id)
        for theme_id in changed & set(state.themes):
            self.table[f"theme:{theme_id}"] = state.themes[theme_id].to_dict()
        for old in result.merged:
            self.table.pop(f"theme:{old}", None)
        current_pool = set(state.pool)
        for pid in current_pool - previous_pool:
            self.table[f"pool:{pid}"] = state.pool[pid].to_dict()
        if everything:
            for pid in current_pool & previous_pool:
                self.table[f"pool:{pid}"] = state.pool[pid].to_dict()
        for pid in previous_pool - current_pool:
            self.table.pop(f"pool:{pid}", None)
        self.table[f"meta:{product}"] = state.meta_dict()
        self.table[f"lineage:{product}"] = {
            "next_id": work.next_id,
            "themes": {tid: lineage.to_dict() for tid, lineage in work.lineage.items()},
        }


def unreadable_command(message: Any, error: ValidationError, *, now: datetime) -> CommandOutcome:
    """The rejection of a record on the commands topic that is not a valid :class:`ThemeCommand`."""
    command_id = f"{message.topic}:{message.partition}:{message.offset}"
    try:
        raw = json.loads(message.value)
        if isinstance(raw, dict) and isinstance(raw.get("command_id"), str) and raw["command_id"].strip():
            command_id = raw["command_id"].strip()[:256]
    except (ValueError, TypeError):
        pass
    product = (message.key or b"").decode("utf-8", "replace")[:256]
    return CommandOutcome(
        command_id=command_id,
        product=product,
        theme_id="",
        kind=None,
        accepted=False,
        code="invalid_command",
        message=str(error)[:2000],
        decided_at=now,
    )


def default_title(record: ThemeRecord | None) -> str:
    """A closure's title when the product manager gave none: the theme's representative
    suggestion in quotes, cut to its first clause (at most 60 characters, whole words).
    Keywords ("teams / chats / delete") read as noise in a sentence; people's own words do not.
    """
    text = " ".join(((record.representative_text or record.label) if record else "").split())
    if not text:
        return "this change"
    clause = re.split(r"(?<=[.!?;:])\s", text, maxsplit=1)[0].rstrip(".!?;:")
    if len(clause) > 60:
        clause = clause[:61].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return f"“{clause}”"
