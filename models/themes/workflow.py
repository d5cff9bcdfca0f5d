"""One product's theme workflow: duplicates first, then the online engine; outputs as data.

:func:`place_suggestion` and :func:`tick` are the steps the stream agent and the evaluation
share. They mutate the :class:`ProductWork` they are given and return a :class:`StepResult`
that says which suggestions were placed where, which themes changed and which were merged
away, so an adapter can persist exactly the touched records and publish their snapshots.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from models.duplicates import DuplicateConfig, RecentWindow, _Recent, check_duplicate
from models.text import text_hash
from models.themes.engine import ThemeEngine
from models.themes.events import (
    SuggestionPlaced,
    ThemeCreated,
    ThemeEvent,
    ThemeMerged,
    ThemeSplit,
    ThemeUpdated,
)
from models.themes.records import Member, Suggestion
from models.themes.state import ProductThemes


@dataclass
class Lineage:
    """Where a theme came from and where it went."""

    merged_into: str | None = None
    merged_from: list[str] = field(default_factory=list)
    split_from: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "merged_into": self.merged_into,
            "merged_from": list(self.merged_from),
            "split_from": self.split_from,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Lineage:
        return cls(data.get("merged_into"), list(data.get("merged_from") or []), data.get("split_from"))


@dataclass
class ProductWork:
    """Everything the workflow keeps for one product.

    ``next_id`` numbers new themes (ids derive from it, so a replay after a crash makes the
    same ids). ``lineage`` covers every theme ever made, merged ones included.
    """

    themes: ProductThemes
    window: RecentWindow
    next_id: int = 0
    lineage: dict[str, Lineage] = field(default_factory=dict)
    steps: int = 0
    """The suggestions' steps taken so far. A suggestion's own member entry keeps the count after
    its step; stored with the lineage (the last write of a step), it tells a re-delivery whose
    member entry reached the tables without the state its step changed (a worker died between
    the two: the tables are two changelogs, written in no order between them)."""
    stored_members: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per theme, the digest of each sampled or provisional member as last written to the store
    under its own key (:func:`models.themes.tables.work_writes` writes only what changed)."""

    @classmethod
    def new(cls, *, product: str, dim: int) -> ProductWork:
        return cls(ProductThemes(product=product, dim=dim), RecentWindow(product=product))

    def new_id(self) -> str:
        """The next theme id: ``t-`` and 12 hex digits of a hash of product and counter."""
        self.next_id += 1
        digest = hashlib.sha256(f"{self.themes.product}:{self.next_id}".encode()).hexdigest()
        return f"t-{digest[:12]}"

    def rebuild_window(self, config: DuplicateConfig) -> None:
        """Refill the duplicate window from pooled and sampled suggestions (after a restart)."""
        members = list(self.themes.pool.values())
        for theme in self.themes.themes.values():
            members.extend(theme.sample)
        members.sort(key=lambda m: m.created_at)
        window = RecentWindow(product=self.themes.product)
        for member in members[-config.window_size :]:
            window.items.append(
                _Recent(member.suggestion_id, text_hash(member.text), member.vector, member.created_at)
            )
        self.window = window


@dataclass(frozen=True)
class Placement:
    """Suggestion ``suggestion_id`` now lives in ``theme_id`` (None: the pool)."""

    suggestion_id: str
    theme_id: str | None
    duplicate_of: str | None = None
    duplicate_kind: str | None = None
    similarity: float | None = None


@dataclass
class StepResult:
    """What one step changed. ``changed`` maps theme ids to the kind of change."""

    placements: list[Placement] = field(default_factory=list)
    changed: dict[str, str] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)

    @property
    def reclustered(self) -> bool:
        return "recluster" in self.changed.values()


