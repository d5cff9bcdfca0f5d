"""``GET /themes/pairs``: a product's themes that may be one idea, on a real read model (SQLite and
PostgreSQL), and ``POST /themes/{id}/keep-apart``; a pair kept apart leaves the list."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_api
from api.readmodel.projector import apply_batch
from api.security import Role, create_key
from contracts.events import (
    CommentAccepted,
    SourceRef,
    SuggestionDetected,
    SuggestionThemed,
    ThemeStatus,
    event_json,
)
from contracts.lifecycle import CommandKind, CommandOutcome, HistoryChange, LifecycleStatus
from contracts.settings import Settings
from tests.conftest import DATABASES, migrated_database
from tests.fakes import whole_ask
from tests.readmodel_support import T0, WordHashEmbedder, theme

PRODUCT = "hikeapp"
ASKS: dict[str, list[str]] = {
    "t-battery": ["battery saver mode please", "a battery saver mode for long hikes", "battery saver mode"],
    "t-lowpower": ["low power battery saver mode", "battery saver low power mode"],
    "t-maps": ["offline maps download", "download offline maps for trails", "offline maps"],
    "t-gone": ["battery saver mode"],  # merged away: not a live theme
}
OTHER = [("other-app", "t-else", "battery saver mode please")]  # another product's theme


def _records() -> list[tuple[str, bytes]]:
    records = [
        ("themes", event_json(theme("t-battery", product=PRODUCT, title="Battery saver mode", authors=3))),
        ("themes", event_json(theme("t-lowpower", product=PRODUCT, title="Low power mode", authors=2))),
        ("themes", event_json(theme("t-maps", product=PRODUCT, title="Offline maps", authors=3))),
        ("themes", event_json(
            theme("t-gone", product=PRODUCT, status=ThemeStatus.MERGED, merged_into="t-battery")
        )),
        ("themes", event_json(theme("t-else", product="other-app", title="Battery saver"))),
    ]
    rows = [(PRODUCT, tid, text) for tid, texts in ASKS.items() for text in texts] + OTHER
    for n, (product, theme_id, text) in enumerate(rows):
        comment = CommentAccepted(
            comment_id=f"c-{n}", platform="x",  # type: ignore[arg-type]
            product=product, author_id=f"u{n}", author_handle=f"@u{n}", text=text,
            created_at=T0 + timedelta(minutes=n), key=f"x:c-{n}", received_at=T0,
            source=SourceRef(topic="feedback.comments", partition=0, offset=n),
        )
        records.append(("theme-members", event_json(SuggestionThemed(
            suggestion_id=f"s{n}", product=product, theme_id=theme_id, platform="x",  # type: ignore[arg-type]
            comment_id=comment.comment_id, author_id=f"u{n}", author_handle=f"@u{n}", text=text,
            ask_start=0, ask_end=len(text), comment_text=text, asked_at=comment.created_at, placed_at=T0,
        ))))
        records.append(("suggestions", event_json(SuggestionDetected(
            suggestion_id=f"s{n}", comment=comment, ask=whole_ask(text), score=0.9,
            embedding=[float(x) for x in WordHashEmbedder().embed([text])[0]],
            embedding_model="word-hash", detected_at=T0,
        ))))
    return records


def _kept_apart(theme_id: str, other: str) -> tuple[str, bytes]:
    def change(owner: str, apart_from: str) -> HistoryChange:
        return HistoryChange(theme_id=owner, kind="keep_apart", from_status=LifecycleStatus.NEW,
                             to_status=LifecycleStatus.NEW, actor="pm", detail=f"apart_from={apart_from}",
                             at=T0, issued_at=T0)

    outcome = CommandOutcome(
        command_id="cmd-apart", product=PRODUCT, theme_id=theme_id, kind=CommandKind.KEEP_APART,
        accepted=True, changes=[change(theme_id, other), change(other, theme_id)], decided_at=T0,
    )
    return "theme-outcomes", event_json(outcome)


@pytest.fixture(params=DATABASES)
def world(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[TestClient, dict[str, str], Any]]:
    engine = migrated_database(request, tmp_path / "rm.db")
    apply_batch(engine, _records())
    keys = {role.name: create_key(engine, name=f"{role.name}-key", role=role) for role in Role}
    settings = Settings(kafka_bootstrap="127.0.0.1:1", state_dir=tmp_path)
    app = create_api(settings, engine=engine, project=False, commands=False, embedder=WordHashEmbedder)
    with TestClient(app) as client:
        yield client, keys, engine


def _pairs(client: TestClient, key: str, **params: Any) -> Any:
    response = client.get("/themes/pairs", params=params, headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    return response.json()


def test_themes_of_one_idea_are_listed_as_a_pair_and_leave_the_list_once_kept_apart(
    world: tuple[TestClient, dict[str, str], Any],
) -> None:
    client, keys, engine = world
    vectors = {tid: WordHashEmbedder().embed(texts) for tid, texts in ASKS.items()}
    centres = {tid: v.sum(0) / np.linalg.norm(v.sum(0)) for tid, v in vectors.items()}
    close = float(centres["t-battery"] @ centres["t-lowpower"])
    assert close >= 0.6 > float(centres["t-battery"] @ centres["t-maps"])

    listed = _pairs(client, keys["viewer"], product=PRODUCT)
    assert (listed["floor"], listed["mutual"]) == (0.6, 0.5)
    got = [(p["into"]["theme_id"], p["other"]["theme_id"]) for p in listed["items"]]
    assert got == [("t-battery", "t-lowpower")]
    pair = listed["items"][0]
    assert pair["similarity"] == pytest.approx(close, abs=1e-3)
    assert pair["mutual"] == 1.0  # each theme's askers would go to the other before "Offline maps"
    assert pair["into"]["title"] == "Battery saver mode" and pair["into"]["author_count"] == 3
    assert _pairs(client, keys["viewer"], product="nobody")["items"] == []

    apply_batch(engine, [_kept_apart("t-lowpower", "t-battery")])
    assert _pairs(client, keys["viewer"], product=PRODUCT)["items"] == []
    detail = client.get("/themes/t-battery", headers={"X-API-Key": keys["viewer"]}).json()
    assert [(h["kind"], h["detail"]) for h in detail["history"]] == [("keep_apart", "apart_from=t-lowpower")]


def test_a_pair_kept_apart_before_a_merge_stays_apart_for_the_theme_that_absorbed_it(
    world: tuple[TestClient, dict[str, str], Any],
) -> None:
    client, keys, engine = world
    assert len(_pairs(client, keys["viewer"], product=PRODUCT)["items"]) == 1
    # "t-gone" was kept apart from "t-lowpower", then merged into "t-battery": the engine keeps
    # "t-battery" apart from "t-lowpower" in its place, and so does the list
    apply_batch(engine, [_kept_apart("t-gone", "t-lowpower")])
    assert _pairs(client, keys["viewer"], product=PRODUCT)["items"] == []


def test_the_themes_nearest_an_ask_by_their_centres_leave_out_its_own(
    world: tuple[TestClient, dict[str, str], Any],
) -> None:
    client, keys, _ = world
    headers = {"X-API-Key": keys["viewer"]}
    near = client.get("/suggestions/s0/themes", headers=headers)  # "battery saver mode please"
    assert near.status_code == 200, near.text
    body = near.json()
    assert (body["suggestion_id"], body["theme_id"]) == ("s0", "t-battery")
    got = [item["theme_id"] for item in body["items"]]
    assert got == ["t-lowpower", "t-maps"]  # live themes of its product only, nearest first
    vectors = {tid: WordHashEmbedder().embed(texts) for tid, texts in ASKS.items()}
    centre = vectors["t-lowpower"].sum(0) / np.linalg.norm(vectors["t-lowpower"].sum(0))
    ask = WordHashEmbedder().embed([ASKS["t-battery"][0]])[0]
    assert body["items"][0]["similarity"] == pytest.approx(float(ask @ centre), abs=1e-3)
    one = client.get("/suggestions/s0/themes", params={"limit": 1}, headers=headers).json()["items"]
    assert [item["theme_id"] for item in one] == ["t-lowpower"]
    assert client.get("/suggestions/nobody/themes", headers=headers).status_code == 404
    assert client.get("/suggestions/s0/themes", params={"limit": 0}, headers=headers).status_code == 422


def test_pairs_need_a_product_and_a_key(world: tuple[TestClient, dict[str, str], Any]) -> None:
    client, keys, _ = world
    assert client.get("/themes/pairs", headers={"X-API-Key": keys["viewer"]}).status_code == 422
    assert client.get("/themes/pairs", params={"product": PRODUCT, "limit": 0},
                      headers={"X-API-Key": keys["viewer"]}).status_code == 422
    assert client.get("/themes/pairs", params={"product": PRODUCT}).status_code == 401


def test_keeping_themes_apart_is_a_pm_s_command(world: tuple[TestClient, dict[str, str], Any]) -> None:
    client, keys, _ = world
    body = {"other_ids": ["t-lowpower"], "reason": "two ideas"}
    as_viewer = client.post("/themes/t-battery/keep-apart", json=body, headers={"X-API-Key": keys["viewer"]})
    assert as_viewer.status_code == 403
    assert client.post("/themes/t-battery/keep-apart", json={"other_ids": []},
                       headers={"X-API-Key": keys["pm"]}).status_code == 422
