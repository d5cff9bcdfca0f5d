"""Any valid ISO date a suggestion can carry is safe for the themes service (no overflow)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from models.duplicates import DuplicateConfig
from models.themes.config import ThemeConfig
from models.themes.engine import ThemeEngine
from models.themes.records import Suggestion
from models.themes.workflow import ProductWork, place_suggestion, tick

EDGES = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00-14:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59+14:00",
]


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=384).astype(np.float32)
    return vector / np.linalg.norm(vector)


@pytest.mark.parametrize("created_at", EDGES)
def test_a_suggestion_dated_at_the_calendar_edges_is_placed_and_reclustered(created_at: str) -> None:
    work = ProductWork.new(product="p", dim=384)
    engine = ThemeEngine(ThemeConfig())
    now = datetime(2026, 11, 30, tzinfo=UTC)
    base = unit(0)
    for i in range(8):
        when = datetime.fromisoformat(created_at) if i % 2 else datetime(2026, 11, i + 1, tzinfo=UTC)
        vector = base + 0.05 * unit(i + 1)
        suggestion = Suggestion(
            suggestion_id=f"x:{i}",
            product="p",
            author_key=f"x:a{i}",
            platform="x",
            created_at=when,
            text=f"please add offline maps {i}",
            vector=vector / np.linalg.norm(vector),
        )
        place_suggestion(
            work, suggestion, engine=engine, duplicates=DuplicateConfig(), theme_of=lambda _: None, now=now
        )
    tick(work, engine=engine, now=now, idle=True)
    placed = sum(t.member_count for t in work.themes.themes.values()) + len(work.themes.pool)
    assert placed == 8  # every suggestion is in a theme or waits in the pool


def test_week_and_month_labels_keep_four_digit_years() -> None:
    from models.dates import iso_week, month_label
    from models.scoring import iso_week_label

    first = datetime.fromisoformat("0001-01-01T00:00:00+14:00")
    assert (
        iso_week(datetime(1, 1, 8, tzinfo=UTC)) == iso_week_label(datetime(1, 1, 8, tzinfo=UTC)) == "0001-W02"
    )
    assert month_label(first) == "0001-01"
    assert month_label(datetime.fromisoformat("9999-12-31T23:59:59-14:00")) == "9999-12"
    assert iso_week(datetime(2026, 11, 30, tzinfo=UTC)) == "2026-W49"