def _collect(work: ProductWork, events: list[ThemeEvent], result: StepResult) -> None:
    born: set[str] = set()
    for event in events:
        if isinstance(event, SuggestionPlaced):
            result.placements.append(
                Placement(event.suggestion_id, event.theme_id, similarity=event.similarity)
            )
        elif isinstance(event, ThemeCreated):
            work.lineage.setdefault(event.theme_id, Lineage())
            born.add(event.theme_id)
            result.changed[event.theme_id] = "created"
            for member_id in event.member_ids:
                result.placements.append(Placement(member_id, event.theme_id))
        elif isinstance(event, ThemeMerged):
            _collect_merge(work, event, born, result)
        elif isinstance(event, ThemeSplit):
            for new_id in event.new_ids:
                work.lineage.setdefault(new_id, Lineage()).split_from = event.old_id
                result.changed[new_id] = "split"
            result.changed[event.old_id] = "split"
            for new_id, moved in event.moved_ids:
                result.placements.extend(Placement(m, new_id) for m in moved)
        elif isinstance(event, ThemeUpdated):
            result.changed.setdefault(event.theme_id, "joined" if event.suggestion_id else "recluster")
    # A later placement of the same suggestion wins; drop placements into merged-away themes.
    latest: dict[str, Placement] = {}
    for placement in result.placements:
        theme_id = placement.theme_id
        while theme_id in result.merged:
            theme_id = result.merged[theme_id]
        latest[placement.suggestion_id] = Placement(
            placement.suggestion_id,
            theme_id,
            placement.duplicate_of,
            placement.duplicate_kind,
            placement.similarity,
        )
    result.placements = list(latest.values())
    for old in result.merged:
        result.changed.pop(old, None)


def _collect_merge(work: ProductWork, event: ThemeMerged, born: set[str], result: StepResult) -> None:
    """Record a merge in the lineage. A theme born in this same step was never published: it
    leaves no id behind (what it had absorbed is re-pointed to the survivor), so nobody is
    sent to an id that never appeared on any topic.
    """
    target = work.lineage.setdefault(event.new_id, Lineage())
    published = False
    for old in event.old_ids:
        result.merged[old] = event.new_id
        result.changed.pop(old, None)
        retired = work.lineage.pop(old, Lineage()).merged_from if old in born else [old]
        for gone in retired:
            work.lineage.setdefault(gone, Lineage()).merged_into = event.new_id
            if gone not in target.merged_from:
                target.merged_from.append(gone)
            published = True
    if published:
        result.changed[event.new_id] = "merged"
    else:
        result.changed.setdefault(event.new_id, "recluster")


def place_suggestion(
    work: ProductWork,
    suggestion: Suggestion,
    *,
    engine: ThemeEngine,
    duplicates: DuplicateConfig,
    theme_of: Callable[[str], str | None],
    now: datetime,
) -> StepResult:
    """Place one new suggestion.

    An exact repeat (same folded text: copy-paste, spam waves) adds a mention and its author to
    what it repeats. A near-duplicate goes through the engine like any suggestion (its vector
    keeps the theme's density, so re-clusters see how many asked) and is marked ``auto``
    (merged without review: it lands in the same theme and counts its author once there) or
    ``review`` (a possible duplicate for a person to confirm).

    ``theme_of`` answers the theme of an earlier suggestion (the caller's suggestion map),
    for duplicates of members that left a theme's bounded sample.
    """
    result = StepResult()
    vector = np.asarray(suggestion.vector, dtype=np.float32)
    work.window, match = check_duplicate(
        work.window,
        suggestion_id=suggestion.suggestion_id,
        text=suggestion.text,
        vector=vector,
        created_at=suggestion.created_at,
        config=duplicates,
    )
    if match.band == "exact" and match.duplicate_of is not None:
        target_theme = work.themes.locate(match.duplicate_of)
        if target_theme in (None, "pool"):
            target_theme = theme_of(match.duplicate_of) if target_theme is None else None
        _, events = engine.add_mention(
            work.themes,
            target_id=match.duplicate_of,
            theme_id=target_theme,
            author_key=suggestion.author_key,
            platform=suggestion.platform,
            at=suggestion.created_at,
            now=now,
            engagement=suggestion.engagement,
            tone=suggestion.tone,
        )
        _collect(work, events, result)
        result.placements.append(
            Placement(
                suggestion.suggestion_id,
                target_theme,
                match.duplicate_of,
                match.band,
                round(match.similarity, 4),
            )
        )
        return result
    _, events = engine.add_suggestion(work.themes, suggestion, now=now, new_id=work.new_id)
    _collect(work, events, result)
    if match.band in ("auto", "review") and match.duplicate_of is not None:
        result.placements = [
            Placement(
                p.suggestion_id, p.theme_id, match.duplicate_of, match.band, round(match.similarity, 4)
            )
            if p.suggestion_id == suggestion.suggestion_id
            else p
            for p in result.placements
        ]
    return result


