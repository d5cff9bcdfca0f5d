"""A person's decisions about possible duplicates, and a person's erasure, as steps on one product.

* :func:`confirm_duplicate`: a suggestion of the review queue is confirmed to repeat an earlier
  one. It leaves the theme it stood in and counts where the earlier one is (a theme: it joins it;
  the pool: it becomes a mention of the pooled item). When it was the only member of its theme,
  that theme is merged into the target, so lineage and lifecycle follow as for any merge.
* :func:`erase_author`: everything one person (a hashed author key) wrote leaves the state:
  their pooled items and sampled members with their texts, their mentions on other people's
  suggestions, and their hash from every author set. Counts drop by what was theirs; a
  suggestion of theirs that others repeated word for word is handed over to the first of those
  others, so the others stay counted. A theme left with no member is removed.

Both mutate the :class:`~models.themes.workflow.ProductWork` they are given, like the other
workflow steps, and return what changed so the adapter can publish and store exactly that.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from models.duplicates import DuplicateConfig
from models.themes.engine import ThemeEngine
from models.themes.labels import relabel
from models.themes.records import Member, ThemeRecord, iso_week
from models.themes.workflow import Placement, ProductWork, StepResult, merge_themes
from models.tone import NO_TONE, Tone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ask:
    """What the state needs to know of one member record (a suggestion and who wrote it).

    ``exact`` marks an exact repeat: it was counted as a mention of ``duplicate_of`` and never
    placed through the engine. ``theme_id`` is where the record says it lives (None: the pool).
    """

    suggestion_id: str
    theme_id: str | None
    author_hash: str
    platform: str
    asked_at: datetime
    text: str
    engagement: int = 0
    duplicate_of: str | None = None
    exact: bool = False
    tone: Tone = NO_TONE


def _held(work: ProductWork, suggestion_id: str, theme_id: str | None) -> tuple[str | None, Member | None]:
    """Where ``suggestion_id`` is held with its vector: ``("pool", item)``, ``(theme, member)``,
    or ``(theme_id, None)`` when its theme no longer keeps it in the bounded sample.
    """
    state = work.themes
    if suggestion_id in state.pool:
        return "pool", state.pool[suggestion_id]
    located = state.locate(suggestion_id)
    if located not in (None, "pool"):
        theme = state.themes[located]
        member = next(m for m in (*theme.sample, *theme.provisional) if m.suggestion_id == suggestion_id)
        return located, member
    return (theme_id if theme_id in state.themes else None), None


def _drop_counts(counts: dict[str, int], key: str, n: int = 1) -> dict[str, int]:
    counts[key] = counts.get(key, 0) - n
    return {k: v for k, v in counts.items() if v > 0}


def _take_mention(theme: ThemeRecord | None, member: Member | None, ask: Ask) -> None:
    """Subtract one mention of ``ask`` (its platform, week, engagement) from a theme and/or a member."""
    week = iso_week(ask.asked_at)
    if theme is not None:
        theme.mention_count = max(0, theme.mention_count - 1)
        theme.engagement = max(0, theme.engagement - ask.engagement)
        theme.tone -= ask.tone
        theme.platforms = _drop_counts(theme.platforms, ask.platform)
        theme.weeks = _drop_counts(theme.weeks, week)
        if member is None:  # as counted: once per mention of a member the theme no longer holds
            theme.authors.remove(ask.author_hash)
    if member is not None:
        member.mentions = max(1, member.mentions - 1)
        member.engagement = max(0, member.engagement - ask.engagement)
        member.tone -= ask.tone
        member.platforms = _drop_counts(member.platforms, ask.platform)
        member.weeks = _drop_counts(member.weeks, week)
        if ask.author_hash in member.authors:  # as counted: once per held member that names them
            member.authors.remove(ask.author_hash)
            if theme is not None:
                theme.authors.remove(ask.author_hash)


def _stand_in_release(theme: ThemeRecord, ask: Ask) -> None:
    """Take a member the theme no longer holds out of its aggregates (its vector: the centroid,
    which keeps the theme's direction).
    """
    theme.vector_sum -= theme.centroid().astype(np.float64)
    theme.member_count = max(0, theme.member_count - 1)
    _take_mention(theme, None, ask)


def _fold_into(item: Member, other: Member) -> None:
    """Count ``other`` (with its own repeats) as mentions of the pooled ``item``."""
    item.mentions += other.mentions
    item.engagement += other.engagement
    item.tone += other.tone
    item.authors.extend(a for a in other.authors if a not in item.authors)
    for key, n in other.platforms.items():
        item.platforms[key] = item.platforms.get(key, 0) + n
    for key, n in other.weeks.items():
        item.weeks[key] = item.weeks.get(key, 0) + n
    item.last_seen = max(item.last_seen, other.last_seen)


@dataclass
class ErasureResult:
    """What an erasure changed: ``step`` as for any step, plus the themes it emptied and removed,
    the suggestions it forgot, and the records handed over (old id -> the other person's id).
    """

    step: StepResult = field(default_factory=StepResult)
    removed_themes: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    handed_over: dict[str, str] = field(default_factory=dict)


def erase_author(
    work: ProductWork,
    *,
    engine: ThemeEngine,
    duplicates: DuplicateConfig,
    author_hash: str,
    asks: Sequence[Ask],
    repeats: dict[str, list[Ask]],
    now: datetime,
) -> ErasureResult:
    """Remove one person from ``work``: ``asks`` are their member records in this product;
    ``repeats`` maps each of their suggestion ids to other people's exact repeats of it
    (oldest first), the first of which takes over a held item that others repeated.
    """
    del now  # erasure changes no clock-based state; kept for the step signature
    state = work.themes
    result = ErasureResult()
    touched: set[str] = set()
    forgotten = {ask.suggestion_id for ask in asks}
    for ask in sorted(asks, key=lambda a: a.exact, reverse=True):  # mentions first, then own items
        result.forgotten.append(ask.suggestion_id)
        if ask.exact and ask.duplicate_of is not None:
            where, member = _held(work, ask.duplicate_of, ask.theme_id)
            theme = state.themes.get(where) if where not in (None, "pool") else None
            if where is None:
                logger.info("erasure: repeated suggestion %s is gone; nothing to subtract", ask.duplicate_of)
                continue
            _take_mention(theme, member, ask)
            if theme is not None:
                touched.add(theme.theme_id)
            continue
        where, member = _held(work, ask.suggestion_id, ask.theme_id)
        theme = state.themes.get(where) if where not in (None, "pool") else None
        others = [r for r in repeats.get(ask.suggestion_id, []) if r.suggestion_id not in forgotten]
        if theme is not None:
            touched.add(theme.theme_id)
        if others and member is not None:
            heir = others[0]
            _take_mention(theme, member, ask)
            if where == "pool":
                del state.pool[ask.suggestion_id]
                state.pool[heir.suggestion_id] = member
            member.suggestion_id = heir.suggestion_id
            member.text = heir.text[: engine.config.max_text_chars]
            member.created_at = heir.asked_at
            result.handed_over[ask.suggestion_id] = heir.suggestion_id
            continue
        if member is not None and where == "pool":
            del state.pool[ask.suggestion_id]
        elif member is not None and theme is not None:
            theme.release(member)
        elif theme is not None:
            _stand_in_release(theme, ask)
        else:
            logger.info("erasure: suggestion %s is held nowhere in %s", ask.suggestion_id, state.product)
    for theme in state.themes.values():
        if theme.authors.discard(author_hash):
            touched.add(theme.theme_id)
    for item in state.pool.values():
        if author_hash in item.authors:
            item.authors.remove(author_hash)
    for theme_id in sorted(touched):
        theme = state.themes[theme_id]
        if theme.member_count <= 0:
            del state.themes[theme_id]
            result.removed_themes.append(theme_id)
            continue
        if theme.representative_id in forgotten and not theme.sample:
            theme.representative_id = theme.representative_text = None
        result.step.changed[theme_id] = "erasure"
    live = [state.themes[t] for t in sorted(touched) if t in state.themes]
    if live:
        relabel(live, top_n=engine.config.label_words)
    for theme_id in result.removed_themes:
        work.lineage.pop(theme_id, None)
    state.invalidate()
    work.rebuild_window(duplicates)
    return result


def confirm_duplicate(
    work: ProductWork,
    *,
    engine: ThemeEngine,
    ask: Ask,
    original: Ask,
    similarity: float | None,
    author_stays_in_source: bool,
    now: datetime,
) -> StepResult | str:
    """Count ``ask`` for ``original``'s theme (or pooled item); why not, as text, when it cannot.

    ``author_stays_in_source`` says whether the person has another suggestion in the theme
    ``ask`` leaves (then their author hash stays counted there).
    """
    state = work.themes
    source, member = _held(work, ask.suggestion_id, ask.theme_id)
    target, target_member = _held(work, original.suggestion_id, original.theme_id)
    if target is None:
        return f"Suggestion {original.suggestion_id!r}, which it may repeat, is in no theme or pool any more."
    if source is None:
        return f"Suggestion {ask.suggestion_id!r} is in no theme or pool of {state.product!r}."
    confirmed = Placement(
        ask.suggestion_id,
        None if target == "pool" else target,
        original.suggestion_id,
        "confirmed",
        similarity,
    )
    if source == target:
        result = StepResult(placements=[confirmed])
        if source != "pool":
            result.changed[source] = "review"
        return result
    if source != "pool" and target != "pool" and state.themes[source].member_count <= 1:
        result = merge_themes(work, engine=engine, source_ids=(source,), into_id=target, now=now)
        result.placements.append(confirmed)
        return result
    result = StepResult(placements=[confirmed])
    source_theme = state.themes.get(source) if source != "pool" else None
    if member is None:
        assert source_theme is not None  # a member not held anywhere has a theme (see _held)
        member = Member(
            suggestion_id=ask.suggestion_id,
            text=ask.text[: engine.config.max_text_chars],
            vector=source_theme.centroid(),
            created_at=ask.asked_at,
            last_seen=ask.asked_at,
            authors=[ask.author_hash],
            platforms={ask.platform: 1},
            weeks={iso_week(ask.asked_at): 1},
            engagement=ask.engagement,
            tone=ask.tone,
        )
        _stand_in_release(source_theme, ask)
    elif source == "pool":
        del state.pool[ask.suggestion_id]
    else:
        assert source_theme is not None
        source_theme.release(member)
    if source_theme is not None:
        if not author_stays_in_source:
            source_theme.authors.discard(ask.author_hash)
        result.changed[source_theme.theme_id] = "review"
    if target == "pool":
        assert target_member is not None
        _fold_into(target_member, member)
    else:
        state.themes[target].absorb(member, sample_size=engine.config.sample_per_theme)
        result.changed[target] = "review"
    relabel([state.themes[t] for t in result.changed if t in state.themes], top_n=engine.config.label_words)
    state.invalidate()
    return result
