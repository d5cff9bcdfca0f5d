"""A product manager's day through the API, against the real broker, worker and both databases:
find the top themes, set a cost, mark one shipped, see the outcome and the closure; confirm a
possible duplicate; erase a person."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.app import create_api
from api.readmodel.schema import SuggestionRow
from api.security import Role, create_key
from contracts.events import SuggestionDetected, event_json
from contracts.topics import SUGGESTIONS
from messaging.admin import ensure_topics
from tests.fakes import whole_ask
from tests.integration.test_themes_broker import detected
from tests.kafka_support import WorkerProcess, isolated_settings, produce
from youasked import waiting

pytestmark = pytest.mark.integration


def eventually(probe: Callable[[], Any], *, timeout: float = 180, every: float = 1.0) -> Any:
    """:func:`youasked.waiting.eventually` with this module's patience."""
    return waiting.eventually(probe, timeout=timeout, every=every)


def test_a_product_manager_ships_a_theme_through_the_api(
    kafka_bootstrap: str, tmp_path: Path, database: Callable[[], Engine]
) -> None:
    settings = isolated_settings(
        kafka_bootstrap, tmp_path, theme_tick_interval_s=1.0, theme_idle_recluster_s=2.0
    )
    ensure_topics(settings)
    records = [detected(i, i % 3, f"user{i % 25}") for i in range(60)]
    first = records[0]
    produce(settings, SUGGESTIONS, records)
    engine = database()
    pm = {"X-API-Key": create_key(engine, name="ana", role=Role.pm)}
    viewer = {"X-API-Key": create_key(engine, name="board", role=Role.viewer)}
    # The suggestions' vectors are random, not embeddings of their texts: the closure's relevance
    # to what shipped (embedded by the real model) would mean nothing here; the time rule stays.
    no_relevance = {"YOUASKED_CLOSURE_RELEVANCE": "false"}
    worker = WorkerProcess(settings, tmp_path / "worker.log", env=no_relevance).start()
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

            # the review queue: a suggestion made to sit in the review band of x:s0 is confirmed
            near = near_copy(first, similarity=0.75)
            produce(settings, SUGGESTIONS, [near])
            queued = eventually(lambda: suggestion_row(engine, "x:near#1", "review"))
            assert queued and queued.duplicate_of == "x:s0#1", worker.log_tail()
            listed = client.get("/review-queue", params={"limit": 500}, headers=pm).json()
            assert "x:near#1" in [item["suggestion"]["suggestion_id"] for item in listed]
            confirmed = decided(client.post("/review-queue/x:near%231/confirm", json={}, headers=pm))
            assert confirmed["accepted"], confirmed
            settled = eventually(lambda: suggestion_row(engine, "x:near#1", "confirmed"))
            original = suggestion_row(engine, "x:s0#1")
            assert settled and original and settled.theme_id == original.theme_id, worker.log_tail()
            listed = client.get("/review-queue", params={"limit": 500}, headers=pm).json()
            assert "x:near#1" not in [item["suggestion"]["suggestion_id"] for item in listed]

            # erasure: user3 asked three times; afterwards nothing queryable returns them
            admin = {"X-API-Key": create_key(engine, name="dpo", role=Role.admin)}
            theirs = [r.suggestion_id for r in rows_of(engine, "user3")]
            assert len(theirs) == 3, theirs
            members_before = sum(t["member_count"] for t in themes())
            in_themes = sum(1 for r in rows_of(engine, "user3") if r.theme_id is not None)
            erased = client.post("/erasures", json={"platform": "x", "author_id": "user3"}, headers=admin)
            assert erased.status_code == 202, erased.text
            assert erased.json()["removed"]["suggestions"] == 3 and rows_of(engine, "user3") == []
            for command_id in erased.json()["command_ids"]:
                outcome = eventually(
                    lambda cid=command_id: (
                        (r := client.get(f"/commands/{cid}", headers=viewer)).status_code == 200 and r.json()
                    )
                )
                assert outcome and outcome["accepted"], (outcome, worker.log_tail())
            # the worker recounts: their members leave the themes' counts
            recounted = eventually(
                lambda: sum(t["member_count"] for t in themes()) == members_before - in_themes
            )
            assert recounted, (members_before, in_themes, themes())
            # an old suggestion of theirs delivered again stays out; a later one of someone else gets in
            produce(settings, SUGGESTIONS, [detected(3, 0, "user3"), detected(999, 0, "user999")])
            assert eventually(lambda: suggestion_row(engine, "x:s999#1")), worker.log_tail()
            assert rows_of(engine, "user3") == []
            seen = " ".join(
                client.get(path, headers=admin).text
                for path in ("/closures", "/review-queue", *(f"/themes/{t['theme_id']}" for t in themes()))
            )
            assert "user3" not in seen.replace("user30", "").replace("user31", "")
    finally:
        worker.stop()


def near_copy(record: tuple[bytes, bytes], *, similarity: float) -> tuple[bytes, bytes]:
    """A new suggestion whose embedding has cosine ``similarity`` with ``record``'s, by someone else."""
    event = SuggestionDetected.model_validate_json(record[1])
    base = np.asarray(event.embedding)
    other = np.random.default_rng(11).normal(size=base.size)
    other -= other.dot(base) * base
    other /= np.linalg.norm(other)
    vector = similarity * base + (1 - similarity**2) ** 0.5 * other
    comment = event.comment.model_copy(
        update={
            "comment_id": "near",
            "key": "x:near",
            "author_id": "nearby",
            "author_handle": "@nearby",
            "url": "https://x.com/nearby/status/1",
            "text": "in other words, much the same idea",
        }
    )
    copy = event.model_copy(
        update={
            "suggestion_id": "x:near#1",
            "comment": comment,
            "ask": whole_ask(comment.text),
            "embedding": [float(x) for x in vector],
        }
    )
    return record[0], event_json(copy)


def suggestion_row(engine: Engine, suggestion_id: str, kind: str | None = None) -> SuggestionRow | None:
    with Session(engine) as session:
        row = session.get(SuggestionRow, suggestion_id)
    return row if row is not None and (kind is None or row.duplicate_kind == kind) else None


def rows_of(engine: Engine, author_id: str) -> list[SuggestionRow]:
    with Session(engine) as session:
        return list(session.scalars(select(SuggestionRow).where(SuggestionRow.author_id == author_id)))
