"""Which of a closing theme's askers a "shipped" closure thanks, held for a person, or leaves out.

:func:`select_askers` applies :mod:`models.closure_selection` to the member records of a theme
(and of the themes merged into it, duplicates included): the time rule first, then relevance
against what shipped, with the theme's sampled members as its centre and spread, contrasted with
the release's other changes and the product's other themes' centres. Vectors of asks
come from the theme's sample when it holds them, else from the embedder; what shipped is embedded
once. A declined closure, or one without an embedder, applies the time rule alone.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from contracts.events import SuggestionThemed, follows_original, repeating
from models.closure_selection import (
    RULE_AFTER_SHIPPING,
    RULE_DECLINED,
    RULE_NO_MODEL,
    RULE_THE_THEME,
    SAME_IDEA,
    AskJudgement,
    FloatMatrix,
    ThemeSpread,
    Verdict,
    WhatShipped,
    asked_before,
    embed_what_shipped,
    judge_relevance,
    placed_judgement,
    shipped_cutoff,
)
from models.embedding import Embedder, l2_normalize
from models.lifecycle import ClosureTrigger
from models.themes.workflow import ProductWork


@dataclass(frozen=True)
class AskerSelection:
    """The verdict on every ask of a closing theme: ``judged`` in the members' order, the
    cut-off of the time rule (None for a declined theme: no time rule) and the rule's summary.
    """

    judged: tuple[tuple[SuggestionThemed, AskJudgement], ...]
    cutoff: datetime | None
    rule: str
    shipped_lines: tuple[str, ...] | None = None
    """The release note's lines about the theme, what the texts say shipped: empty when no line
    but the title itself is about the theme, None when relevance was not judged."""

    def with_verdict(self, verdict: Verdict) -> list[SuggestionThemed]:
        """The member records judged ``verdict``."""
        return [member for member, judgement in self.judged if judgement.verdict is verdict]

    def count(self, verdict: Verdict) -> int:
        return sum(1 for _, judgement in self.judged if judgement.verdict is verdict)


def with_repeats(asks: Collection[str], members: Sequence[SuggestionThemed]) -> set[str]:
    """``asks`` (suggestion ids) and those of ``members`` that live beside one of them
    (:func:`~contracts.events.follows_original`, transitively): a repeat goes where what it repeats
    goes, a product manager's placement included.
    """
    followers = {
        m.suggestion_id: m.duplicate_of
        for m in members
        if m.duplicate_of is not None
        and follows_original(m.duplicate_kind.value if m.duplicate_kind else None, m.theme_id)
    }
    return set(asks) | repeating(followers, asks)


def with_placements(selection: AskerSelection, placed: Collection[str]) -> AskerSelection:
    """``selection`` with the asks a product manager placed in the theme (``placed``: suggestion
    ids) thanked when asked before shipping (:func:`~models.closure_selection.placed_judgement`);
    a decision about their person (include or exclude) applies after it and wins.
    """
    if selection.cutoff is None or not placed:
        return selection
    placed = with_repeats(placed, [member for member, _ in selection.judged])
    judged = tuple(
        (member, placed_judgement(judgement) if member.suggestion_id in placed else judgement)
        for member, judgement in selection.judged
    )
    if judged == selection.judged:
        return selection
    return replace(selection, judged=judged)


def select_askers(
    members: Sequence[SuggestionThemed],
    *,
    trigger: ClosureTrigger,
    title: str,
    work: ProductWork,
    embedder: Embedder | None,
    named: bool = True,
) -> AskerSelection:
    """The verdicts for ``members`` of the closure ``trigger`` (see the module's docstring);
    ``named`` False: ``title`` is the theme's own, picked from its asks, not a product manager's
    (:func:`~models.closure_selection.embed_what_shipped`).
    """
    if trigger.outcome == "declined":  # declining thanks nobody for a change: everyone hears why
        judged = tuple((m, AskJudgement(m.suggestion_id, Verdict.THANKED, RULE_DECLINED)) for m in members)
        return AskerSelection(judged, None, RULE_DECLINED)
    cutoff = shipped_cutoff(trigger.release.date if trigger.release else None, trigger.at)
    before = [m for m in members if asked_before(m.asked_at, cutoff)]
    verdicts = {
        m.suggestion_id: AskJudgement(m.suggestion_id, Verdict.AFTER_SHIPPING, RULE_AFTER_SHIPPING)
        for m in members
        if not asked_before(m.asked_at, cutoff)
    }
    rule = f"asked by {cutoff.isoformat()}; " + RULE_NO_MODEL
    lines: tuple[str, ...] | None = None
    if before and embedder is not None:
        relevance, rule, shipped = _relevance(
            before, trigger=trigger, title=title, work=work, embedder=embedder, named=named
        )
        verdicts.update((judgement.suggestion_id, judgement) for judgement in relevance)
        rule = f"asked by {cutoff.isoformat()}; {rule}"
        lines = tuple(text for text in shipped.texts[1:] if _plain(text) != _plain(title))
    else:
        verdicts.update(
            (m.suggestion_id, AskJudgement(m.suggestion_id, Verdict.THANKED, RULE_NO_MODEL)) for m in before
        )
    return AskerSelection(tuple((m, verdicts[m.suggestion_id]) for m in members), cutoff, rule, lines)


def _plain(text: str) -> str:
    return " ".join(text.strip("“”\"' .").lower().split())


def _relevance(
    asks: Sequence[SuggestionThemed],
    *,
    trigger: ClosureTrigger,
    title: str,
    work: ProductWork,
    embedder: Embedder,
    named: bool = True,
) -> tuple[list[AskJudgement], str, WhatShipped]:
    """Relevance verdicts of ``asks``, the bands used (a sentence) and what shipped."""
    stored = _sampled_vectors(work, {trigger.theme_id, *trigger.merged_theme_ids})
    missing = [m.text for m in asks if m.suggestion_id not in stored]
    fresh = iter(embedder.embed(missing)) if missing else iter(())
    ask_vectors = l2_normalize(
        np.stack([stored[m.suggestion_id] if m.suggestion_id in stored else next(fresh) for m in asks])
    )
    members = np.stack(list(stored.values())) if stored else ask_vectors
    centre = _theme_centre(work, trigger.theme_id, members)
    spread = ThemeSpread.of(l2_normalize(members), centre)
    note = trigger.release.note if trigger.release else None
    shipped = embed_what_shipped(title, note, centre, embedder.embed, spread=spread, named=named)
    judged = judge_relevance(
        suggestion_ids=[m.suggestion_id for m in asks], ask_vectors=ask_vectors,
        shipped_vectors=shipped.vectors, centre=centre, spread=spread,
        other_changes=shipped.other_vectors,
        other_centres=_other_centres(work, {trigger.theme_id, *trigger.merged_theme_ids}),
    )
    shown = "; ".join(f"“{text}”" for text in shipped.texts)
    if shipped.by_theme:
        shown += f" ({RULE_THE_THEME})"
    return judged, (
        f"relevance to {shown} (best cosine) against the theme's spread (members to centre: lowest "
        f"decile {spread.low:.3f}, width to the median {spread.width:.3f}): thanked at cosine >= "
        f"{spread.floor:.3f} and at most {spread.width:.3f} closer to the theme's centre, or, when what "
        f"shipped is at centre cosine >= {spread.whole:.3f} (the lowest decile, at most {SAME_IDEA}), as a "
        f"member at centre cosine >= "
        f"{spread.floor:.3f}; left out below {spread.floor - spread.width:.3f} or more than "
        f"{2 * spread.width:.3f} closer to the centre; held between (what shipped to the centre: "
        f"{_centre_cosine(shipped.vectors, centre):.3f}); a thanked ask is held when closer to another "
        f"change of the release ({len(shipped.other_vectors)} other note lines) than to what shipped, or "
        f"to another theme's centre than to its own and to what shipped"
    ), shipped


def _centre_cosine(shipped: FloatMatrix, centre: FloatMatrix) -> float:
    """The best cosine of what shipped to the theme's centre."""
    return float((np.asarray(shipped) @ np.asarray(centre)).max())


def _other_centres(work: ProductWork, theme_ids: set[str]) -> FloatMatrix:
    """The unit centres of the product's themes other than ``theme_ids`` ``(t, dim)``."""
    ids, centroids = work.themes.centroid_index()
    rows = [row for row, theme_id in enumerate(ids) if theme_id not in theme_ids]
    return np.asarray(centroids[rows], dtype=np.float32)


def _sampled_vectors(work: ProductWork, theme_ids: set[str]) -> dict[str, FloatMatrix]:
    """Vectors of the sampled and provisional members of ``theme_ids`` still in ``work``."""
    vectors: dict[str, FloatMatrix] = {}
    for theme_id in theme_ids:
        record = work.themes.themes.get(theme_id)
        if record is not None:
            for member in record.members:
                vectors[member.suggestion_id] = np.asarray(member.vector, dtype=np.float32)
    return vectors


def _theme_centre(work: ProductWork, theme_id: str, members: FloatMatrix) -> FloatMatrix:
    """The theme's unit centre: its record's centroid, else the mean of ``members``."""
    record = work.themes.themes.get(theme_id)
    if record is not None:
        centre: FloatMatrix = record.centroid()
        return centre
    mean: FloatMatrix = l2_normalize(np.asarray(members).mean(axis=0, keepdims=True))[0]
    return mean
