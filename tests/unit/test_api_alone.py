"""``GET /themes/alone``: every ask in no theme, with why, on a real read model (SQLite and
PostgreSQL), against the reasons of :mod:`models.themes.alone`."""

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
    DuplicateKind,
    SourceRef,
    SuggestionDetected,
    SuggestionThemed,
    ThemeStatus,
    event_json,
)
from contracts.settings import Settings
from models.themes.alone import AloneAsk, alone_reasons, theme_centres
from models.themes.config import ThemeConfig
from tests.conftest import DATABASES, migrated_database
from tests.fakes import whole_ask
from tests.readmodel_support import T0, WordHashEmbedder, theme

PRODUCT = "hikeapp"
# (suggestion id, author, text, theme id or None, duplicate kind, duplicate of, has a vector)
ASKS: list[tuple[str, str, str, str | None, DuplicateKind | None, str | None, bool]] = [
    ("m1", "u1", "offline maps download", "t-maps", None, None, True),
    ("m2", "u2", "offline maps for hiking", "t-maps", None, None, True),
    ("m3", "u3", "download offline maps", "t-maps", None, None, True),
    ("g1", "u4", "dark mode at night", "t-gone", None, None, True),  # a merged theme: not live
    ("a1", "u10", "offline maps download please", None, None, None, True),
    ("a2", "u11", "export gpx track file", None, None, None, True),
    ("a3", "u12", "export gpx track files now", None, None, None, True),
    ("a4", "u13", "bring back the compass widget", None, None, None, True),
    ("a5", "u14", "bring back the compass widget", None, DuplicateKind.EXACT, "a4", True),
    ("a6", "u15", "offline map downloads", None, DuplicateKind.REVIEW, "m1", True),
    ("a7", "u16", "a radio to call friends", None, None, None, False),  # its vector not projected yet
    ("a8", "u13", "bring back the compass widget please", None, None, None, True),  # the same person as a4
    # two people ask alike in Spanish: MiniLM would group them by their words, so they found nothing
    ("o1", "u30", "sería genial un diario de ruta para la app", None, None, None, True),
    ("o2", "u31", "sería genial un diario de ruta para la app porfa", None, None, None, True),
    # repeats of a theme's ask (directly, and a repeat of that repeat) live beside it: not alone
    ("r1", "u20", "offline maps download", None, DuplicateKind.EXACT, "m1", True),
    ("r2", "u21", "offline maps download", None, DuplicateKind.AUTO, "r1", True),
    # a repeat made while the ask it repeats was in the merged theme: it went with that ask
    ("s1", "u24", "offline maps for hiking", "t-gone", DuplicateKind.EXACT, "m2", True),
    ("s3", "u26", "offline maps for hiking", "t-gone", DuplicateKind.EXACT, "s1", True),  # and of that one
    # a repeat whose own row names a live theme its original has left (for the alone one a4)
    ("s2", "u25", "bring back the compass widget", "t-maps", DuplicateKind.EXACT, "a4", True),
    # repeats that point at each other (never written so, but read safely)
    ("c1", "u22", "a trail journal", None, DuplicateKind.EXACT, "c2", True),
    ("c2", "u23", "a trail journal", None, DuplicateKind.EXACT, "c1", True),
]
EXPECTED = {
    "a1": "near_theme",
    "a2": "near_ask",
    "a3": "near_ask",
    "a4": "unique",
    "a5": "repeat",
    "a6": "under_review",
    "a7": "unique",
    "a8": "unique",
    "o1": "other_language",
    "o2": "other_language",
    "s2": "repeat",
    "c1": "repeat",
    "c2": "repeat",
}


