"""The demo's product manager closes the loop however few themes the replay found."""

from __future__ import annotations

from youasked.demo.decisions import PLAN, plan


def test_a_theme_is_shipped_whenever_there_is_one() -> None:
    assert plan(0) == []
    assert plan(1) == ["shipped"]
    assert plan(2) == ["planned", "shipped"]
    assert plan(3) == list(PLAN)
    assert plan(9) == list(PLAN)
