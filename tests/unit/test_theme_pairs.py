"""Themes that may be one idea: the pairs listed (:mod:`models.themes.pairs`), and a product
manager keeping a pair apart (the ``keep_apart`` command)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from models.lifecycle import ThemeLifecycle
from models.theme_commands import apply_theme_command
from models.themes.engine import ThemeEngine
from models.themes.events import ThemeMerged
from models.themes.pairs import REVIEW_FLOOR, ThemePair, close_pairs, kept_apart, pair_key
from models.themes.records import ThemeRecord
from models.themes.state import ProductThemes
from tests.unit.test_theme_commands import ENGINE, T0, build, command, themes_of
from tests.unit.test_themes import CFG, DIM, blob, ids, make_theme, member, tilted


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def at_cosine(cos: float) -> np.ndarray:
    """A unit vector at cosine ``cos`` from the first axis (in the plane of the first two)."""
    return unit(cos, float(np.sqrt(1 - cos * cos)), 0.0)


# "battery saver" and "low power mode" at 0.70; "trail filters" alone; "dark mode" far from all
IDS = ["t-battery", "t-lowpower", "t-filters", "t-dark"]
CENTRES = np.stack([unit(1, 0, 0), at_cosine(0.70), unit(0, 0, 1), unit(-1, 0, 0)])
SIZES = {"t-battery": (5, 6), "t-lowpower": (9, 9), "t-filters": (7, 7), "t-dark": (20, 22)}


def test_pairs_at_the_review_floor_are_listed_once_with_the_larger_theme_kept() -> None:
    pairs = close_pairs(IDS, CENTRES, sizes=SIZES)
    expected = ThemePair(into="t-lowpower", other="t-battery", similarity=pytest.approx(0.70, abs=1e-4))
    assert pairs == [expected]


def test_pairs_below_the_floor_are_not_listed_and_closest_come_first() -> None:
    centres = np.stack([unit(1, 0, 0), at_cosine(REVIEW_FLOOR - 0.01), at_cosine(0.9), unit(0, 0, 1)])
    pairs = close_pairs(["a", "b", "c", "d"], centres, sizes={})
    assert [(p.into, p.other) for p in pairs] == [("a", "c"), ("b", "c")]  # a-b at 0.59: not listed
    assert pairs[0].similarity > pairs[1].similarity
    assert close_pairs(["a", "b", "c", "d"], centres, sizes={}, limit=1) == pairs[:1]


def test_a_pair_kept_apart_is_not_listed_either_way_round() -> None:
    apart = kept_apart([("t-battery", "apart_from=t-lowpower")])
    assert apart == {pair_key("t-lowpower", "t-battery")}
    assert close_pairs(IDS, CENTRES, sizes=SIZES, apart=apart) == []


def test_kept_apart_reads_every_theme_a_decision_names() -> None:
    decisions = [("t-1", "apart_from=t-2,t-3"), ("t-4", "title=Dark mode"), ("t-5", "apart_from=t-5")]
    assert kept_apart(decisions) == {pair_key("t-1", "t-2"), pair_key("t-1", "t-3")}


def test_many_themes_are_compared_in_blocks_and_give_the_same_pairs() -> None:
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(2_500, 8)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    ids = [f"t-{n}" for n in range(len(centres))]
    pairs = close_pairs(ids, centres, sizes={}, floor=0.95, limit=15)
    sims = centres @ centres.T
    rows, cols = np.nonzero(np.triu(sims >= 0.95, k=1))
    hits = [(float(sims[i, j]), i, j) for i, j in zip(rows, cols, strict=True)]
    best = sorted(hits, key=lambda h: -h[0])[:15]
    assert [pair.similarity for pair in pairs] == [pytest.approx(s, abs=1e-4) for s, _, _ in best]
    assert [pair_key(p.into, p.other) for p in pairs] == [pair_key(ids[i], ids[j]) for _, i, j in best]


def test_close_pairs_needs_one_centre_per_theme() -> None:
    with pytest.raises(ValueError, match="one centre per theme"):
        close_pairs(IDS[:2], CENTRES, sizes=SIZES)


def test_keeping_two_themes_apart_is_recorded_on_both_and_changes_no_clustering() -> None:
    work, members = build()
    dark, export = themes_of(work)
    samples = {tid: [m.suggestion_id for m in record.sample] for tid, record in work.themes.themes.items()}
    now = T0 + timedelta(days=3)
    result = apply_theme_command(work, ThemeLifecycle(), command("keep_apart", dark, source_ids=[export]),
                                 engine=ENGINE, member_of=members.get, now=now)
    assert result.outcome.accepted
    details = {(c.theme_id, c.kind, c.detail) for c in result.outcome.changes}
    assert details == {
        (dark, "keep_apart", f"apart_from={export}"), (export, "keep_apart", f"apart_from={dark}")
    }
    assert kept_apart([(c.theme_id, c.detail) for c in result.outcome.changes]) == {pair_key(dark, export)}
    assert {tid: [m.suggestion_id for m in r.sample] for tid, r in work.themes.themes.items()} == samples
    assert (work.themes.themes[dark].apart, work.themes.themes[export].apart) == ({export}, {dark})
    assert result.step.changed == {dark: "keep_apart", export: "keep_apart"}  # both records are stored
    assert all(result.lifecycle.themes[tid].status == "new" for tid in (dark, export))


@pytest.mark.parametrize("others", [["self"], ["t-unknown"], ["other", "other"]])
def test_keeping_apart_from_itself_an_unknown_or_a_repeated_theme_is_refused(others: list[str]) -> None:
    work, members = build()
    dark, export = themes_of(work)
    names = {"self": dark, "other": export}
    ids = [names.get(other, other) for other in others]
    result = apply_theme_command(work, ThemeLifecycle(), command("keep_apart", dark, source_ids=ids),
                                 engine=ENGINE, member_of=members.get, now=T0 + timedelta(days=3))
    assert not result.outcome.accepted and result.outcome.code == "invalid_pair"


def test_a_theme_merged_away_cannot_be_kept_apart() -> None:
    work, members = build()
    dark, export = themes_of(work)
    now = T0 + timedelta(days=3)
    merged = apply_theme_command(work, ThemeLifecycle(), command("merge", dark, source_ids=[export]),
                                 engine=ENGINE, member_of=members.get, now=now)
    assert merged.outcome.accepted
    late = apply_theme_command(work, merged.lifecycle, command("keep_apart", dark, 2, source_ids=[export]),
                               engine=ENGINE, member_of=members.get, now=now)
    assert late.outcome.code == "invalid_pair"
    on_merged = apply_theme_command(work, merged.lifecycle,
                                    command("keep_apart", export, 3, source_ids=[dark]),
                                    engine=ENGINE, member_of=members.get, now=now)
    assert on_merged.outcome.code == "merged_theme"


def test_a_keep_apart_command_needs_the_other_themes() -> None:
    with pytest.raises(ValueError, match="keep_apart command needs source_ids"):
        command("keep_apart", "t-1")


def close_themes() -> tuple[ThemeEngine, ProductThemes]:
    """"old" and "near" with centres at 0.88 (merged by a re-cluster at 0.85), "far" apart; no
    cluster is large enough for HDBSCAN, so only the centroid rule acts.
    """
    engine = ThemeEngine(replace(CFG, min_cluster_size=50, merge_similarity=0.85))
    state = ProductThemes(product="app", dim=DIM)
    state.themes["old"] = make_theme("old", [member(i, tilted(1.0, i)) for i in range(6)])
    state.themes["near"] = make_theme("near", [member(100 + i, tilted(0.88, 100 + i)) for i in range(4)])
    state.themes["far"] = make_theme("far", [member(200 + i, blob(2, 200 + i)) for i in range(6)])
    return engine, state


def test_a_re_cluster_never_merges_themes_a_person_kept_apart() -> None:
    engine, state = close_themes()
    engine.keep_apart(state, theme_id="near", other_ids=("old", "gone"))
    assert (state.themes["old"].apart, state.themes["near"].apart) == ({"near"}, {"old"})
    stored = ThemeRecord.from_dict(json.loads(json.dumps(state.themes["near"].to_dict())))
    assert stored.apart == {"old"}
    state, events = engine.recluster(state, now=T0, new_id=ids())
    assert not [e for e in events if isinstance(e, ThemeMerged)]
    assert set(state.themes) == {"old", "near", "far"}

    _, fresh = close_themes()  # the same themes, not kept apart: merged
    fresh, events = engine.recluster(fresh, now=T0, new_id=ids())
    assert [e for e in events if isinstance(e, ThemeMerged)] == [ThemeMerged("app", ("near",), "old", T0)]


def test_a_person_s_merge_still_applies_and_what_holds_the_asks_stays_apart() -> None:
    engine, state = close_themes()
    engine.keep_apart(state, theme_id="near", other_ids=("far",))
    engine.merge_themes(state, source_ids=("near",), into_id="old", now=T0)
    assert set(state.themes) == {"old", "far"}
    assert (state.themes["old"].apart, state.themes["far"].apart) == ({"far"}, {"old"})
    engine.keep_apart(state, theme_id="old", other_ids=("far",))
    engine.merge_themes(state, source_ids=("far",), into_id="old", now=T0)  # a person changed their mind
    assert set(state.themes) == {"old"} and state.themes["old"].apart == set()