def _records() -> list[tuple[str, bytes]]:
    records = [
        ("themes", event_json(theme("t-maps", product=PRODUCT, title="Offline maps"))),
        (
            "themes",
            event_json(theme("t-gone", product=PRODUCT, status=ThemeStatus.MERGED, merged_into="t-maps")),
        ),
    ]
    for n, (sid, author, text, theme_id, kind, of, has_vector) in enumerate(ASKS):
        comment = CommentAccepted(
            comment_id=f"c-{sid}",
            platform="x",  # type: ignore[arg-type]
            product=PRODUCT,
            author_id=author,
            author_handle=f"@{author}",
            text=text,
            created_at=T0 + timedelta(minutes=n),
            key=f"x:c-{sid}",
            received_at=T0,
            source=SourceRef(topic="feedback.comments", partition=0, offset=n),
        )
        records.append((
            "theme-members",
            event_json(SuggestionThemed(
                suggestion_id=sid, product=PRODUCT, theme_id=theme_id, duplicate_of=of, duplicate_kind=kind,
                similarity=0.9 if kind else None, platform="x",  # type: ignore[arg-type]
                comment_id=comment.comment_id, author_id=author, author_handle=f"@{author}", text=text,
                ask_start=0, ask_end=len(text), comment_text=text, asked_at=comment.created_at, placed_at=T0,
            )),
        ))
        if has_vector:
            records.append((
                "suggestions",
                event_json(SuggestionDetected(
                    suggestion_id=sid, comment=comment, ask=whole_ask(text), score=0.9,
                    embedding=[float(x) for x in WordHashEmbedder().embed([text])[0]],
                    embedding_model="word-hash", detected_at=T0,
                )),
            ))
    return records


@pytest.fixture(scope="module", params=DATABASES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("alone")
    engine = migrated_database(request, tmp / "rm.db")
    apply_batch(engine, _records())
    keys = {role.name: create_key(engine, name=f"{role.name}-key", role=role) for role in Role}
    settings = Settings(kafka_bootstrap="127.0.0.1:1", state_dir=tmp)
    app = create_api(settings, engine=engine, project=False, commands=False, embedder=WordHashEmbedder)
    with TestClient(app) as client:
        yield client, keys


def _get(world: tuple[TestClient, dict[str, str]], role: str = "viewer", **params: Any) -> Any:
    client, keys = world
    response = client.get("/themes/alone", params=params, headers={"X-API-Key": keys[role]})
    assert response.status_code == 200, response.text
    return response.json()


def test_every_ask_in_no_theme_is_listed_with_its_reason(world: tuple[TestClient, dict[str, str]]) -> None:
    report = _get(world, product=PRODUCT, limit=500)
    assert report["alone"] == 13 and report["considered"] == 13
    # the merged theme's member is not in a live theme; the repeats of the live theme's asks are,
    # and the repeat of an alone ask is alone with it whatever its row says
    assert report["in_themes"] == 7
    got = {item["suggestion"]["suggestion_id"]: item["reason"] for item in report["items"]}
    assert got == EXPECTED
    assert report["reasons"] == {
        "repeat": 4, "under_review": 1, "near_ask": 2, "near_theme": 1, "other_language": 2, "unique": 3
    }
    details = {item["suggestion"]["suggestion_id"]: item["detail"] for item in report["items"]}
    assert "another language" in details["o1"]
    by_id = {item["suggestion"]["suggestion_id"]: item for item in report["items"]}
    assert by_id["a1"]["nearest_theme_id"] == "t-maps"
    assert by_id["a1"]["nearest_theme_title"] == "Offline maps"
    assert by_id["a1"]["theme_similarity"] >= 0.5 and "«Offline maps»" in by_id["a1"]["detail"]
    assert by_id["a2"]["nearest_ask_id"] == "a3" and by_id["a2"]["ask_similarity"] >= 0.55
    assert by_id["a4"]["nearest_ask_id"] != "a5"  # its repeat is not a second person's ask beside it
    assert by_id["a7"]["theme_similarity"] is None and by_id["a7"]["ask_similarity"] is None
    newest = [item["suggestion"]["suggestion_id"] for item in report["items"]][:2]
    assert newest == ["c2", "c1"]


def test_alone_asks_filter_by_reason_mask_people_below_pm_and_need_a_product(
    world: tuple[TestClient, dict[str, str]],
) -> None:
    near = _get(world, product=PRODUCT, reason="near_ask")
    assert sorted(item["suggestion"]["suggestion_id"] for item in near["items"]) == ["a2", "a3"]
    assert near["alone"] == 13  # the counts stay those of the product
    assert _get(world, product=PRODUCT, limit=1)["items"][0]["suggestion"]["author_handle"] is None
    as_pm = _get(world, role="pm", product=PRODUCT, limit=1)
    assert as_pm["items"][0]["suggestion"]["author_handle"] == "@u23"
    nobody = _get(world, product="nobody")
    assert nobody["alone"] == 0 and nobody["items"] == [] and set(nobody["reasons"].values()) == {0}
    client, keys = world
    assert client.get("/themes/alone", headers={"X-API-Key": keys["viewer"]}).status_code == 422
    assert client.get("/themes/alone", params={"product": PRODUCT, "reason": "bored"},
                      headers={"X-API-Key": keys["viewer"]}).status_code == 422
    assert client.get("/themes/alone", params={"product": PRODUCT}).status_code == 401


def test_alone_reasons_follow_the_theme_levels() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(2, 8)).astype(np.float32)
    theme_ids, centres = theme_centres(["t", "t"], base)
    assert theme_ids == ["t"] and np.isclose(np.linalg.norm(centres[0]), 1.0)
    asks = [AloneAsk("x", "p1"), AloneAsk("y", "p2")]
    same = np.stack([centres[0], centres[0]]).astype(np.float32)
    reasons = alone_reasons(asks, same, theme_ids=theme_ids, centres=centres)
    assert [r.reason for r in reasons] == ["near_ask", "near_ask"]  # two people: a group beats a join
    one_person = [AloneAsk("x", "p1"), AloneAsk("y", "p1")]
    reasons = alone_reasons(one_person, same, theme_ids=theme_ids, centres=centres)
    assert [r.reason for r in reasons] == ["near_theme", "near_theme"]
    assert alone_reasons([], np.zeros((0, 8), np.float32), theme_ids=[], centres=np.zeros((0, 8))) == []
    with pytest.raises(ValueError):
        alone_reasons(asks, same[:1], theme_ids=theme_ids, centres=centres)
    far = np.stack([-centres[0], -centres[0]]).astype(np.float32)
    other = [AloneAsk("x", "p1", other_language=True), AloneAsk("y", "p2")]
    reasons = alone_reasons(other, far, theme_ids=theme_ids, centres=centres)
    # a pair with an ask in another language founds nothing: neither is near_ask
    assert [r.reason for r in reasons] == ["other_language", "unique"]
    reasons = alone_reasons(other, same, theme_ids=theme_ids, centres=centres)
    assert [r.reason for r in reasons] == ["near_theme", "near_theme"]  # a join is still open to it
    founding = ThemeConfig(other_languages_found=True)
    reasons = alone_reasons(other, far, theme_ids=theme_ids, centres=centres, config=founding)
    assert [r.reason for r in reasons] == ["near_ask", "near_ask"]


