"""A product manager's day through the API, against the real broker, worker and both databases:
find the top themes, set a cost, mark one shipped, see the outcome and the closure."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_api
from api.security import Role, create_key
from tests.integration.test_themes_broker import detected
from tests.kafka_support import WorkerProcess, isolated_settings, produce
from youasked.admin import ensure_topics
from youasked.contracts.topics import SUGGESTIONS

pytestmark = pytest.mark.integration


def eventually(probe: Callable[[], Any], *, timeout: float = 180, every: float = 1.0) -> Any:
    """The first truthy value of ``probe()`` within ``timeout`` seconds (or its last value)."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not value and time.monotonic() < deadline:
        time.sleep(every)
        value = probe()
    return value


def test_a_product_manager_ships_a_theme_through_the_api(
    kafka_bootstrap: str, tmp_path: Path, database: Callable[[], Engine]
) -> None:
    settings = isolated_settings(
        kafka_bootstrap, tmp_path, theme_tick_interval_s=1.0, theme_idle_recluster_s=2.0
    )
    ensure_topics(settings)
    produce(settings, SUGGESTIONS, [detected(i, i % 3, f"user{i % 25}") for i in range(60)])
    engine = database()
    pm = {"X-API-Key": create_key(engine, name="ana", role=Role.pm)}
    viewer = {"X-API-Key": create_key(engine, name="board", role=Role.viewer)}
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        with TestClient(create_api(settings, engine=engine)) as client:

            def themes(**params: Any) -> list[dict[str, Any]]:
                page = client.get("/themes", params={"product": "trailmate", **params}, headers=viewer)
                assert page.status_code == 200, page.text
                return list(page.json()["items"])

            found = eventually(lambda: len(themes()) == 3 and themes())
            assert found and len(found) == 3, worker.log_tail()
            assert sum(t["author_count"] for t in found) == 25 or all(t["author_count"] > 0 for t in found)
            top = found[0]["theme_id"]

            def decided(answer: Any) -> dict[str, Any]:
                assert answer.status_code == 202, answer.text
                command_id = answer.json()["command_id"]
                outcome = eventually(
                    lambda: (
                        (r := client.get(f"/commands/{command_id}", headers=viewer)).status_code == 200
                        and r.json()
                    )
                )
                assert outcome, f"no outcome for {command_id}:\n{worker.log_tail()}"
                return dict(outcome)

            cost = decided(client.post(f"/themes/{top}/cost", json={"cost": {"size": "S"}}, headers=pm))
            assert cost["accepted"], cost
            # a small cost puts the theme among the quick wins or the fill-ins, by its impact
            costed = eventually(
                lambda: [
                    t for t in themes() if t["theme_id"] == top and t["quadrant"] in ("quick_win", "fill_in")
                ]
            )
            assert costed, themes()
            quadrant = costed[0]["quadrant"]
            assert top in [t["theme_id"] for t in themes(quadrant=quadrant)]

            shipped = decided(
                client.post(
                    f"/themes/{top}/status",
                    json={"status": "shipped", "title": "Offline maps", "reason": "many asked"},
                    headers=pm,
                )
            )
            assert shipped["accepted"] and shipped["closure_key"] == f"closure:{top}:none", shipped
            again = decided(client.post(f"/themes/{top}/status", json={"status": "planned"}, headers=pm))
            assert not again["accepted"] and again["code"], again

            closures = eventually(lambda: client.get("/closures", headers=pm).json())
            assert [c["theme_id"] for c in closures] == [top]
            people = closures[0]["event"]["people"]
            assert len(people) == closures[0]["people_count"] > 0
            detail = eventually(
                lambda: (
                    (d := client.get(f"/themes/{top}", headers=pm).json())["lifecycle_status"] == "shipped"
                    and d
                )
            )
            assert detail and [h["to_status"] for h in detail["history"]][-1] == "shipped"
            assert detail["score"]["quadrant"] == quadrant and detail["cost"] == {"size": "S", "points": None}
            public = client.get("/closures", headers=viewer).json()
            assert "people" not in public[0]["event"] and "@user" not in str(public)
            # semantic search embeds the query with the real model (these test vectors carry no meaning,
            # so only the shape of the answer is checked)
            hits = client.get(
                "/themes/search", params={"q": "offline maps", "product": "trailmate"}, headers=viewer
            )
            assert hits.status_code == 200, hits.text
            assert {h["theme_id"] for h in hits.json()["items"]} <= {
                t["theme_id"] for t in themes(include_merged=True)
            }
            assert len(hits.json()["items"]) >= 1
            ready = client.get("/ready").json()
            assert ready["status"] == "ok" and ready["broker"] and ready["database"]
    finally:
        worker.stop()
