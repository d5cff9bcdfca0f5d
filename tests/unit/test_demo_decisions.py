"""The demo's product manager closes the loop however few themes the replay found."""

from __future__ import annotations

from typing import Any

from youasked.demo.decisions import ASKS_FOR_RELEASE, PLAN, plan, released_in, shipped_by


def test_a_theme_is_shipped_whenever_there_is_one() -> None:
    assert plan(0) == []
    assert plan(1) == ["shipped"]
    assert plan(2) == ["planned", "shipped"]
    assert plan(3) == list(PLAN)
    assert plan(9) == list(PLAN)


def hit(
    theme_id: str, similarity: float, status: str = "new", merged_into: str | None = None
) -> dict[str, Any]:
    """One item of ``GET /themes/search``, with the fields the choice reads."""
    return {"theme_id": theme_id, "similarity": similarity, "lifecycle_status": status,
            "merged_into": merged_into}


def test_the_release_ships_the_closest_undecided_theme_that_asks_for_it_alone() -> None:
    hits = [hit("decided", 0.9, status="planned"), hit("gone", 0.85, merged_into="x"),
            hit("closest", 0.7), hit("mixed", 0.55), hit("far", 0.3)]
    chosen = shipped_by(hits)
    assert chosen is not None and chosen["theme_id"] == "closest"  # "mixed" is not merged into it
    assert shipped_by([hit("far", ASKS_FOR_RELEASE - 0.01)]) is None
    assert shipped_by([]) is None


def closure_row(theme_id: str, version: str | None, outcome: str = "shipped") -> dict[str, Any]:
    """One row of ``GET /closures``, with the fields the check reads."""
    release = None if version is None else {"name": "Trailmate", "version": version}
    return {"theme_id": theme_id, "outcome": outcome, "event": {"release": release}}


def test_a_release_an_earlier_run_shipped_is_not_shipped_again() -> None:
    rows = [closure_row("t-old", "2.3"), closure_row("t-live", "2.4"), {"theme_id": "t-x", "event": {}}]
    assert released_in(rows, "2.4") == "t-live"
    assert released_in(rows, "2.3") == "t-old"
    assert released_in(rows, "2.5") is None
    assert released_in([closure_row("t-none", None)], "2.4") is None
    assert released_in([closure_row("t-declined", "2.4", outcome="declined")], "2.4") is None
    assert released_in([], "2.4") is None
