"""GET /closures/{id}/impact on a real read model: weeks projected from feedback.closure-impact."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.app import create_api
from api.readmodel.projector import apply_batch
from api.readmodel.schema import ClosureImpactRow, SetAsideRow
from api.security import Role, create_key
from contracts.events import event_json
from contracts.impact import ClosureImpact
from contracts.settings import Settings
from tests.conftest import DATABASES, migrated_database
from tests.readmodel_support import T0, WordHashEmbedder, closure, sample_records

SHIPPED = datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC)
CLOSURE = "closure:t-maps:none"
DARK_CLOSURE = {"closure_key": "closure:t-dark:none", "asked_by": T0 - timedelta(days=10)}


def impact(week: int, *, version: int = 1, asks_in_week: int = 0, asks_after: int = 0) -> ClosureImpact:
    return ClosureImpact(
        closure_id=CLOSURE, product="trailmate", theme_id="t-maps", title="Offline maps",
        shipped_at=SHIPPED, week=week, week_start=SHIPPED + (week - 1) * timedelta(days=7),
        week_end=SHIPPED + week * timedelta(days=7), version=version, weeks_before=4, asks_before=12,
        people_before=7, asks_before_per_week=3.0, asks_in_week=asks_in_week, people_in_week=asks_in_week,
        asks_after=asks_after, people_after=asks_after, asks_after_per_week=round(asks_after / week, 4),
        change=round(asks_after / week / 3.0 - 1, 4), praise_in_week=1, follow_up_praise=week,
        praising_askers=1, praising_people=week, computed_at=SHIPPED,
    )


@pytest.fixture(scope="module", params=DATABASES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str], Any]]:
    tmp = tmp_path_factory.mktemp("api-impact")
    engine = migrated_database(request, tmp / "rm.db")
    records: list[tuple[str, bytes | None]] = list(sample_records())
    records += [
        ("closure-impact", event_json(impact(1, version=2, asks_in_week=1, asks_after=1))),
        ("closure-impact", event_json(impact(2, asks_after=1))),
        ("closure-impact", event_json(impact(1, version=1))),  # older, arriving late: ignored
        ("closure-impact", b'{"closure_id": "not an impact"}'),
        ("closures", event_json(closure("t-dark").model_copy(update=DARK_CLOSURE))),
    ]
    apply_batch(engine, records)
    keys = {role.name: create_key(engine, name=f"{role.name}-key", role=role) for role in Role}
    settings = Settings(kafka_bootstrap="127.0.0.1:1", state_dir=tmp)
    app = create_api(settings, engine=engine, project=False, commands=False, embedder=WordHashEmbedder)
    with TestClient(app) as client:
        yield client, keys, engine


World = tuple[TestClient, dict[str, str], Any]


def test_a_closures_impact_is_its_weeks_latest_versions(world: World) -> None:
    client, keys, _ = world
    response = client.get(f"/closures/{CLOSURE}/impact", headers={"X-API-Key": keys["viewer"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["theme_id"], body["title"], body["asks_before_per_week"]) == ("t-maps", "Offline maps", 3.0)
    assert (body["weeks_before"], body["asks_before"], body["people_before"]) == (4, 12, 7)
    assert [(w["week"], w["version"], w["asks_in_week"]) for w in body["weeks"]] == [(1, 2, 1), (2, 1, 0)]
    assert body["asks_after_shipping"] == 1
    assert body["weeks"][1]["change"] == round(0.5 / 3 - 1, 4)


def test_an_unknown_closure_is_not_found_and_a_new_one_has_no_weeks_yet(
    world: tuple[TestClient, dict[str, str], Any],
) -> None:
    client, keys, _ = world
    headers = {"X-API-Key": keys["viewer"]}
    missing = client.get("/closures/closure:nope:none/impact", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert client.get(f"/closures/{CLOSURE}/impact").status_code == 401
    fresh = client.get("/closures/closure:t-dark:none/impact", headers=headers).json()
    assert fresh["theme_id"] == "t-dark" and fresh["weeks"] == [] and fresh["asks_before"] is None


def test_an_unreadable_impact_record_is_set_aside(world: tuple[TestClient, dict[str, str], Any]) -> None:
    _, _, engine = world
    with Session(engine) as session:
        kinds = [row.kind for row in session.scalars(select(SetAsideRow))]
        rows = session.scalars(select(ClosureImpactRow)).all()
    assert "closure-impact" in kinds and len(rows) == 2


def test_a_theme_shows_the_asks_placed_after_it_shipped(world: World) -> None:
    client, keys, _ = world
    headers = {"X-API-Key": keys["viewer"]}
    dark = client.get("/themes/t-dark", headers=headers).json()
    assert datetime.fromisoformat(dark["shipped_at"]) == T0 - timedelta(days=10)
    assert dark["asked_after_shipping"] == 1  # asked 9 days before T0; the others 12 and 13 days before
    maps = client.get("/themes/t-maps", headers=headers).json()  # its closure has no time rule
    assert maps["shipped_at"] is None and maps["asked_after_shipping"] == 0
