"""A product manager places an ask in a theme (the ``place`` command): an ask in no theme, or a
stray another theme holds, moves to the theme whose idea it asks for and stays there."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from contracts.events import DuplicateKind, SuggestionThemed
from models.lifecycle import ThemeLifecycle
from models.theme_commands import apply_theme_command
from models.themes.records import Suggestion, ThemeRecord
from models.themes.workflow import Placement, ProductWork
from tests.unit.test_theme_commands import ENGINE, T0, build, command, themes_of, vector

NOW = T0 + timedelta(days=3)


def with_alone_ask(work: ProductWork, members: dict[str, SuggestionThemed]) -> str:
    """An ask far from both themes ("a watch app", axis 2): it waits in the pool, in no theme."""
    sid = "x:alone"
    at = T0 + timedelta(days=2)
    ENGINE.add_suggestion(
        work.themes, Suggestion(sid, "acme", "x:walker", "x", at, "a watch app please", vector(2, 0)),
        now=at, new_id=work.new_id,
    )
    assert work.themes.locate(sid) == "pool"
    members[sid] = members["x:0-0"].model_copy(update={
        "suggestion_id": sid, "theme_id": None, "author_id": "walker", "text": "a watch app please",
        "comment_id": "alone",
    })
    return sid


def place(work: ProductWork, members: dict[str, SuggestionThemed], theme_id: str, sid: str, n: int = 1,
          lifecycle: ThemeLifecycle | None = None):  # type: ignore[no-untyped-def]
    return apply_theme_command(work, lifecycle or ThemeLifecycle(),
                               command("place", theme_id, n, suggestion_id=sid, reason="same idea"),
                               engine=ENGINE, member_of=members.get, now=NOW)


def test_an_ask_in_no_theme_placed_in_a_theme_counts_its_person_there() -> None:
    work, members = build()
    dark, _ = themes_of(work)
    sid = with_alone_ask(work, members)
    people = work.themes.themes[dark].authors.count()
    result = place(work, members, dark, sid)
    assert result.outcome.accepted, result.outcome
    assert [(c.theme_id, c.kind, c.detail) for c in result.outcome.changes] == [
        (dark, "place", f"from=alone, suggestion={sid}")
    ]
    theme = work.themes.themes[dark]
    assert sid not in work.themes.pool and theme.holds(sid) and theme.pinned == {sid}
    assert theme.authors.count() == people + 1
    assert result.step.placements == [Placement(sid, dark)]
    assert set(result.step.changed) == {dark}


def test_a_stray_moves_out_of_its_theme_and_both_histories_name_it() -> None:
    work, members = build()
    dark, export = themes_of(work)
    before = (work.themes.themes[dark].member_count, work.themes.themes[export].member_count)
    result = place(work, members, dark, "x:1-0")
    assert result.outcome.accepted, result.outcome
    assert {(c.theme_id, c.detail) for c in result.outcome.changes} == {
        (dark, f"from={export}, suggestion=x:1-0"), (export, f"suggestion=x:1-0, to={dark}"),
    }
    assert (work.themes.themes[dark].member_count, work.themes.themes[export].member_count) == (
        before[0] + 1, before[1] - 1
    )
    assert work.themes.locate("x:1-0") == dark and not work.themes.themes[export].holds("x:1-0")
    assert set(result.step.changed) == {dark, export}


def test_a_re_cluster_leaves_placed_asks_where_a_person_put_them() -> None:
    # three asks of "export" placed in "dark" are a group a re-cluster would move back as one
    strays = ("x:1-0", "x:1-1", "x:1-2")
    work, members = build()
    dark, export = themes_of(work)
    lifecycle = ThemeLifecycle()
    for n, sid in enumerate(strays, start=1):
        result = place(work, members, dark, sid, n, lifecycle)
        assert result.outcome.accepted, result.outcome
        lifecycle = result.lifecycle
    assert work.themes.themes[dark].pinned == set(strays)
    work.themes, _ = ENGINE.recluster(work.themes, now=NOW + timedelta(hours=1), new_id=work.new_id)
    assert [work.themes.locate(sid) for sid in strays] == [dark] * 3

    control, _ = build()  # the same moves without the pins: the re-cluster sends them back
    for sid in strays:
        held = next(m for m in control.themes.themes[export].sample if m.suggestion_id == sid)
        control.themes.themes[export].release(held)
        control.themes.themes[dark].absorb(held, sample_size=ENGINE.config.sample_per_theme)
    control.themes.invalidate()
    control.themes, _ = ENGINE.recluster(control.themes, now=NOW + timedelta(hours=1), new_id=control.new_id)
    assert [control.themes.locate(sid) for sid in strays] == [export] * 3


def test_the_pin_is_stored_and_follows_a_merge() -> None:
    work, members = build()
    dark, export = themes_of(work)
    sid = with_alone_ask(work, members)
    placed = place(work, members, dark, sid)
    stored = ThemeRecord.from_dict(json.loads(json.dumps(work.themes.themes[dark].to_dict())))
    assert stored.pinned == {sid}
    merged = apply_theme_command(work, placed.lifecycle, command("merge", export, 2, source_ids=[dark]),
                                 engine=ENGINE, member_of=members.get, now=NOW)
    assert merged.outcome.accepted
    assert work.themes.themes[export].pinned == {sid}


def test_a_stray_the_theme_no_longer_samples_moves_by_its_counts() -> None:
    work, members = build()
    dark, export = themes_of(work)
    sid = "x:1-late"  # a member the agent's table places in "export", not in its bounded sample
    members[sid] = members["x:1-0"].model_copy(update={"suggestion_id": sid, "theme_id": export,
                                                        "author_id": "latecomer"})
    centre = work.themes.themes[dark].centroid()
    counts = (work.themes.themes[dark].member_count, work.themes.themes[export].member_count)
    work.themes.themes[export].member_count += 1  # it was counted there
    result = place(work, members, dark, sid)
    assert result.outcome.accepted, result.outcome
    assert work.themes.themes[dark].member_count == counts[0] + 1
    assert work.themes.themes[export].member_count == counts[1]
    assert float(work.themes.themes[dark].centroid() @ centre) > 0.999  # stands in at the centre
    assert result.step.placements == [Placement(sid, dark)]


@pytest.mark.parametrize(
    ("sid", "target", "code"),
    [("x:nobody", "dark", "unknown_suggestion"), ("x:0-1", "dark", "no_change"),
     ("x:again", "export", "repeat")],
)
def test_placing_an_unknown_ask_one_already_there_or_a_repeat_is_refused(
    sid: str, target: str, code: str
) -> None:
    work, members = build()
    names = dict(zip(("dark", "export"), themes_of(work), strict=True))
    members["x:again"] = members["x:0-0"].model_copy(update={
        "suggestion_id": "x:again", "duplicate_of": "x:0-0", "duplicate_kind": DuplicateKind.EXACT,
    })
    samples = {tid: [m.suggestion_id for m in r.sample] for tid, r in work.themes.themes.items()}
    result = place(work, members, names[target], sid)
    assert not result.outcome.accepted and result.outcome.code == code, result.outcome
    assert {tid: [m.suggestion_id for m in r.sample] for tid, r in work.themes.themes.items()} == samples


def test_a_place_command_needs_the_ask() -> None:
    with pytest.raises(ValueError, match="place command needs suggestion_id"):
        command("place", "t-1")


def test_a_person_s_split_carries_the_pin_with_the_ask() -> None:
    work, members = build()
    dark, _ = themes_of(work)
    placed = place(work, members, dark, "x:1-0")
    split = apply_theme_command(
        work, placed.lifecycle,
        command("split", dark, 2, parts=[{"new_theme_id": "t-part", "member_ids": ["x:1-0", "x:0-1"]}]),
        engine=ENGINE, member_of=members.get, now=NOW,
    )
    assert split.outcome.accepted, split.outcome
    assert (work.themes.themes["t-part"].pinned, work.themes.themes[dark].pinned) == ({"x:1-0"}, set())