def test_a_themes_detail_lists_the_repeats_of_its_asks_made_while_they_were_alone(
    world: tuple[TestClient, dict[str, str]],
) -> None:
    client, keys = world
    viewer = {"X-API-Key": keys["viewer"]}
    response = client.get("/themes/t-maps", headers=viewer)
    assert response.status_code == 200, response.text
    listed = {item["suggestion_id"]: item for item in response.json()["suggestions"]}
    # its three asks, the repeat of m1, the repeat of that repeat and the repeat of m2 made while m2
    # was in the merged theme: what its people count and its closure thanks; not the ask under
    # review, nor the alone ask close to it, nor the repeat of an alone ask its row still names
    assert set(listed) == {"m1", "m2", "m3", "r1", "r2", "s1", "s3"}
    assert listed["r1"]["duplicate_of"] == "m1" and listed["r2"]["duplicate_of"] == "r1"
    newest = [s["suggestion_id"] for s in response.json()["suggestions"]][:4]
    assert newest == ["s3", "s1", "r2", "r1"]  # newest first
    limited = client.get("/themes/t-maps", params={"suggestions_limit": 2}, headers=viewer)
    assert [s["suggestion_id"] for s in limited.json()["suggestions"]] == ["s3", "s1"]
    # a theme none of whose asks is repeated lists its own asks only
    merged = client.get("/themes/t-gone", headers=viewer).json()
    assert [s["suggestion_id"] for s in merged["suggestions"]] == ["g1"]


def test_a_closure_preview_weighs_the_asks_the_theme_lists(world: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = world
    response = client.get("/themes/t-maps/closure-preview", params={"title": "Offline maps"},
                          headers={"X-API-Key": keys["pm"]})
    assert response.status_code == 200, response.text
    # the repeats that live beside its asks are weighed with them; the repeat of an alone ask is not
    weighed = {ask["suggestion_id"] for ask in response.json()["asks"]}
    assert weighed == {"m1", "m2", "m3", "r1", "r2", "s1", "s3"}
