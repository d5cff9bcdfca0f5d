"""The read model ranks each product's themes against each other: "high impact" is the product's
75th percentile of impact, so a product of modest demand still shows its quick wins."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.app import create_api
from api.readmodel.projector import apply_batch
from api.readmodel.schema import ThemeRow
from api.security import Role, create_key
from contracts.events import ThemeChanged, event_json
from contracts.settings import Settings
from models.scoring import DEFAULT_RULES, high_impact_threshold
from tests.readmodel_support import T0, WordHashEmbedder, theme


def scored(theme_id: str, impact: float, *, points: int | None = 3, product: str = "trailmate",
           at_minutes: int = 0) -> ThemeChanged:
    """A theme snapshot as the worker makes it: scored alone against the absolute threshold."""
    base = theme(theme_id, product=product, priority=impact, changed_at=T0 + timedelta(minutes=at_minutes))
    assert base.score is not None
    quadrant = "unknown_cost" if points is None else "fill_in" if points < 5 else "money_pit"
    score = base.score.model_copy(update={
        "impact": impact, "priority": impact, "cost_points_used": points or 3, "cost_assumed": points is None,
        "quadrant": quadrant, "hot_plan": False, "high_impact_threshold": DEFAULT_RULES.absolute_high_impact,
    })
    return base.model_copy(update={"score": score})


def quadrants(engine: Engine, product: str = "trailmate") -> dict[str, tuple[str | None, bool]]:
    with Session(engine) as session:
        rows = session.scalars(select(ThemeRow).where(ThemeRow.product == product)).all()
        return {row.theme_id: (row.quadrant, row.hot_plan) for row in rows}


def records(*themes: ThemeChanged) -> list[tuple[str, bytes]]:
    return [("themes", event_json(t)) for t in themes]


IMPACTS = {"t-maps": 0.31, "t-dark": 0.30, "t-gpx": 0.22, "t-watch": 0.20, "t-photos": 0.12,
           "t-units": 0.08, "t-checkin": 0.07, "t-filters": 0.05}


def test_the_top_quarter_of_a_modest_product_are_its_quick_wins(database: Callable[[], Engine]) -> None:
    engine = database()
    apply_batch(engine, records(*(scored(tid, impact) for tid, impact in IMPACTS.items())))
    threshold, basis = high_impact_threshold(list(IMPACTS.values()))
    assert basis == "percentile" and max(IMPACTS.values()) < DEFAULT_RULES.absolute_high_impact
    found = quadrants(engine)
    assert {tid for tid, (q, _) in found.items() if q == "quick_win"} == {"t-maps", "t-dark"}
    assert all(hot == (q == "quick_win") for q, hot in found.values())
    assert {q for tid, (q, _) in found.items() if tid not in {"t-maps", "t-dark"}} == {"fill_in"}
    with Session(engine) as session:
        row = session.get(ThemeRow, "t-maps")
        assert row is not None and row.score is not None
        assert row.score["quadrant"] == "quick_win" and row.score["hot_plan"] is True
        assert row.score["high_impact_threshold"] == threshold


def test_a_high_cost_is_a_big_bet_and_no_estimate_is_no_quick_win(database: Callable[[], Engine]) -> None:
    engine = database()
    themes = [scored(tid, impact) for tid, impact in IMPACTS.items() if tid not in {"t-maps", "t-dark"}]
    dear, unknown = scored("t-maps", 0.31, points=8), scored("t-dark", 0.30, points=None)
    apply_batch(engine, records(dear, unknown, *themes))
    found = quadrants(engine)
    assert found["t-maps"] == ("big_bet", False)
    assert found["t-dark"] == ("unknown_cost", False)


def test_fewer_than_five_themes_keep_the_absolute_threshold(database: Callable[[], Engine]) -> None:
    engine = database()
    apply_batch(engine, records(scored("t-maps", 0.31), scored("t-dark", 0.50), scored("t-gpx", 0.05)))
    assert quadrants(engine) == {"t-maps": ("fill_in", False), "t-dark": ("quick_win", True),
                                 "t-gpx": ("fill_in", False)}


def test_products_are_ranked_apart_and_a_later_batch_ranks_the_others_again(
    database: Callable[[], Engine],
) -> None:
    engine = database()
    apply_batch(engine, records(*(scored(tid, impact) for tid, impact in IMPACTS.items())))
    # a busy product's themes do not lower the hiking app's bar, nor raise it
    apply_batch(engine, records(*(scored(f"b-{i}", 0.9, product="bigapp") for i in range(8))))
    assert quadrants(engine)["t-maps"] == ("quick_win", True)
    # two themes grow past the others: those drop out of the quick wins without a snapshot of their own
    apply_batch(engine, records(scored("t-photos", 0.6, at_minutes=5), scored("t-units", 0.55, at_minutes=5)))
    found = quadrants(engine)
    assert {tid for tid, (q, _) in found.items() if q == "quick_win"} == {"t-photos", "t-units"}
    assert found["t-maps"] == ("fill_in", False)


def test_the_api_lists_a_modest_product_s_quick_wins_and_draws_its_bar(
    database: Callable[[], Engine], tmp_path: Path
) -> None:
    engine = database()
    apply_batch(engine, records(*(scored(tid, impact) for tid, impact in IMPACTS.items())))
    key = create_key(engine, name="viewer-key", role=Role.viewer)
    settings = Settings(kafka_bootstrap="127.0.0.1:1", state_dir=tmp_path)
    app = create_api(settings, engine=engine, project=False, commands=False, embedder=WordHashEmbedder)
    with TestClient(app) as client:
        headers = {"X-API-Key": key}
        query = {"product": "trailmate", "quadrant": "quick_win"}
        wins = client.get("/themes", params=query, headers=headers)
        assert wins.status_code == 200, wins.text
        assert [item["theme_id"] for item in wins.json()["items"]] == ["t-maps", "t-dark"]
        assert all(item["hot_plan"] for item in wins.json()["items"])
        matrix = client.get("/matrix", params={"product": "trailmate"}, headers=headers).json()
        assert matrix["high_impact_threshold"] == high_impact_threshold(list(IMPACTS.values()))[0]
        drawn = {point["theme_id"] for point in matrix["items"] if point["quadrant"] == "quick_win"}
        assert drawn == {"t-maps", "t-dark"}
