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
from models.themes.pairs import REVIEW_FLOOR, close_pairs, kept_apart, pair_key
from models.themes.records import ThemeRecord
from models.themes.state import ProductThemes
from tests.unit.test_theme_commands import ENGINE, T0, build, command, themes_of
from tests.unit.test_themes import CFG, DIM, blob, ids, make_theme, member, tilted


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def direction(**axes: float) -> np.ndarray:
    v = np.zeros(8, dtype=np.float32)
    for name, value in axes.items():
        v[int(name[1:])] = value
    return unit(v)


# battery saver (axis 0) and low power mode at 0.70: each other's nearest theme. Trail filters at
# 0.62 from battery saver, but its own nearest theme is trail conditions (0.90 from it): battery
# saver's askers would go to low power mode, trail filters' to trail conditions.
CENTRES = {
    "t-battery": direction(a0=1.0),
    "t-lowpower": direction(a0=0.70, a1=float(np.sqrt(1 - 0.70**2))),
    "t-filters": direction(a0=0.62, a2=float(np.sqrt(1 - 0.62**2))),
}
CENTRES["t-conditions"] = unit(0.9 * CENTRES["t-filters"] + float(np.sqrt(1 - 0.81)) * direction(a3=1.0))
SIZES = {"t-battery": (5, 6), "t-lowpower": (9, 9), "t-filters": (7, 7), "t-conditions": (3, 3)}


def members(centres: dict[str, np.ndarray], per_theme: int = 3) -> tuple[list[str], np.ndarray]:
    """``per_theme`` asks around each centre, off it in directions of their own (dims 4-7)."""
    themes, rows = [], []
    for n, (theme_id, centre) in enumerate(centres.items()):
        for k in range(per_theme):
            off = np.zeros(8, dtype=np.float32)
            off[4 + (n + k) % 4] = 0.05
            themes.append(theme_id)
            rows.append(unit(centre + off))
    return themes, np.stack(rows)


def test_themes_whose_askers_are_each_other_s_neighbours_are_listed_once_with_the_larger_kept() -> None:
    themes, rows = members(CENTRES)
    pairs = close_pairs(themes, rows, sizes=SIZES)
    assert [(p.into, p.other) for p in pairs] == [("t-filters", "t-conditions"), ("t-lowpower", "t-battery")]
    assert [p.mutual for p in pairs] == [1.0, 1.0]  # most mutual first, then the closest centres
    assert pairs[1].similarity == pytest.approx(0.70, abs=0.01)
    assert close_pairs(themes, rows, sizes=SIZES, limit=1) == pairs[:1]
    # battery saver and trail filters: centres at 0.62, but neither's askers would go to the other
    everything = close_pairs(themes, rows, sizes=SIZES, mutual=0.0)
    (loose,) = [p for p in everything if {p.into, p.other} == {"t-battery", "t-filters"}]
    assert loose.similarity >= REVIEW_FLOOR and loose.mutual == 0.0


def test_centres_below_the_floor_are_not_listed_however_mutual() -> None:
    centres = {"a": direction(a0=1.0), "b": direction(a0=REVIEW_FLOOR - 0.02, a1=0.8)}
    themes, rows = members(centres)
    assert close_pairs(themes, rows, sizes={}) == []


def test_a_pair_kept_apart_is_not_listed_either_way_round() -> None:
    apart = kept_apart([("t-battery", "apart_from=t-lowpower")])
    assert apart == {pair_key("t-lowpower", "t-battery")}
    themes, rows = members(CENTRES)
    assert [(p.into, p.other) for p in close_pairs(themes, rows, sizes=SIZES, apart=apart)] == [
        ("t-filters", "t-conditions")
    ]


def test_many_themes_are_compared_in_blocks_and_give_the_same_pairs() -> None:
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(2_500, 8)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    ids = [f"t-{n}" for n in range(len(centres))]
    pairs = close_pairs(ids, centres, sizes={}, floor=0.95, mutual=0.0, limit=100_000)
    sims = centres @ centres.T
    rows, cols = np.nonzero(np.triu(sims >= 0.95, k=1))
    expected = {pair_key(ids[i], ids[j]) for i, j in zip(rows.tolist(), cols.tolist(), strict=True)}
    assert {pair_key(p.into, p.other) for p in pairs} == expected
    np.fill_diagonal(sims, -np.inf)
    nearest = sims.argmax(axis=1)  # one member a theme: its share is 1 for its nearest theme, else 0
    for pair in pairs:
        i, j = int(pair.into[2:]), int(pair.other[2:])
        assert pair.mutual == pytest.approx((int(nearest[i] == j) + int(nearest[j] == i)) / 2)


def test_close_pairs_needs_one_theme_per_member() -> None:
    themes, rows = members(CENTRES)
    with pytest.raises(ValueError, match="one theme id per member"):
        close_pairs(themes[:2], rows, sizes=SIZES)


def test_kept_apart_reads_every_theme_a_decision_names() -> None:
    decisions = [("t-1", "apart_from=t-2,t-3"), ("t-4", "title=Dark mode"), ("t-5", "apart_from=t-5")]
    assert kept_apart(decisions) == {pair_key("t-1", "t-2"), pair_key("t-1", "t-3")}


def test_a_decision_about_a_theme_merged_away_holds_for_the_theme_holding_its_asks() -> None:
    decisions = [("t-1", "apart_from=t-2"), ("t-3", "apart_from=t-4")]
    merged = {"t-1": "t-5", "t-5": "t-6", "t-4": "t-3", "t-7": "t-8", "t-8": "t-7"}  # a cycle ends
    assert kept_apart(decisions, merged) == {pair_key("t-6", "t-2")}  # t-3 and t-4 are one theme now
    assert len(kept_apart([("t-7", "apart_from=t-9")], merged)) == 1


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
