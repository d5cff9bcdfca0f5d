"""Impact against cost: why a theme ranks where it does.

``score_theme`` turns a theme's demand (who asked, how often, how fast it grows, how loud and
how urgent) and its cost estimate into a :class:`ScoreBreakdown` whose every factor carries
its raw value, its normalized value in ``[0, 1]``, its weight and its contribution to the
impact score, so a product manager can read why a theme sits where it sits.

Impact (``[0, 1]``) is the weighted mean of six normalized factors (see :class:`ScoringWeights`):

- ``distinct_authors``: ``log(1 + a) / log(1 + authors_saturation)``, capped at 1;
- ``mentions``: the same with ``mentions_saturation``;
- ``growth``: mentions in the 4 ISO weeks ending with the week of ``as_of`` (the current,
  partial week included, so a surge shows at once) against the 4 weeks before, smoothed
  ``(recent + k) / (previous + k)`` with ``k = growth_smoothing`` so ``0 -> 3`` reads 2.5x,
  not infinity; ``log2(ratio) / log2(growth_saturation)`` clipped to ``[0, 1]``: flat or
  declining demand adds nothing, ``growth_saturation``-fold growth (default 4x) adds all;
- ``engagement``: ``log(1 + likes + replies + shares) / log(1 + engagement_saturation)``;
- ``urgency``: ``urgent_mentions / mentions`` (a mention is urgent by its comment's words,
  :func:`models.tone.is_urgent`);
- ``negative_tone``: ``negative_share``, the share of rated mentions with 1 or 2 stars
  (:class:`models.tone.Tone`); unknown tone (no mention rated) adds nothing and is flagged.

A theme's people are one change's demand only as far as they ask for one idea. When its
``agreement`` (the share of its held members near its centre, ``ThemeChanged.agreement``) is below
``mixed_agreement`` (default :data:`contracts.events.MIXED_AGREEMENT`, 0.5: a "mixed" theme, a grab
bag of several ideas), its distinct authors and mentions count at ``agreement / mixed_agreement``
before they are scaled: 100 people of a theme at agreement 0.25 count as 50, so a grab bag does not
top the board on numbers no single change would answer. The share is 1 at and above the bar (a
theme of one idea, or of unknown agreement, counts in full) and continuous at it; both factors'
notes say it, and ``mixed_agreement`` 0 turns it off.

Cost is story points (t-shirt sizes map through :data:`SIZE_POINTS`), normalized
``log(1 + points) / log(1 + cost_saturation_points)``. Priority, the ranking key, is
``impact * (1 - cost_penalty * cost)``: with the default penalty 0.5 the dearest theme keeps
half its impact.

Quadrants (:class:`QuadrantRules`). "High cost" is absolute (``points >= high_cost_min_points``,
default 5 = size L) because estimates are in the team's own units. "High impact" is relative:
:func:`rank_themes` takes the ``high_impact_percentile`` (default 75th) of the impact scores
over the product's themes, because raw demand differs by orders of magnitude between products
and a PM compares a theme with the product's other themes; an absolute floor
(``high_impact_floor``) keeps a product whose themes are all tiny from having "hot" noise, and
with fewer than ``min_themes_for_percentile`` themes the absolute ``absolute_high_impact``
threshold is used (as :func:`score_theme` does alone). A theme with unknown cost is scored with
the neutral assumption of a size-M cost (3 points, flagged ``cost_assumed``) so it still ranks,
but its quadrant is ``unknown_cost`` and it is never ``hot_plan``: a quick win is not declared
on a guess. ``hot_plan`` is exactly the quick wins.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np

from contracts.events import MIXED_AGREEMENT
from models.dates import iso_week

logger = logging.getLogger(__name__)

FORMULA_VERSION = "impact-cost/2"
"""Version 2 counts a mixed theme's people and mentions at its agreement's share (version 1 counted
them in full)."""

Quadrant = Literal["quick_win", "big_bet", "fill_in", "money_pit", "unknown_cost"]


class TShirtSize(enum.StrEnum):
    """A rough size estimate."""

    XS = "XS"
    S = "S"
    M = "M"
    L = "L"
    XL = "XL"


SIZE_POINTS: Mapping[TShirtSize, int] = {
    TShirtSize.XS: 1,
    TShirtSize.S: 2,
    TShirtSize.M: 3,
    TShirtSize.L: 5,
    TShirtSize.XL: 8,
}
"""Story points per t-shirt size (the Fibonacci steps most teams use): XS 1, S 2, M 3, L 5, XL 8."""

NEUTRAL_COST_POINTS = SIZE_POINTS[TShirtSize.M]
"""Points assumed for an unknown cost: the middle size, so it neither helps nor hurts the rank much."""


@dataclass(frozen=True)
class CostEstimate:
    """A cost: a t-shirt ``size``, or story ``points`` (> 0), or neither (unknown)."""

    size: TShirtSize | None = None
    points: int | None = None

    def __post_init__(self) -> None:
        if self.size is not None and self.points is not None:
            raise ValueError("give a size or points, not both")
        if self.points is not None and self.points <= 0:
            raise ValueError("story points must be positive")

    @classmethod
    def unknown(cls) -> CostEstimate:
        return cls()

    @property
    def known(self) -> bool:
        """True when a size or points were given."""
        return self.size is not None or self.points is not None

    @property
    def story_points(self) -> int | None:
        """Points of the estimate (sizes through :data:`SIZE_POINTS`); None when unknown."""
        if self.size is not None:
            return SIZE_POINTS[self.size]
        return self.points

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size.value if self.size else None,
            "points": self.points,
            "story_points": self.story_points,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CostEstimate:
        """Inverse of :meth:`to_dict`."""
        size = data.get("size")
        return cls(size=TShirtSize(size) if size else None, points=data.get("points"))


@dataclass(frozen=True)
class ThemeDemand:
    """What a theme's askers amount to at ``as_of`` (timezone-aware).

    ``weekly_counts`` maps ISO weeks (``"2026-W09"``) to mentions that week; ``total_engagement``
    is likes + replies + shares summed over the mentions; ``negative_share`` is the share
    (0..1) of mentions in a negative tone, None when unknown; ``rated_mentions`` how many mentions
    that share was taken over (store ratings), None when the caller does not say. ``agreement``
    (0..1) is the share of the theme's held members near its centre, None when not measured.
    """

    theme_id: str
    distinct_authors: int
    mentions: int
    weekly_counts: Mapping[str, int]
    total_engagement: int
    negative_share: float | None
    urgent_mentions: int
    as_of: datetime
    rated_mentions: int | None = None
    agreement: float | None = None

    def __post_init__(self) -> None:
        if self.agreement is not None and not 0.0 <= self.agreement <= 1.0:
            raise ValueError("agreement must be in [0, 1]")
        if self.as_of.tzinfo is None or self.as_of.utcoffset() is None:
            raise ValueError("as_of must be timezone-aware")
        if min(self.distinct_authors, self.mentions, self.total_engagement, self.urgent_mentions) < 0:
            raise ValueError("counts must be non-negative")
        if self.rated_mentions is not None and self.rated_mentions < 0:
            raise ValueError("rated_mentions must be non-negative")
        if self.negative_share is not None and not 0.0 <= self.negative_share <= 1.0:
            raise ValueError("negative_share must be in [0, 1]")


@dataclass(frozen=True)
class ScoringWeights:
    """Weights of the impact factors and the points where each factor saturates at 1.

    Defaults: distinct authors 0.35 (how many people, the strongest signal), mentions 0.15,
    growth 0.20, engagement 0.10, urgency 0.10, negative tone 0.10. Weights need not sum to 1:
    impact divides by their sum. Saturation: 100 distinct authors, 200 mentions, 4x growth,
    1,000 engagements, 13 story points (cost 1.0). ``growth_smoothing`` is added to both 4-week
    sums. ``cost_penalty`` (0..1) is the share of impact the dearest theme loses in priority.
    ``mixed_agreement`` (0..1): below this agreement a theme's people and mentions count at
    ``agreement / mixed_agreement`` (0 turns it off).
    """

    distinct_authors: float = 0.35
    mentions: float = 0.15
    growth: float = 0.20
    engagement: float = 0.10
    urgency: float = 0.10
    negative_tone: float = 0.10
    authors_saturation: int = 100
    mentions_saturation: int = 200
    growth_saturation: float = 4.0
    growth_smoothing: float = 2.0
    engagement_saturation: int = 1_000
    cost_saturation_points: int = 13
    cost_penalty: float = 0.5
    mixed_agreement: float = MIXED_AGREEMENT

    def __post_init__(self) -> None:
        weights = self.factor_weights()
        if min(weights.values()) < 0 or sum(weights.values()) <= 0:
            raise ValueError("weights must be non-negative with a positive sum")
        if self.growth_saturation <= 1 or self.growth_smoothing <= 0:
            raise ValueError("growth_saturation must exceed 1 and growth_smoothing be positive")
        if min(self.authors_saturation, self.mentions_saturation, self.engagement_saturation) < 1:
            raise ValueError("saturation points must be at least 1")
        if self.cost_saturation_points < 1 or not 0.0 <= self.cost_penalty <= 1.0:
            raise ValueError("cost_saturation_points >= 1 and cost_penalty in [0, 1]")
        if not 0.0 <= self.mixed_agreement <= 1.0:
            raise ValueError("mixed_agreement must be in [0, 1]")

    def factor_weights(self) -> dict[str, float]:
        """Factor name -> weight."""
        return {
            "distinct_authors": self.distinct_authors,
            "mentions": self.mentions,
            "growth": self.growth,
            "engagement": self.engagement,
            "urgency": self.urgency,
            "negative_tone": self.negative_tone,
        }


@dataclass(frozen=True)
class QuadrantRules:
    """Thresholds of the quadrants; see the module docstring for why each is relative or absolute.

    ``high_impact_percentile`` (0..100) over the product's impact scores, never below
    ``high_impact_floor``; ``absolute_high_impact`` when fewer than ``min_themes_for_percentile``
    themes are ranked; a cost is high from ``high_cost_min_points`` story points.
    """

    high_impact_percentile: float = 75.0
    high_impact_floor: float = 0.15
    absolute_high_impact: float = 0.45
    min_themes_for_percentile: int = 5
    high_cost_min_points: int = 5


DEFAULT_WEIGHTS = ScoringWeights()
DEFAULT_RULES = QuadrantRules()


@dataclass(frozen=True)
class Factor:
    """One impact factor: ``contribution = weight * normalized / sum(weights)``."""

    name: str
    raw: float
    normalized: float
    weight: float
    contribution: float
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "raw": self.raw,
            "normalized": self.normalized,
            "weight": self.weight,
            "contribution": self.contribution,
            "note": self.note,
        }


@dataclass(frozen=True)
class ScoreBreakdown:
    """A theme's score: impact (sum of factor contributions, 0..1), cost (0..1), priority, quadrant."""

    theme_id: str
    impact: float
    factors: tuple[Factor, ...]
    cost: CostEstimate
    cost_points_used: int
    cost_normalized: float
    cost_assumed: bool
    priority: float
    quadrant: Quadrant
    high_impact_threshold: float
    threshold_basis: Literal["absolute", "percentile"]
    as_of: datetime
    rank: int | None = None
    formula_version: str = FORMULA_VERSION
    notes: tuple[str, ...] = field(default=())

    @property
    def hot_plan(self) -> bool:
        """True for quick wins: high impact at low, known cost."""
        return self.quadrant == "quick_win"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (datetimes as ISO 8601)."""
        return {
            "theme_id": self.theme_id,
            "impact": self.impact,
            "factors": [factor.to_dict() for factor in self.factors],
            "cost": self.cost.to_dict(),
            "cost_points_used": self.cost_points_used,
            "cost_normalized": self.cost_normalized,
            "cost_assumed": self.cost_assumed,
            "priority": self.priority,
            "quadrant": self.quadrant,
            "hot_plan": self.hot_plan,
            "high_impact_threshold": self.high_impact_threshold,
            "threshold_basis": self.threshold_basis,
            "as_of": self.as_of.isoformat(),
            "rank": self.rank,
            "formula_version": self.formula_version,
            "notes": list(self.notes),
        }


def _log_scaled(value: float, saturation: float) -> float:
    return min(1.0, math.log1p(max(0.0, value)) / math.log1p(saturation))


iso_week_label = iso_week


def growth_windows(as_of: datetime) -> tuple[list[str], list[str]]:
    """The ISO weeks of the recent window (4 weeks ending with ``as_of``'s week) and the 4 before."""
    weeks = [iso_week_label(as_of - timedelta(weeks=back)) for back in range(8)]
    return weeks[:4], weeks[4:]


def growth_ratio(demand: ThemeDemand, *, smoothing: float) -> tuple[float, int, int]:
    """``(recent + smoothing) / (previous + smoothing)`` and the two 4-week mention sums."""
    recent_weeks, previous_weeks = growth_windows(demand.as_of)
    recent = sum(max(0, demand.weekly_counts.get(week, 0)) for week in recent_weeks)
    previous = sum(max(0, demand.weekly_counts.get(week, 0)) for week in previous_weeks)
    return (recent + smoothing) / (previous + smoothing), recent, previous


def _classify(*, high_impact: bool, cost: CostEstimate, rules: QuadrantRules) -> Quadrant:
    points = cost.story_points
    if points is None:
        return "unknown_cost"
    high_cost = points >= rules.high_cost_min_points
    if high_impact:
        return "big_bet" if high_cost else "quick_win"
    return "money_pit" if high_cost else "fill_in"


def with_impact(quadrant: Quadrant, *, high_impact: bool) -> Quadrant:
    """The quadrant of a theme classified ``quadrant`` once its impact is judged high or not
    against another bar: the cost side stays (a quick win and a fill-in are of low cost, a big bet
    and a money pit of high cost), and a theme without an estimate stays ``unknown_cost``.
    """
    if quadrant == "unknown_cost":
        return quadrant
    low_cost = quadrant in ("quick_win", "fill_in")
    if high_impact:
        return "quick_win" if low_cost else "big_bet"
    return "fill_in" if low_cost else "money_pit"


def agreement_multiplier(agreement: float | None, mixed_agreement: float) -> float:
    """The share of a theme's people and mentions that counts: ``agreement / mixed_agreement``
    below the bar, else 1 (and 1 when the agreement is unknown or the bar is 0).
    """
    if agreement is None or mixed_agreement <= 0.0 or agreement >= mixed_agreement:
        return 1.0
    return agreement / mixed_agreement


def _mixed_notes(demand: ThemeDemand, share: float, mixed_agreement: float) -> tuple[str, str]:
    """The notes of the people and mentions factors when a mixed theme counts them at ``share``
    (empty when it counts them in full).
    """
    if share >= 1.0:
        return "", ""
    people = "person" if demand.distinct_authors == 1 else "people"
    return (
        f"{demand.distinct_authors} {people}, counted as {demand.distinct_authors * share:.1f}: a mixed "
        f"theme, only {demand.agreement or 0.0:.0%} of its asks agree with its centre "
        f"(below {mixed_agreement:.0%})",
        f"{demand.mentions} mentions, counted as {demand.mentions * share:.1f} (a mixed theme)",
    )


def score_theme(
    demand: ThemeDemand,
    *,
    cost: CostEstimate,
    weights: ScoringWeights = DEFAULT_WEIGHTS,
    rules: QuadrantRules = DEFAULT_RULES,
) -> ScoreBreakdown:
    """Score one theme; its quadrant uses the absolute ``rules.absolute_high_impact`` threshold.

    :func:`rank_themes` re-classifies against the product's own impact distribution.
    """
    total_weight = sum(weights.factor_weights().values())
    ratio, recent, previous = growth_ratio(demand, smoothing=weights.growth_smoothing)
    growth_normalized = min(1.0, max(0.0, math.log2(ratio) / math.log2(weights.growth_saturation)))
    urgency_share = demand.urgent_mentions / demand.mentions if demand.mentions else 0.0
    notes: list[str] = []
    share = agreement_multiplier(demand.agreement, weights.mixed_agreement)
    authors_note, mentions_note = _mixed_notes(demand, share, weights.mixed_agreement)
    if share < 1.0:
        notes.append(f"mixed theme: people and mentions counted at {share:.0%}")
    raw_values: list[tuple[str, float, float, str]] = [
        ("distinct_authors", demand.distinct_authors,
         _log_scaled(demand.distinct_authors * share, weights.authors_saturation), authors_note),
        ("mentions", demand.mentions, _log_scaled(demand.mentions * share, weights.mentions_saturation),
         mentions_note),
        ("growth", ratio, growth_normalized,
         f"{recent} mentions in the last 4 weeks vs {previous} in the 4 before"),
        ("engagement", demand.total_engagement,
         _log_scaled(demand.total_engagement, weights.engagement_saturation), ""),
        ("urgency", urgency_share, min(1.0, urgency_share),
         f"{demand.urgent_mentions} of {demand.mentions} mentions urgent"),
    ]
    if demand.negative_share is None:
        raw_values.append(("negative_tone", 0.0, 0.0, "tone unknown: adds nothing"))
        notes.append("negative_share unknown")
    else:
        rated = demand.rated_mentions
        note = "" if rated is None else (
            f"{round(demand.negative_share * rated)} of {rated} rated "
            f"{'mention' if rated == 1 else 'mentions'} at 1 or 2 stars"
        )
        raw_values.append(("negative_tone", demand.negative_share, demand.negative_share, note))
    factor_weights = weights.factor_weights()
    factors = tuple(
        Factor(
            name=name,
            raw=float(raw),
            normalized=normalized,
            weight=factor_weights[name],
            contribution=factor_weights[name] * normalized / total_weight,
            note=note,
        )
        for name, raw, normalized, note in raw_values
    )
    impact = min(1.0, sum(factor.contribution for factor in factors))
    points = cost.story_points
    cost_assumed = points is None
    if points is None:
        points = NEUTRAL_COST_POINTS
        notes.append(f"cost unknown: assumed {NEUTRAL_COST_POINTS} points (size M)")
    cost_normalized = _log_scaled(points, weights.cost_saturation_points)
    priority = impact * (1.0 - weights.cost_penalty * cost_normalized)
    threshold = rules.absolute_high_impact
    return ScoreBreakdown(
        theme_id=demand.theme_id,
        impact=impact,
        factors=factors,
        cost=cost,
        cost_points_used=points,
        cost_normalized=cost_normalized,
        cost_assumed=cost_assumed,
        priority=priority,
        quadrant=_classify(high_impact=impact >= threshold, cost=cost, rules=rules),
        high_impact_threshold=threshold,
        threshold_basis="absolute",
        as_of=demand.as_of,
        notes=tuple(notes),
    )


def high_impact_threshold(
    impacts: Sequence[float], *, rules: QuadrantRules = DEFAULT_RULES
) -> tuple[float, Literal["absolute", "percentile"]]:
    """The impact score from which a theme counts as high impact among ``impacts`` (one product's)."""
    if len(impacts) < rules.min_themes_for_percentile:
        return rules.absolute_high_impact, "absolute"
    percentile = float(np.percentile(np.asarray(impacts, dtype=np.float64), rules.high_impact_percentile))
    return max(rules.high_impact_floor, percentile), "percentile"


def rank_themes(
    breakdowns: Sequence[ScoreBreakdown], *, rules: QuadrantRules = DEFAULT_RULES
) -> list[ScoreBreakdown]:
    """Re-classify one product's breakdowns against its own impacts; sorted by priority, ranks from 1.

    Ties in priority break by impact, then theme id, so the order is deterministic.
    """
    threshold, basis = high_impact_threshold([b.impact for b in breakdowns], rules=rules)
    reclassified = [
        replace(
            breakdown,
            quadrant=_classify(high_impact=breakdown.impact >= threshold, cost=breakdown.cost, rules=rules),
            high_impact_threshold=threshold,
            threshold_basis=basis,
        )
        for breakdown in breakdowns
    ]
    reclassified.sort(key=lambda b: (-b.priority, -b.impact, b.theme_id))
    ranked = [replace(breakdown, rank=index + 1) for index, breakdown in enumerate(reclassified)]
    logger.debug("ranked %d themes; high impact from %.3f (%s)", len(ranked), threshold, basis)
    return ranked
