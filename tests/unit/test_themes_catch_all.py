"""The catch-all guard: a theme whose members stop agreeing is split, recorded as a split."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from models.themes import ProductThemes, ThemeConfig, ThemeCreated, ThemeEngine, ThemeSplit
from models.themes.agreement import catch_all_split, disagreement
from models.themes.recluster import plan_recluster
from models.themes.records import Member, ThemeRecord
from models.themes.workflow import ProductWork, StepResult, _collect

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DIM = 16
# HDBSCAN at every size, with min_samples above any row count: it finds no cluster, so only the
# guard can split.
GUARD_ONLY = ThemeConfig(
    min_cluster_size=5, min_samples=500, pca_dims=4, sample_per_theme=48, small_clustering="hdbscan"
)


def idea(axis: int, index: int, cosine: float = 0.95) -> np.ndarray:
    rng = np.random.default_rng(100 * axis + index)
    v = np.zeros(DIM, dtype=np.float32)
    v[axis] = 1.0
    side = rng.normal(0, 1, DIM).astype(np.float32)
    side[axis] = 0.0
    side /= np.linalg.norm(side)
    v = cosine * v + float(np.sqrt(1 - cosine**2)) * side
    return (v / np.linalg.norm(v)).astype(np.float32)


def member(i: int, vector: np.ndarray) -> Member:
    at = T0 + timedelta(minutes=i)
    return Member(f"m{i}", f"ask {i}", vector, at, at, [f"user{i}"])


def catch_all() -> ThemeRecord:
    """20 asks of one idea and 12 of another, joined into one theme."""
    theme = ThemeRecord.empty(theme_id="mix", product="app", dim=DIM, at=T0, author_cap=100)
    for i in range(20):
        theme.absorb(member(i, idea(0, i)), sample_size=48)
    for i in range(20, 32):
        theme.absorb(member(i, idea(1, i)), sample_size=48)
    return theme


def test_a_catch_all_fails_the_guard_and_a_loose_single_idea_passes() -> None:
    mix = np.stack([m.vector for m in catch_all().sample])
    assert disagreement(mix, GUARD_ONLY.found_threshold) > GUARD_ONLY.max_disagreement
    part = catch_all_split(mix, GUARD_ONLY)
    assert part is not None and sorted(catch_all().sample[i].suggestion_id for i in part) == [
        f"m{i}" for i in range(20, 32)
    ]
    loose = np.stack([idea(0, i, cosine=0.55) for i in range(40)])  # one idea, worded loosely
    assert disagreement(loose, GUARD_ONLY.found_threshold) > GUARD_ONLY.max_disagreement
    assert catch_all_split(loose, GUARD_ONLY) is None
    tight = np.stack([idea(0, i) for i in range(40)])
    assert catch_all_split(tight, GUARD_ONLY) is None


def test_the_guard_acts_where_density_finds_nothing() -> None:
    theme = catch_all()
    vectors = np.stack([m.vector for m in theme.sample])
    plan = plan_recluster(vectors=vectors, owners=["mix"] * len(vectors), config=GUARD_ONLY)
    assert plan.n_clusters == 0
    assert plan.guarded == ["mix"] and plan.new_origins == ["mix"]


def test_a_catch_all_is_split_at_the_recluster_with_its_history() -> None:
    engine = ThemeEngine(GUARD_ONLY)
    work = ProductWork.new(product="app", dim=DIM)
    work.themes.themes["mix"] = catch_all()
    state: ProductThemes = work.themes
    _, events = engine.recluster(state, now=T0, new_id=work.new_id)
    splits = [e for e in events if isinstance(e, ThemeSplit)]
    assert len(splits) == 1 and splits[0].old_id == "mix"
    (new_id,) = splits[0].new_ids
    assert [e.theme_id for e in events if isinstance(e, ThemeCreated)] == [new_id]
    assert state.themes["mix"].member_count == 20
    assert state.themes[new_id].member_count == 12
    assert {m.suggestion_id for m in state.themes[new_id].sample} == {f"m{i}" for i in range(20, 32)}
    result = StepResult()
    _collect(work, events, result)
    assert work.lineage[new_id].split_from == "mix"
    assert result.changed[new_id] == "split" and result.changed["mix"] == "split"
    # Both halves now agree: the next re-cluster leaves them alone.
    _, again = engine.recluster(state, now=T0 + timedelta(hours=1), new_id=work.new_id)
    assert not [e for e in again if isinstance(e, ThemeSplit)]
