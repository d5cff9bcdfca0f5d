"""The demo's product manager closes the loop however few themes the replay found."""

from __future__ import annotations

from typing import Any

from youasked.demo.decisions import ASKS_FOR_RELEASE, PLAN, plan, shipped_by


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