def tick(work: ProductWork, *, engine: ThemeEngine, now: datetime, idle: bool = False) -> StepResult:
    """A time step: re-cluster when due, or when ``idle`` (the stream paused) and suggestions
    arrived since the last re-cluster or wait from it, so that a burst of suggestions is not left
    in the pool.
    """
    result = StepResult()
    if tick_reclusters(work, engine=engine, now=now, idle=idle):
        _, events = engine.recluster(work.themes, now=now, new_id=work.new_id)
        _collect(work, events, result)
    return result


def tick_reclusters(work: ProductWork, *, engine: ThemeEngine, now: datetime, idle: bool = False) -> bool:
    """Whether :func:`tick` re-clusters (the only way a time step changes themes)."""
    return (idle and work.themes.unsettled) or engine.tick_due(work.themes, now=now)


def merge_themes(
    work: ProductWork, *, engine: ThemeEngine, source_ids: tuple[str, ...], into_id: str, now: datetime
) -> StepResult:
    """A person's merge: fold ``source_ids`` into ``into_id`` (all must be live themes)."""
    result = StepResult()
    missing = [tid for tid in (*source_ids, into_id) if tid not in work.themes.themes]
    if missing:
        raise KeyError(f"not live themes: {', '.join(missing)}")
    _collect(work, engine.merge_themes(work.themes, source_ids=source_ids, into_id=into_id, now=now), result)
    return result


def split_theme(
    work: ProductWork,
    *,
    engine: ThemeEngine,
    theme_id: str,
    parts: list[tuple[str, list[Suggestion | str]]],
    now: datetime,
) -> StepResult:
    """A person's split: move each part's suggestions out of ``theme_id`` into a new theme.

    A part lists suggestion ids the theme holds (its sample and provisional members, with
    their vectors) or :class:`Suggestion` stand-ins for members it no longer holds, built by
    the caller from its member records (their vector: the theme's centroid is good enough).
    """
    source = work.themes.themes[theme_id]
    held = {m.suggestion_id: m for m in source.members}
    cap = engine.config.max_text_chars
    resolved: list[tuple[str, list[Member]]] = []
    for new_id, items in parts:
        members: list[Member] = []
        for item in items:
            if isinstance(item, str):
                members.append(held[item])
            elif item.suggestion_id in held:
                members.append(held[item.suggestion_id])
            else:
                members.append(Member.from_suggestion(item, max_text_chars=cap))
        resolved.append((new_id, members))
    result = StepResult()
    _collect(work, engine.split_theme(work.themes, theme_id=theme_id, parts=resolved, now=now), result)
    return result


def place_ask(
    work: ProductWork,
    *,
    engine: ThemeEngine,
    theme_id: str,
    member: Member | Suggestion,
    from_theme: str | None,
    now: datetime,
) -> StepResult:
    """A person's placement: move one ask into ``theme_id`` and keep it there.

    ``member`` is the ask as the clustering holds it (in the pool or a theme's sample), or a
    :class:`Suggestion` stand-in for a member ``from_theme`` no longer holds: its counts move,
    and its vector is the target theme's centre (a person said it asks for that idea), while
    what leaves ``from_theme`` carries that theme's centre, as a person's split does.
    """
    cap = engine.config.max_text_chars
    released: Member | None = None
    if isinstance(member, Suggestion):
        target = work.themes.themes[theme_id]
        stand_in = Member.from_suggestion(member, max_text_chars=cap)
        source = work.themes.themes.get(from_theme) if from_theme is not None else None
        if source is not None:
            released = replace(stand_in, vector=source.centroid())
        member = replace(stand_in, vector=target.centroid())
    result = StepResult()
    events = engine.place(
        work.themes, member=member, theme_id=theme_id, from_theme=from_theme, now=now, released=released
    )
    _collect(work, events, result)
    for changed in (theme_id, from_theme):
        if changed is not None and changed in work.themes.themes:
            result.changed[changed] = "placed"
    return result
