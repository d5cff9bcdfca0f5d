"""The long tail: two or three people asking the same thing found an emerging theme."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from contracts.events import ThemeChanged, ThemeStatus
from models.themes import (
    Member,
    ProductThemes,
    Suggestion,
    SuggestionPlaced,
    ThemeConfig,
    ThemeCreated,
    ThemeEngine,
    ThemeMerged,
)
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


def test_a_version_1_or_2_theme_snapshot_reads_as_version_3() -> None:
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
    assert snapshot.schema_version == 3 and snapshot.status is ThemeStatus.ACTIVE
    assert snapshot.agreement is None
    emerging = ThemeChanged.model_validate({**old, "schema_version": 2, "status": "emerging"})
    assert emerging.status is ThemeStatus.EMERGING and emerging.agreement is None
    with pytest.raises(ValueError, match="agreement"):
        ThemeChanged.model_validate({**old, "schema_version": 3, "agreement": 1.5})


def test_a_theme_too_small_for_a_picked_title_is_named_by_its_central_ask() -> None:
    from models.themes.labels import _fallback_title

    assert _fallback_title("@trailmate Please add offline maps! I hike a lot") == "Please add offline maps"
    long = "please let me export every single one of my recorded hikes as GPX files"
    assert _fallback_title(long) == "please let me export every single one of…"
    assert "http" not in _fallback_title("see https://example.com/x please add maps")


def between(a: int, b: int, index: int, cosine_a: float) -> np.ndarray:
    """A unit vector in the plane of axes ``a`` and ``b`` at ``cosine_a`` to ``a``, slightly off it."""
    v = np.zeros(DIM, dtype=np.float32)
    v[a] = cosine_a
    v[b] = float(np.sqrt(1 - cosine_a**2))
    v[(a + b + index) % DIM] += 0.05
    return (v / np.linalg.norm(v)).astype(np.float32)


def test_an_ask_near_a_theme_founded_in_the_same_recluster_joins_it_then() -> None:
    # Two people ask for one thing (cosine ~0.9); a third asks for it in other words (cosine ~0.55
    # to their centre): too far for an emerging pair, close enough to join the theme they found.
    engine = ThemeEngine(CFG)
    state = ProductThemes(product="app", dim=DIM)
    new_id = Ids()
    loose = between(0, 3, 9, cosine_a=0.55)
    for i, vector in enumerate([reworded(0, 0, 0.95), reworded(0, 1, 0.95), loose, reworded(9, 3)]):
        state, _ = engine.add_suggestion(state, ask(i, vector), now=T0, new_id=new_id)
    state, events = engine.recluster(state, now=T0, new_id=new_id)
    (theme_id,) = state.themes
    assert state.themes[theme_id].holds("s2")
    assert set(state.pool) == {"s3"}
    placed = [e for e in events if getattr(e, "suggestion_id", None) == "s2"]
    assert placed  # the join is an event like any other placement

    without = ThemeEngine(dataclasses.replace(CFG, settle_after_emerging=False))
    state = ProductThemes(product="app", dim=DIM)
    for i, vector in enumerate([reworded(0, 0, 0.95), reworded(0, 1, 0.95), loose, reworded(9, 3)]):
        state, _ = without.add_suggestion(state, ask(i, vector), now=T0, new_id=Ids())
    state, _ = without.recluster(state, now=T0, new_id=Ids())
    assert set(state.pool) == {"s2", "s3"}


def two_pairs(centre_cosine: float) -> list[np.ndarray]:
    """Two pairs of asks around two centres at ``centre_cosine``, each ask off its centre in a
    direction of its own (so asks of different pairs agree less than the centres do).
    """
    a = np.zeros(DIM, dtype=np.float32)
    a[0] = 1.0
    b = np.zeros(DIM, dtype=np.float32)
    b[0], b[1] = centre_cosine, float(np.sqrt(1 - centre_cosine**2))
    out = []
    for i, centre in enumerate([a, a, b, b]):
        v = centre.copy()
        v[2 + i] = float(np.sqrt(0.7))
        out.append((v / np.linalg.norm(v)).astype(np.float32))
    return out


def test_emerging_themes_of_one_idea_in_far_apart_wordings_merge() -> None:
    # Within a pair cosine 0.59, across the pairs 0.53: complete linkage at 0.55 founds two
    # emerging themes, whose centres agree (0.67) and whose four asks all sit near the joint centre.
    engine = ThemeEngine(CFG)
    state = ProductThemes(product="app", dim=DIM)
    new_id = Ids()
    vectors = two_pairs(0.9)
    pairs = np.stack(vectors) @ np.stack(vectors).T
    assert pairs[0, 1] >= CFG.emerging_threshold > pairs[0, 2]
    for i, vector in enumerate(vectors):
        state, _ = engine.add_suggestion(state, ask(i, vector), now=T0, new_id=new_id)
    state, events = engine.recluster(state, now=T0, new_id=new_id)
    (theme,) = state.themes.values()
    assert theme.member_count == 4 and theme.authors.count() == 4 and not state.pool
    assert [e for e in events if isinstance(e, ThemeMerged)]

    apart = ThemeEngine(dataclasses.replace(CFG, merge_emerging=False))
    state = ProductThemes(product="app", dim=DIM)
    for i, vector in enumerate(vectors):
        state, _ = apart.add_suggestion(state, ask(i, vector), now=T0, new_id=Ids())
    state, _ = apart.recluster(state, now=T0, new_id=Ids())
    assert sorted(t.member_count for t in state.themes.values()) == [2, 2]


def test_emerging_themes_of_two_ideas_stay_apart() -> None:
    # Centres at cosine 0.6: each pair agrees within itself, the two are different ideas.
    engine = ThemeEngine(CFG)
    state = ProductThemes(product="app", dim=DIM)
    new_id = Ids()
    for i, vector in enumerate(two_pairs(0.6)):
        state, _ = engine.add_suggestion(state, ask(i, vector), now=T0, new_id=new_id)
    state, _ = engine.recluster(state, now=T0, new_id=new_id)
    assert sorted(t.member_count for t in state.themes.values()) == [2, 2]


def one_theme_of_seven(engine: ThemeEngine) -> tuple[ProductThemes, Ids, str]:
    """A product whose first re-cluster founded one theme of seven asks near axis 3."""
    state = ProductThemes(product="app", dim=DIM)
    new_id = Ids()
    for i in range(7):
        state, _ = engine.add_suggestion(state, ask(i, reworded(3, i, 0.95)), now=T0, new_id=new_id)
    state, _ = engine.recluster(state, now=T0, new_id=new_id)
    (established,) = state.themes
    return state, new_id, established


def test_an_ask_waits_for_its_paraphrase_rather_than_joining_a_theme_it_resembles_less() -> None:
    # A theme of seven asks near axis 3; two people then ask one other thing in near-identical
    # words (cosine ~0.97), each at ~0.56 to the theme: they found their own theme.
    engine = ThemeEngine(CFG)
    state, new_id, established = one_theme_of_seven(engine)
    pair = [between(0, 3, 7 + k, cosine_a=0.83) for k in range(2)]
    assert float(pair[0] @ pair[1]) >= CFG.join_threshold
    to_theme = float(pair[0] @ state.themes[established].centroid())
    assert CFG.reassign_threshold <= to_theme < float(pair[0] @ pair[1])
    for i, vector in enumerate(pair, start=7):
        state, _ = engine.add_suggestion(state, ask(i, vector), now=T0, new_id=new_id)
    assert {"s7", "s8"} <= set(state.pool)
    state, _ = engine.recluster(state, now=T0, new_id=new_id)
    assert not state.themes[established].holds("s7") and not state.themes[established].holds("s8")
    (pair_theme,) = (t for tid, t in state.themes.items() if tid != established)
    assert pair_theme.holds("s7") and pair_theme.holds("s8")

    hasty = ThemeEngine(dataclasses.replace(CFG, wait_for_partner=False))
    state = ProductThemes(product="app", dim=DIM)
    for i in range(7):
        state, _ = hasty.add_suggestion(state, ask(i, reworded(3, i, 0.95)), now=T0, new_id=new_id)
    state, _ = hasty.recluster(state, now=T0, new_id=new_id)
    for i, vector in enumerate(pair, start=7):
        state, _ = hasty.add_suggestion(state, ask(i, vector), now=T0, new_id=new_id)
    state, _ = hasty.recluster(state, now=T0, new_id=new_id)
    assert len(state.themes) == 1 and next(iter(state.themes.values())).holds("s7")



def test_an_ask_whose_paraphrase_joins_a_theme_joins_one_too_rather_than_waiting_alone() -> None:
    # Two asks pooled before a theme near axis 3 was founded (as when a product's first re-cluster
    # founds its themes): one at 0.90 to the theme, its paraphrase (0.85 to it) at 0.77. The first
    # joins the theme; the second waited for it to found a theme together, which it no longer can:
    # it joins its nearest theme in the same re-cluster, not at the next one (which may never come).
    engine = ThemeEngine(CFG)
    state, new_id, established = one_theme_of_seven(engine)
    rng = np.random.default_rng(11)
    side, other = rng.normal(0, 1, (2, DIM)).astype(np.float32)
    side[3], other[3] = 0.0, 0.0
    side /= np.linalg.norm(side)
    other -= (other @ side) * side
    other /= np.linalg.norm(other)
    axis = np.zeros(DIM, dtype=np.float32)
    axis[3] = 1.0
    near = (0.9 * axis + float(np.sqrt(1 - 0.81)) * side).astype(np.float32)
    paraphrase = 0.85 * near + float(np.sqrt(1 - 0.85**2)) * other
    paraphrase = (paraphrase / np.linalg.norm(paraphrase)).astype(np.float32)
    centre = state.themes[established].centroid()
    assert CFG.reassign_threshold <= float(paraphrase @ centre) < float(paraphrase @ near)
    assert float(near @ centre) > float(paraphrase @ near) >= CFG.join_threshold
    for i, vector in ((7, paraphrase), (8, near)):
        member = Member.from_suggestion(ask(i, vector), max_text_chars=CFG.max_text_chars)
        state.pool[member.suggestion_id] = member
        state.added_since_recluster += 1
    state, events = engine.recluster(state, now=T0, new_id=new_id)
    assert not state.pool
    assert state.themes[established].holds("s7") and state.themes[established].holds("s8")
    assert {e.suggestion_id for e in events if isinstance(e, SuggestionPlaced)} == {"s7", "s8"}

def test_asks_in_another_language_found_no_theme_but_join_one_they_come_close_to() -> None:
    # Two Spanish asks at cosine ~0.9 of each other (MiniLM groups such asks by their shared words,
    # "sería genial"), and a German ask close to an English theme's idea.
    engine = ThemeEngine(CFG)
    state = ProductThemes(product="app", dim=DIM)
    new_id = Ids()
    texts = ["Sería genial un modo oscuro", "Estaría genial poder exportar rutas", "Please add GPX export",
             "Can you add GPX export?", "GPX-Export wäre klasse, bitte nachrüsten"]
    vectors = [reworded(5, 0, 0.95), reworded(5, 1, 0.95), reworded(0, 2, 0.95), reworded(0, 3, 0.95),
               reworded(0, 4, 0.7)]
    for i, (text, vector) in enumerate(zip(texts, vectors, strict=True)):
        suggestion = dataclasses.replace(ask(i, vector), text=text)
        state, _ = engine.add_suggestion(state, suggestion, now=T0, new_id=new_id)
    state, _ = engine.recluster(state, now=T0, new_id=new_id)
    (theme_id,) = state.themes  # the English pair founds; the Spanish pair does not
    assert state.themes[theme_id].holds("s2") and state.themes[theme_id].holds("s3")
    assert state.themes[theme_id].holds("s4")  # the German ask joins the theme it is close to
    assert set(state.pool) == {"s0", "s1"}

    founding = ThemeEngine(dataclasses.replace(CFG, other_languages_found=True))
    state = ProductThemes(product="app", dim=DIM)
    for i, (text, vector) in enumerate(zip(texts, vectors, strict=True)):
        suggestion = dataclasses.replace(ask(i, vector), text=text)
        state, _ = founding.add_suggestion(state, suggestion, now=T0, new_id=Ids())
    state, _ = founding.recluster(state, now=T0, new_id=Ids())
    assert len(state.themes) == 2 and not state.pool
