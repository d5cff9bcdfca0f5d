"""GET /metrics/dialogue on a real read model: what the projection kept of feedback.dialogue-weeks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_api
from api.readmodel.projector import apply_batch
from api.readmodel.schema import DialogueThreadRow
from api.security import Role, create_key
from contracts.dialogue import DialogueThreadMeasured, DialogueWeekMeasured, ServiceLevel
from contracts.events import Platform, event_json
from contracts.settings import Settings
from tests.conftest import DATABASES, migrated_database

T = datetime(2017, 11, 1, tzinfo=UTC)


def week(
    product: str, platform: Platform, label: str, threads: int, *, at: datetime = T
) -> DialogueWeekMeasured:
    return DialogueWeekMeasured(
        key=f"{product}:{platform.value}:{label}",
        product=product,
        platform=platform,
        week=label,
        threads=threads,
        answered=2,
        within_service_level=1,
        escalated=1,
        closed_without_escalation=1,
        share_within_service_level=1 / threads,
        share_closed_without_escalation=0.5,
        response_p50_s=600.0,
        response_p90_s=7200.0,
        working_response_p50_s=600.0,
        working_response_p90_s=3600.0,
        service_level=ServiceLevel(),
        measured_at=at,
    )


@pytest.fixture(scope="module", params=DATABASES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, str]]:
    tmp = tmp_path_factory.mktemp("dialogue")
    engine = migrated_database(request, tmp / "rm.db")
    thread = DialogueThreadMeasured(
        key="acme:x:8",
        product="acme",
        platform=Platform.X,
        thread_id="8",
        week="2017-W44",
        first_inbound_at=T,
        first_reply_at=T,
        response_s=0.0,
        working_response_s=0.0,
        within_service_level=True,
        inbound_count=1,
        reply_count=1,
        service_level=ServiceLevel(),
        measured_at=T,
    )
    records = [
        ("dialogue-weeks", event_json(week("acme", Platform.X, "2017-W45", 4))),
        ("dialogue-weeks", event_json(week("acme", Platform.X, "2017-W44", 3, at=T.replace(hour=5)))),
        (
            "dialogue-weeks",
            event_json(week("acme", Platform.X, "2017-W44", 9, at=T.replace(hour=1))),
        ),  # older
        ("dialogue-weeks", event_json(week("acme", Platform.FACEBOOK, "2017-W44", 2))),
        ("dialogue-weeks", event_json(week("other", Platform.X, "2017-W44", 5))),
        ("dialogue-threads", event_json(thread)),
    ]
    assert apply_batch(engine, records) == len(records)
    with Session(engine) as session:
        assert session.get(DialogueThreadRow, "acme:x:8") is not None
    key = create_key(engine, name="viewer", role=Role.viewer)
    app = create_api(
        Settings(kafka_bootstrap="127.0.0.1:1", state_dir=tmp), engine=engine, project=False, commands=False
    )
    with TestClient(app) as client:
        yield client, key


def test_weeks_per_platform_oldest_first_latest_measure_wins(world: tuple[TestClient, str]) -> None:
    client, key = world
    body = client.get("/metrics/dialogue", params={"product": "acme"}, headers={"X-API-Key": key}).json()
    assert [(w["week"], w["platform"], w["threads"]) for w in body["weeks"]] == [
        ("2017-W44", "facebook", 2),
        ("2017-W44", "x", 3),
        ("2017-W45", "x", 4),
    ]
    first = body["weeks"][1]
    assert (first["response_p50_s"], first["response_p90_s"], first["share_closed_without_escalation"]) == (
        600.0,
        7200.0,
        0.5,
    )
    assert first["service_level"]["response_s"] == 7200.0
    only_x = client.get(
        "/metrics/dialogue", params={"product": "acme", "platform": "facebook"}, headers={"X-API-Key": key}
    ).json()
    assert [w["platform"] for w in only_x["weeks"]] == ["facebook"]


@pytest.mark.parametrize("query", ["", "?product=", "?product=%00", "?product=acme&platform=mastodon"])
def test_a_missing_or_hostile_product_is_refused(world: tuple[TestClient, str], query: str) -> None:
    client, key = world
    answer = client.get(f"/metrics/dialogue{query}", headers={"X-API-Key": key})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_request"


def test_an_unknown_product_has_no_weeks(world: tuple[TestClient, str]) -> None:
    client, key = world
    assert (
        client.get("/metrics/dialogue", params={"product": "nobody"}, headers={"X-API-Key": key}).json()[
            "weeks"
        ]
        == []
    )
