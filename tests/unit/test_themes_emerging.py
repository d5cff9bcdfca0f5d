"""The long tail: two or three people asking the same thing found an emerging theme."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from contracts.events import ThemeChanged, ThemeStatus
from models.themes import ProductThemes, Suggestion, ThemeConfig, ThemeCreated, ThemeEngine
from models.themes.emerging import emerging_groups, is_emerging

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DIM = 16
# HDBSCAN needs min_cluster_size rows of one idea: none of these small groups reach it.
CFG = ThemeConfig(
    min_cluster_size=5, min_samples=4, pca_dims=4, recluster_min_new=10_000, sample_per_theme=12
)


class Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"t{self.n}"


def reworded(axis: int, index: int, cosine: float = 0.85) -> np.ndarray:
    """A unit vector at about ``cosine`` to ``axis`` (the same ask in other words)."""
    rng = np.random.default_rng(7000 + 100 * axis + index)
    v = np.zeros(DIM, dtype=np.float32)
    v[axis] = 1.0
    side = rng.normal(0, 1, DIM).astype(np.float32)
    side[axis] = 0.0
    side /= np.linalg.norm(side)
    v = cosine * v + float(np.sqrt(1 - cosine**2)) * side
    return (v / np.linalg.norm(v)).astype(np.float32)


def ask(i: int, vector: np.ndarray, author: str | None = None) -> Suggestion:
    at = T0 + timedelta(minutes=i)
    return Suggestion(f"s{i}", "app", author or f"user{i}", "x", at, f"ask {i}", vector)


def test_two_people_asking_the_same_thing_found_an_emerging_theme() -> None:
    engine = ThemeEngine(CFG)
    state = ProductThemes(product="app", dim=DIM)
    new_id = Ids()
    for i, vector in enumerate([reworded(0, 0), reworded(0, 1), reworded(5, 2), reworded(9, 3)]):
        state, _ = engine.add_suggestion(state, ask(i, vector), now=T0, new_id=new_id)
    assert len(state.pool) == 4  # below the online join: nothing to join yet
    state, events = engine.recluster(state, now=T0, new_id=new_id)
    created = [e for e in events if isinstance(e, ThemeCreated)]
    assert [sorted(e.member_ids) for e in created] == [["s0", "s1"]]
    theme = state.themes[created[0].theme_id]
    assert theme.member_count == 2 and theme.authors.count() == 2
    assert is_emerging(theme, CFG)
    assert set(state.pool) == {"s2", "s3"}  # alone: nobody else asked anything like them


def test_one_person_asking_twice_is_not_a_theme() -> None:
    engine = ThemeEngine(CFG)
    state = ProductThemes(product="app", dim=DIM)
    for i in range(2):
        state, _ = engine.add_suggestion(state, ask(i, reworded(0, i), author="same"), now=T0, new_id=Ids())
    state, events = engine.recluster(state, now=T0, new_id=Ids())
    assert not state.themes and set(state.pool) == {"s0", "s1"}
    assert not [e for e in events if isinstance(e, ThemeCreated)]


def test_an_emerging_theme_keeps_its_id_as_it_grows_into_a_full_theme() -> None:
    engine = ThemeEngine(CFG)
    state = ProductThemes(product="app", dim=DIM)
    new_id = Ids()
    for i in range(2):
        state, _ = engine.add_suggestion(state, ask(i, reworded(0, i)), now=T0, new_id=new_id)
    state, _ = engine.recluster(state, now=T0, new_id=new_id)
    (theme_id,) = state.themes
    for i in range(2, 2 + CFG.min_cluster_size):
        state, _ = engine.add_suggestion(state, ask(i, reworded(0, i, cosine=0.97)), now=T0, new_id=new_id)
        state, _ = engine.recluster(state, now=T0, new_id=new_id)
    assert set(state.themes) == {theme_id}
    assert state.themes[theme_id].member_count == 2 + CFG.min_cluster_size
    assert not state.pool
    assert not is_emerging(state.themes[theme_id], CFG)


def test_a_group_needs_every_pair_to_agree_not_a_chain() -> None:
    # a ~ b and b ~ c at cosine 0.8, but a and c only at cosine ~0.28: no group of three.
    a = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    angle = np.arccos(0.8)
    b = np.array([np.cos(angle), np.sin(angle), 0.0], dtype=np.float32)
    c = np.array([np.cos(2 * angle), np.sin(2 * angle), 0.0], dtype=np.float32)
    groups = emerging_groups(np.stack([a, b, c]), [["p1"], ["p2"], ["p3"]], threshold=0.75, min_authors=2)
    assert all(len(g) == 2 for g in groups) and len(groups) == 1
    assert emerging_groups(np.stack([a, b]), [["p1"], ["p1"]], threshold=0.75, min_authors=2) == []
    with_duplicate = [["p1"], ["p1", "p2"]]  # a second person's duplicate counts them
    assert emerging_groups(np.stack([a, b]), with_duplicate, threshold=0.75, min_authors=2) == [[0, 1]]


def test_a_version_1_theme_snapshot_reads_as_version_2() -> None:
    old = {
        "schema_version": 1,
        "theme_id": "t1",
        "product": "app",
        "status": "active",
        "member_count": 3,
        "mention_count": 3,
        "author_count": 3,
        "change": "created",
        "changed_at": T0.isoformat(),
    }
    snapshot = ThemeChanged.model_validate(old)
    assert snapshot.schema_version == 2 and snapshot.status is ThemeStatus.ACTIVE
    emerging = ThemeChanged.model_validate({**old, "schema_version": 2, "status": "emerging"})
    assert emerging.status is ThemeStatus.EMERGING



def test_a_theme_too_small_for_a_picked_title_is_named_by_its_central_ask() -> None:
    from models.themes.labels import _fallback_title

    assert _fallback_title("@trailmate Please add offline maps! I hike a lot") == "Please add offline maps"
    long = "please let me export every single one of my recorded hikes as GPX files"
    assert _fallback_title(long) == "please let me export every single one of…"
    assert "http" not in _fallback_title("see https://example.com/x please add maps")
