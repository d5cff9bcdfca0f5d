"""Theme lifecycle: legal transitions, merges and splits, idempotent commands, closures due."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.lifecycle import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    AnyCommand,
    AttachRelease,
    CommandApplied,
    CommandRefused,
    Decision,
    LifecycleStatus,
    Merge,
    ReleaseInfo,
    SetCost,
    SetStatus,
    Split,
    ThemeLifecycle,
    apply_command,
    closure_due,
    effective_status,
    merged_members,
    register_theme,
    successor,
)
from models.scoring import CostEstimate, TShirtSize

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RELEASE = ReleaseInfo(
    name="Acme",
    version="2.4.0",
    date=date(2026, 3, 10),
    link="https://acme.example/releases/2.4.0",
    note="Dark mode follows your system.",
)


def lifecycle(*theme_ids: str) -> ThemeLifecycle:
    state = ThemeLifecycle()
    for theme_id in theme_ids:
        state = register_theme(state, theme_id=theme_id)
    return state


class Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"cmd-{self.n}"


def status(command_id: str, theme_id: str, to: LifecycleStatus, reason: str = "") -> SetStatus:
    return SetStatus(
        command_id=command_id, theme_id=theme_id, actor="pm@acme", reason=reason, issued_at=T0, status=to
    )


def run(state: ThemeLifecycle, *commands: AnyCommand) -> tuple[ThemeLifecycle, list[Decision]]:
    outcomes = []
    for offset, command in enumerate(commands):
        state, outcome = apply_command(state, command, T0 + timedelta(minutes=offset))
        outcomes.append(outcome)
    return state, outcomes


def test_the_usual_path_records_who_when_why() -> None:
    state, outcomes = run(
        lifecycle("dark"),
        status("c1", "dark", LifecycleStatus.UNDER_REVIEW, "many asks this month"),
        status("c2", "dark", LifecycleStatus.PLANNED),
        status("c3", "dark", LifecycleStatus.IN_PROGRESS),
        status("c4", "dark", LifecycleStatus.SHIPPED),
    )
    assert all(isinstance(outcome, CommandApplied) for outcome in outcomes)
    theme = state.theme("dark")
    assert theme.status is LifecycleStatus.SHIPPED
    first = theme.history[0]
    assert (first.actor, first.reason, first.from_status, first.to_status) == (
        "pm@acme",
        "many asks this month",
        LifecycleStatus.NEW,
        LifecycleStatus.UNDER_REVIEW,
    )
    assert first.at == T0 and first.issued_at == T0
    assert [entry.to_status for entry in theme.history][-1] is LifecycleStatus.SHIPPED


def test_shipped_is_final() -> None:
    state, _ = run(lifecycle("dark"), status("c1", "dark", LifecycleStatus.SHIPPED))
    state, outcome = apply_command(state, status("c2", "dark", LifecycleStatus.PLANNED), T0)
    assert isinstance(outcome, CommandRefused) and outcome.code == "theme_closed"
    assert "final" in outcome.message
    assert state.theme("dark").status is LifecycleStatus.SHIPPED


def test_declining_needs_a_reason() -> None:
    state, outcome = apply_command(lifecycle("fax"), status("c1", "fax", LifecycleStatus.DECLINED, "  "), T0)
    assert isinstance(outcome, CommandRefused) and outcome.code == "reason_required"
    state, outcome = apply_command(
        state,
        status("c2", "fax", LifecycleStatus.DECLINED, "Fax support would need a telephony provider."),
        T0,
    )
    assert isinstance(outcome, CommandApplied)
    assert state.theme("fax").closure_reason.startswith("Fax support")


def test_unknown_theme_and_no_change_are_rejected() -> None:
    _, outcome = apply_command(lifecycle("a"), status("c1", "zzz", LifecycleStatus.PLANNED), T0)
    assert isinstance(outcome, CommandRefused) and outcome.code == "unknown_theme"
    _, outcome = apply_command(lifecycle("a"), status("c1", "a", LifecycleStatus.NEW), T0)
    assert isinstance(outcome, CommandRefused) and outcome.code == "no_change"


def test_merged_themes_follow_their_successor_and_take_no_commands() -> None:
    merge = Merge(
        command_id="m1",
        theme_id="dark",
        actor="pm",
        reason="same ask",
        issued_at=T0,
        source_ids=("night", "black"),
    )
    state, outcomes = run(
        lifecycle("dark", "night", "black"), merge, status("c2", "dark", LifecycleStatus.PLANNED)
    )
    assert all(isinstance(outcome, CommandApplied) for outcome in outcomes)
    assert state.theme("night").merged_into == "dark"
    assert effective_status(state, "night") is LifecycleStatus.PLANNED
    assert merged_members(state, "dark") == ("black", "night")
    _, outcome = apply_command(state, status("c3", "night", LifecycleStatus.SHIPPED), T0)
    assert isinstance(outcome, CommandRefused) and outcome.code == "merged_theme"
    assert "'dark'" in outcome.message


def test_merge_chains_resolve_transitively() -> None:
    state, _ = run(
        lifecycle("a", "b", "c"),
        Merge(command_id="m1", theme_id="b", actor="pm", issued_at=T0, source_ids=("a",)),
        Merge(command_id="m2", theme_id="c", actor="pm", issued_at=T0, source_ids=("b",)),
    )
    assert successor(state, "a") == "c"
    assert merged_members(state, "c") == ("a", "b")


@pytest.mark.parametrize(
    "sources",
    [(), ("dark",), ("night", "night"), ("missing",)],
)
def test_invalid_merges_are_rejected(sources: tuple[str, ...]) -> None:
    merge = Merge(command_id="m1", theme_id="dark", actor="pm", issued_at=T0, source_ids=sources)
    _, outcome = apply_command(lifecycle("dark", "night"), merge, T0)
    assert isinstance(outcome, CommandRefused) and outcome.code == "invalid_merge"


def test_merge_into_a_shipped_theme_is_rejected() -> None:
    state, _ = run(lifecycle("dark", "night"), status("c1", "dark", LifecycleStatus.SHIPPED))
    merge = Merge(command_id="m1", theme_id="dark", actor="pm", issued_at=T0, source_ids=("night",))
    _, outcome = apply_command(state, merge, T0)
    assert isinstance(outcome, CommandRefused) and outcome.code == "invalid_merge"


def test_split_creates_parts_with_the_decision_taken() -> None:
    state, _ = run(lifecycle("export"), status("c1", "export", LifecycleStatus.PLANNED))
    split = Split(
        command_id="s1",
        theme_id="export",
        actor="pm",
        reason="two different asks",
        issued_at=T0,
        parts=(("export-pdf", ("x:1", "x:2")), ("export-csv", ("x:3",))),
    )
    state, outcome = apply_command(state, split, T0)
    assert isinstance(outcome, CommandApplied)
    part = state.theme("export-pdf")
    assert part.status is LifecycleStatus.PLANNED and part.split_from == "export"
    assert part.history[0].detail["members"] == "x:1,x:2"
    assert state.theme("export").status is LifecycleStatus.PLANNED


@pytest.mark.parametrize(
    "parts",
    [(), (("export", ("x:1",)),), (("p", ("x:1",)), ("q", ("x:1",))), (("p", ()),), (("taken", ("x:1",)),)],
)
def test_invalid_splits_are_rejected(parts: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
    split = Split(command_id="s1", theme_id="export", actor="pm", issued_at=T0, parts=parts)
    _, outcome = apply_command(lifecycle("export", "taken"), split, T0)
    assert isinstance(outcome, CommandRefused) and outcome.code == "invalid_split"


def test_cost_and_release_are_recorded() -> None:
    state, outcomes = run(
        lifecycle("dark"),
        SetCost(
            command_id="c1", theme_id="dark", actor="eng", issued_at=T0, cost=CostEstimate(size=TShirtSize.S)
        ),
        AttachRelease(command_id="c2", theme_id="dark", actor="pm", issued_at=T0, release=RELEASE),
    )
    assert all(isinstance(outcome, CommandApplied) for outcome in outcomes)
    assert state.theme("dark").cost.story_points == 2
    assert state.theme("dark").release == RELEASE


def test_same_command_id_twice_reports_the_first_outcome() -> None:
    state, first = apply_command(lifecycle("dark"), status("c1", "dark", LifecycleStatus.PLANNED), T0)
    again_state, again = apply_command(
        state, status("c1", "dark", LifecycleStatus.PLANNED), T0 + timedelta(hours=1)
    )
    assert again == first and again_state == state
    # a rejection is reported again too, even if the command would now succeed
    state, rejected = apply_command(state, status("c2", "missing", LifecycleStatus.PLANNED), T0)
    state = register_theme(state, theme_id="missing")
    _, again = apply_command(state, status("c2", "missing", LifecycleStatus.PLANNED), T0)
    assert again == rejected


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        apply_command(lifecycle("a"), status("c1", "a", LifecycleStatus.PLANNED), datetime(2026, 3, 2))


def test_closure_due_when_shipped_with_release_key() -> None:
    before, _ = run(
        lifecycle("dark", "night"),
        Merge(command_id="m1", theme_id="dark", actor="pm", issued_at=T0, source_ids=("night",)),
        AttachRelease(command_id="r1", theme_id="dark", actor="pm", issued_at=T0, release=RELEASE),
    )
    assert closure_due(lifecycle("dark", "night"), lifecycle("dark", "night")) is None
    after, _ = apply_command(before, status("c1", "dark", LifecycleStatus.SHIPPED), T0)
    trigger = closure_due(before, after)
    assert trigger is not None
    assert trigger.closure_key == "closure:dark:2.4.0"
    assert trigger.outcome == "shipped" and trigger.release == RELEASE
    assert trigger.merged_theme_ids == ("night",)
    assert closure_due(after, after) is None


def test_ship_without_release_keys_none_and_decline_carries_the_reason() -> None:
    before = lifecycle("dark", "fax")
    after, _ = apply_command(before, status("c1", "dark", LifecycleStatus.SHIPPED), T0)
    trigger = closure_due(before, after)
    assert trigger is not None and trigger.closure_key == "closure:dark:none" and trigger.release is None
    later, _ = apply_command(after, status("c2", "fax", LifecycleStatus.DECLINED, "Needs a phone line."), T0)
    trigger = closure_due(after, later)
    assert trigger is not None and trigger.outcome == "declined" and trigger.reason == "Needs a phone line."
    assert trigger.closure_key == "closure:fax:none"


def test_release_can_be_attached_after_a_release_less_ship_without_a_second_closure() -> None:
    shipped, _ = run(lifecycle("dark"), status("c1", "dark", LifecycleStatus.SHIPPED))
    after, outcome = apply_command(
        shipped,
        AttachRelease(command_id="r1", theme_id="dark", actor="pm", issued_at=T0, release=RELEASE),
        T0,
    )
    assert isinstance(outcome, CommandApplied)
    assert closure_due(shipped, after) is None


# ---- properties over random command sequences ----------------------------------------------

THEMES = ["a", "b", "c", "d"]
LEGAL = {(before, after) for before in OPEN_STATUSES for after in LifecycleStatus if before is not after} | {
    (same, same) for same in LifecycleStatus if same is not LifecycleStatus.MERGED
}


@st.composite
def commands(draw: st.DrawFn) -> AnyCommand:
    command_id = f"c{draw(st.integers(0, 30))}"  # small range: ids repeat
    theme_id = draw(st.sampled_from(THEMES))
    common: dict[str, Any] = {
        "command_id": command_id,
        "theme_id": theme_id,
        "actor": "pm",
        "reason": draw(st.sampled_from(["", "because"])),
        "issued_at": T0,
    }
    kind = draw(st.sampled_from(["status", "status", "status", "cost", "release", "merge", "split"]))
    if kind == "status":
        return SetStatus(**common, status=draw(st.sampled_from(list(LifecycleStatus))))
    if kind == "cost":
        return SetCost(**common, cost=CostEstimate(points=draw(st.integers(1, 8))))
    if kind == "release":
        return AttachRelease(**common, release=replace(RELEASE, version=draw(st.sampled_from(["1", "2"]))))
    if kind == "merge":
        return Merge(**common, source_ids=tuple(draw(st.lists(st.sampled_from(THEMES), max_size=2))))
    new_id = f"n{draw(st.integers(0, 5))}"
    return Split(**common, parts=((new_id, ("s:1",)),))


@settings(max_examples=300, deadline=None)
@given(st.lists(commands(), max_size=25))
def test_no_command_sequence_reaches_an_illegal_state(sequence: list[AnyCommand]) -> None:
    state = lifecycle(*THEMES)
    closed_once: dict[str, int] = {}
    for step, command in enumerate(sequence):
        before = state
        state, _ = apply_command(state, command, T0 + timedelta(minutes=step))
        for theme_id, theme in state.themes.items():
            old = before.themes.get(theme_id)
            if old is not None:
                assert old.status is theme.status or (old.status, theme.status) in LEGAL
                if old.status in CLOSED_STATUSES or old.status is LifecycleStatus.MERGED:
                    assert theme.status is old.status  # final
            for entry in theme.history:
                assert (entry.from_status, entry.to_status) in LEGAL
            if theme.status is LifecycleStatus.MERGED:
                assert theme.merged_into in state.themes
                assert state.themes[successor(state, theme_id)].status is not LifecycleStatus.MERGED
            else:
                assert theme.merged_into is None
        trigger = closure_due(before, state)
        if trigger is not None:
            closed_once[trigger.theme_id] = closed_once.get(trigger.theme_id, 0) + 1
            assert state.themes[trigger.theme_id].status in CLOSED_STATUSES
    assert all(count == 1 for count in closed_once.values())  # one closure per theme, ever
    assert set(closed_once) == {t for t, theme in state.themes.items() if theme.status in CLOSED_STATUSES}


@settings(max_examples=300, deadline=None)
@given(st.lists(commands(), max_size=15), commands())
def test_applying_a_command_twice_equals_applying_it_once(
    prefix: list[AnyCommand], command: AnyCommand
) -> None:
    state, _ = run(lifecycle(*THEMES), *prefix)
    once, first = apply_command(state, command, T0 + timedelta(days=1))
    twice, second = apply_command(once, command, T0 + timedelta(days=2))
    assert twice == once and second == first


@settings(max_examples=100, deadline=None)
@given(st.lists(commands(), max_size=20))
def test_state_survives_a_json_round_trip(sequence: list[AnyCommand]) -> None:
    state, _ = run(lifecycle(*THEMES), *sequence)
    restored = ThemeLifecycle.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state


def test_unknown_state_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="schema_version"):
        ThemeLifecycle.from_dict({"schema_version": 99, "themes": [], "outcomes": []})
