"""Impact/cost scoring: factors a PM can read, growth smoothing, quadrants, unknown cost."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.scoring import (
    FORMULA_VERSION,
    NEUTRAL_COST_POINTS,
    SIZE_POINTS,
    CostEstimate,
    Factor,
    QuadrantRules,
    ScoreBreakdown,
    ScoringWeights,
    ThemeDemand,
    TShirtSize,
    growth_windows,
    iso_week_label,
    rank_themes,
    score_theme,
)

AS_OF = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # Wednesday of 2026-W10


def weeks_back(count: int) -> list[str]:
    return [iso_week_label(AS_OF - timedelta(weeks=back)) for back in range(count)]


def demand(
    theme_id: str = "t1",
    *,
    authors: int = 10,
    mentions: int = 12,
    weekly: dict[str, int] | None = None,
    engagement: int = 40,
    negative: float | None = 0.2,
    urgent: int = 1,
) -> ThemeDemand:
    return ThemeDemand(
        theme_id=theme_id,
        distinct_authors=authors,
        mentions=mentions,
        weekly_counts=weekly or {},
        total_engagement=engagement,
        negative_share=negative,
        urgent_mentions=urgent,
        as_of=AS_OF,
    )


def factor(breakdown: ScoreBreakdown, name: str) -> Factor:
    return next(f for f in breakdown.factors if f.name == name)


def test_windows_are_the_four_weeks_ending_this_week_and_the_four_before() -> None:
    recent, previous = growth_windows(AS_OF)
    assert recent == ["2026-W10", "2026-W09", "2026-W08", "2026-W07"]
    assert previous == ["2026-W06", "2026-W05", "2026-W04", "2026-W03"]


def test_growth_from_zero_is_finite_and_smoothed() -> None:
    recent = weeks_back(1)[0]
    breakdown = score_theme(demand(weekly={recent: 3}), cost=CostEstimate.unknown())
    growth = factor(breakdown, "growth")
    assert growth.raw == pytest.approx((3 + 2) / (0 + 2))  # 2.5x, not infinity
    assert 0.0 < growth.normalized < 1.0
    assert math.isfinite(breakdown.impact)


def test_flat_or_falling_demand_adds_no_growth() -> None:
    weeks = weeks_back(8)
    falling = {week: (1 if index < 4 else 5) for index, week in enumerate(weeks)}
    flat = dict.fromkeys(weeks, 2)
    assert factor(score_theme(demand(weekly=falling), cost=CostEstimate.unknown()), "growth").normalized == 0
    assert factor(score_theme(demand(weekly=flat), cost=CostEstimate.unknown()), "growth").normalized == 0


def test_weeks_outside_the_windows_are_ignored() -> None:
    old = iso_week_label(AS_OF - timedelta(weeks=20))
    breakdown = score_theme(demand(weekly={old: 500}), cost=CostEstimate.unknown())
    assert factor(breakdown, "growth").raw == pytest.approx(1.0)


def test_contributions_sum_to_impact_and_explain_it() -> None:
    breakdown = score_theme(demand(), cost=CostEstimate(size=TShirtSize.S))
    assert {f.name for f in breakdown.factors} == {
        "distinct_authors",
        "mentions",
        "growth",
        "engagement",
        "urgency",
        "negative_tone",
    }
    assert sum(f.contribution for f in breakdown.factors) == pytest.approx(breakdown.impact)
    authors = factor(breakdown, "distinct_authors")
    assert authors.raw == 10
    assert authors.normalized == pytest.approx(math.log1p(10) / math.log1p(100))
    assert authors.weight == 0.35


def test_more_people_never_lowers_impact() -> None:
    few = score_theme(demand(authors=5), cost=CostEstimate.unknown())
    many = score_theme(demand(authors=50), cost=CostEstimate.unknown())
    assert many.impact > few.impact


def test_log_scaled_factors_saturate_at_one() -> None:
    breakdown = score_theme(
        demand(authors=10**6, mentions=10**7, engagement=10**9), cost=CostEstimate.unknown()
    )
    for name in ("distinct_authors", "mentions", "engagement"):
        assert factor(breakdown, name).normalized == 1.0


def test_unknown_tone_adds_nothing_and_is_flagged() -> None:
    breakdown = score_theme(demand(negative=None), cost=CostEstimate(points=2))
    assert factor(breakdown, "negative_tone").contribution == 0.0
    assert "negative_share unknown" in breakdown.notes


def test_sizes_map_to_documented_points() -> None:
    assert [SIZE_POINTS[size] for size in TShirtSize] == [1, 2, 3, 5, 8]
    assert CostEstimate(size=TShirtSize.L).story_points == 5
    assert CostEstimate(points=13).story_points == 13
    with pytest.raises(ValueError):
        CostEstimate(size=TShirtSize.S, points=3)
    with pytest.raises(ValueError):
        CostEstimate(points=0)


def test_unknown_cost_assumes_size_m_and_is_never_a_quick_win() -> None:
    strong = demand(authors=500, mentions=900, engagement=5000, urgent=300, negative=0.9)
    unknown = score_theme(strong, cost=CostEstimate.unknown())
    medium = score_theme(strong, cost=CostEstimate(size=TShirtSize.M))
    assert unknown.cost_assumed and unknown.cost_points_used == NEUTRAL_COST_POINTS
    assert unknown.priority == pytest.approx(medium.priority)
    assert unknown.quadrant == "unknown_cost" and not unknown.hot_plan
    assert medium.quadrant == "quick_win" and medium.hot_plan


def test_higher_cost_lowers_priority_not_impact() -> None:
    cheap = score_theme(demand(), cost=CostEstimate(size=TShirtSize.XS))
    dear = score_theme(demand(), cost=CostEstimate(size=TShirtSize.XL))
    assert cheap.impact == dear.impact
    assert cheap.priority > dear.priority >= 0.5 * dear.impact  # the dearest keeps half its impact


def test_absolute_quadrants_when_scored_alone() -> None:
    strong = demand(authors=300, mentions=400, engagement=3000, urgent=100, negative=0.8)
    weak = demand(authors=1, mentions=1, engagement=0, urgent=0, negative=0.0)
    assert score_theme(strong, cost=CostEstimate(size=TShirtSize.S)).quadrant == "quick_win"
    assert score_theme(strong, cost=CostEstimate(size=TShirtSize.XL)).quadrant == "big_bet"
    assert score_theme(weak, cost=CostEstimate(size=TShirtSize.S)).quadrant == "fill_in"
    assert score_theme(weak, cost=CostEstimate(size=TShirtSize.L)).quadrant == "money_pit"


def test_rank_uses_the_products_own_percentile() -> None:
    # a small product: nobody reaches the absolute threshold, but its top themes are still its top
    breakdowns = [
        score_theme(
            demand(f"t{n}", authors=n, mentions=n, engagement=n, urgent=0, negative=None),
            cost=CostEstimate(size=TShirtSize.S),
        )
        for n in range(1, 9)
    ]
    assert all(b.quadrant == "fill_in" for b in breakdowns)
    ranked = rank_themes(breakdowns)
    assert [b.rank for b in ranked] == list(range(1, 9))
    assert ranked[0].theme_id == "t8"
    assert all(b.threshold_basis == "percentile" for b in ranked)
    hot = {b.theme_id for b in ranked if b.hot_plan}
    assert hot == {"t7", "t8"}  # the top quarter of 8


def test_rank_floor_keeps_tiny_products_from_having_hot_noise() -> None:
    breakdowns = [
        score_theme(
            demand(f"t{n}", authors=1, mentions=1, engagement=0, urgent=0, negative=None),
            cost=CostEstimate(size=TShirtSize.XS),
        )
        for n in range(6)
    ]
    ranked = rank_themes(breakdowns, rules=QuadrantRules(high_impact_floor=0.5))
    assert not any(b.hot_plan for b in ranked)


def test_rank_with_few_themes_uses_the_absolute_threshold() -> None:
    ranked = rank_themes([score_theme(demand(), cost=CostEstimate(points=1))])
    assert ranked[0].threshold_basis == "absolute"


def test_breakdown_is_json_serializable() -> None:
    breakdown = rank_themes([score_theme(demand(negative=None), cost=CostEstimate.unknown())])[0]
    data = json.loads(json.dumps(breakdown.to_dict()))
    assert data["formula_version"] == FORMULA_VERSION
    assert data["quadrant"] == "unknown_cost"
    assert data["cost"] == {"size": None, "points": None, "story_points": None}
    assert len(data["factors"]) == 6


def test_invalid_inputs_fail_loudly() -> None:
    with pytest.raises(ValueError):
        ThemeDemand("t", 1, 1, {}, 0, None, 0, datetime(2026, 3, 4))  # naive
    with pytest.raises(ValueError):
        demand(negative=1.5)
    with pytest.raises(ValueError):
        ScoringWeights(distinct_authors=-1)


@given(
    authors=st.integers(0, 10**6),
    mentions=st.integers(0, 10**6),
    engagement=st.integers(0, 10**9),
    urgent=st.integers(0, 10**6),
    negative=st.none() | st.floats(0, 1),
    counts=st.lists(st.integers(0, 10**5), min_size=8, max_size=8),
    points=st.none() | st.integers(1, 100),
)
def test_scores_stay_in_range(
    authors: int,
    mentions: int,
    engagement: int,
    urgent: int,
    negative: float | None,
    counts: list[int],
    points: int | None,
) -> None:
    weekly = dict(zip(weeks_back(8), counts, strict=True))
    breakdown = score_theme(
        demand(
            authors=authors,
            mentions=mentions,
            engagement=engagement,
            urgent=min(urgent, mentions),
            negative=negative,
            weekly=weekly,
        ),
        cost=CostEstimate(points=points),
    )
    assert 0.0 <= breakdown.impact <= 1.0
    assert 0.0 <= breakdown.priority <= breakdown.impact
    assert all(0.0 <= f.normalized <= 1.0 for f in breakdown.factors)
    json.dumps(breakdown.to_dict())


def test_a_new_bar_moves_the_impact_side_of_a_quadrant_and_keeps_its_cost_side() -> None:
    from models.scoring import with_impact

    assert with_impact("fill_in", high_impact=True) == "quick_win"
    assert with_impact("quick_win", high_impact=False) == "fill_in"
    assert with_impact("money_pit", high_impact=True) == "big_bet"
    assert with_impact("big_bet", high_impact=False) == "money_pit"
    assert with_impact("unknown_cost", high_impact=True) == "unknown_cost"


def test_a_mixed_theme_counts_its_people_at_its_agreements_share() -> None:
    """Below the bar, people and mentions count at agreement / bar; the notes say so."""
    base = demand(authors=100, mentions=120)
    full = score_theme(base, cost=CostEstimate.unknown())
    bag = score_theme(replace(base, agreement=0.25), cost=CostEstimate.unknown())
    half = score_theme(demand(authors=50, mentions=60), cost=CostEstimate.unknown())
    assert bag.impact < full.impact and bag.priority < full.priority
    for name in ("distinct_authors", "mentions"):
        assert factor(bag, name).normalized == pytest.approx(factor(half, name).normalized)
    assert factor(bag, "distinct_authors").raw == 100  # the real count stays the raw value
    assert factor(bag, "distinct_authors").note.startswith("100 people, counted as 50.0: a mixed theme")
    assert factor(bag, "mentions").note.startswith("120 mentions, counted as 60.0")
    assert "mixed theme: people and mentions counted at 50%" in bag.notes
    assert math.isclose(sum(f.contribution for f in bag.factors), bag.impact)
    for name in ("growth", "engagement", "urgency", "negative_tone"):
        assert factor(bag, name) == factor(full, name)


@pytest.mark.parametrize("agreement", [None, 0.5, 0.8, 1.0])
def test_a_theme_of_one_idea_or_unknown_agreement_counts_in_full(agreement: float | None) -> None:
    base = demand(authors=40, mentions=50)
    scored = score_theme(replace(base, agreement=agreement), cost=CostEstimate.unknown())
    assert scored == score_theme(base, cost=CostEstimate.unknown())
    assert not any("mixed" in note for note in scored.notes)


def test_the_share_is_continuous_at_the_bar_and_falls_with_agreement() -> None:
    base = demand(authors=60, mentions=70)
    impacts = [score_theme(replace(base, agreement=a), cost=CostEstimate.unknown()).impact
               for a in (0.1, 0.2, 0.3, 0.4, 0.4999, 0.5)]
    assert impacts == sorted(impacts) and impacts[0] < impacts[-1]
    assert impacts[-1] - impacts[-2] < 1e-4


def test_the_bar_is_a_weight_setting_and_zero_turns_it_off() -> None:
    bag = replace(demand(authors=60, mentions=70), agreement=0.2)
    off = score_theme(bag, cost=CostEstimate.unknown(), weights=ScoringWeights(mixed_agreement=0.0))
    assert off.impact == score_theme(demand(authors=60, mentions=70), cost=CostEstimate.unknown()).impact
    stricter = score_theme(bag, cost=CostEstimate.unknown(), weights=ScoringWeights(mixed_agreement=0.8))
    assert stricter.impact < score_theme(bag, cost=CostEstimate.unknown()).impact
    with pytest.raises(ValueError, match="mixed_agreement"):
        ScoringWeights(mixed_agreement=1.5)
    with pytest.raises(ValueError, match="agreement"):
        replace(bag, agreement=-0.1)


def test_the_formula_is_version_two() -> None:
    assert FORMULA_VERSION == "impact-cost/2"
    assert score_theme(demand(), cost=CostEstimate.unknown()).formula_version == "impact-cost/2"
