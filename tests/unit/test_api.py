"""The API on a real SQLite read model (no broker: commands answer 503 here; the broker tests
publish them for real): queries, roles on every route, the error shape, keys."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import create_api
from api.readmodel.db import make_engine, upgrade
from api.readmodel.projector import apply_batch
from api.security import Role, create_key
from contracts.settings import Settings
from tests.conftest import DATABASES, migrated_database
from tests.readmodel_support import WordHashEmbedder, sample_records


@pytest.fixture(scope="module", params=DATABASES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("api")
    engine = migrated_database(request, tmp / "rm.db")
    apply_batch(engine, list(sample_records()))
    keys = {role.name: create_key(engine, name=f"{role.name}-key", role=role) for role in Role}
    settings = Settings(kafka_bootstrap="127.0.0.1:1", state_dir=tmp)
    app = create_api(settings, engine=engine, project=False, commands=False, embedder=WordHashEmbedder)
    with TestClient(app) as client:
        yield client, keys


def sample_api(tmp_path: Path) -> tuple[Any, dict[str, str], Any, Any]:
    """A fresh SQLite read model of the sample records, a key of each role, and the API on it with
    an in-memory publisher (what it sends to the broker): ``(engine, keys, app, publisher)``."""
    from tests.readmodel_support import MemoryPublisher

    engine = make_engine(f"sqlite:///{tmp_path / 'rm.db'}")
    upgrade(engine)
    apply_batch(engine, list(sample_records()))
    keys = {role.name: create_key(engine, name=f"{role.name}-key", role=role) for role in Role}
    publisher = MemoryPublisher()
    settings = Settings(kafka_bootstrap="127.0.0.1:1", state_dir=tmp_path)
    app = create_api(settings, engine=engine, project=False, publisher=publisher, embedder=WordHashEmbedder)
    return engine, keys, app, publisher


def get(world: tuple[TestClient, dict[str, str]], path: str, role: str = "viewer", **params: Any) -> Any:
    client, keys = world
    response = client.get(path, params=params, headers={"X-API-Key": keys[role]})
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict[str, Any]) -> list[str]:
    return [item["theme_id"] for item in page["items"]]


def test_themes_sort_filter_search_and_page(world: tuple[TestClient, dict[str, str]]) -> None:
    assert ids(get(world, "/themes")) == ["t-other", "t-maps", "t-dark"]  # merged t-old left out
    assert ids(get(world, "/themes", product="trailmate")) == ["t-maps", "t-dark"]
    assert ids(get(world, "/themes", product="trailmate", include_merged=True)) == [
        "t-maps",
        "t-old",
        "t-dark",
    ]
    assert ids(get(world, "/themes", quadrant="fill_in")) == ["t-dark"]
    assert ids(get(world, "/themes", platform="forum")) == ["t-dark"]
    assert ids(get(world, "/themes", min_authors=7)) == ["t-other", "t-maps"]
    assert ids(get(world, "/themes", q="DARK mode")) == ["t-dark"]
    assert ids(get(world, "/themes", q="100%_")) == []
    assert ids(get(world, "/themes", sort="authors", product="trailmate")) == ["t-maps", "t-dark"]
    page = get(world, "/themes", limit=1, offset=1)
    assert ids(page) == ["t-maps"] and page["total"] == 3


def test_theme_detail_shows_handles_to_pm_only(world: tuple[TestClient, dict[str, str]]) -> None:
    as_viewer = get(world, "/themes/t-maps")
    assert len(as_viewer["suggestions"]) == 3
    assert all(s["author_handle"] is None for s in as_viewer["suggestions"])
    assert "@person" not in str(as_viewer)
    assert as_viewer["score"]["formula_version"] == "impact-cost/1"
    assert [h["to_status"] for h in as_viewer["history"]] == ["planned"]
    as_pm = get(world, "/themes/t-maps", role="pm")
    assert {s["author_handle"] for s in as_pm["suggestions"]} == {"@person1", "@person2", "@person3"}


def test_theme_detail_shows_each_ask_with_its_comment(world: tuple[TestClient, dict[str, str]]) -> None:
    for role in ("viewer", "pm"):
        for item in get(world, "/themes/t-maps", role=role)["suggestions"]:
            assert item["text"].startswith("please add offline maps") and item["comment_text"] == item["text"]
            if role == "pm":
                assert item["comment_text"][item["ask_start"] : item["ask_end"]] == item["text"]
            else:
                assert item["ask_start"] is None and item["ask_end"] is None


def test_closures_name_people_to_pm_only(world: tuple[TestClient, dict[str, str]]) -> None:
    (as_viewer,) = get(world, "/closures", product="trailmate")
    assert as_viewer["people_count"] == 1 and as_viewer["title"] == "Offline maps"
    assert "@person" not in str(as_viewer)
    (as_pm,) = get(world, "/closures", role="pm")
    assert as_pm["event"]["people"][0]["handle"] == "@person1"


def test_command_outcomes(world: tuple[TestClient, dict[str, str]]) -> None:
    assert get(world, "/commands/cmd-1")["accepted"] is True
    rejected = get(world, "/commands/cmd-2")
    assert rejected["accepted"] is False and rejected["code"] == "illegal_transition"
    client, keys = world
    pending = client.get("/commands/nope", headers={"X-API-Key": keys["viewer"]})
    assert pending.status_code == 404 and pending.json()["error"]["code"] == "pending"


def test_valid_suggestions_per_month(world: tuple[TestClient, dict[str, str]]) -> None:
    metrics = get(world, "/metrics/monthly", product="trailmate")
    assert metrics["months"] == [
        {"month": "2026-03", "suggestions": 6, "distinct_authors": 4},
        {"month": "2026-04", "suggestions": 1, "distinct_authors": 1},
    ]
    assert metrics["rejected_by_reason"] == {"praise": 1}
    assert get(world, "/metrics/monthly", platform="forum")["months"] == []


def test_commands_need_the_pm_role_and_a_broker(world: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = world
    body = {"status": "planned", "reason": "many ask"}
    assert (
        client.post("/themes/t-maps/status", json=body, headers={"X-API-Key": keys["viewer"]}).status_code
        == 403
    )
    answer = client.post("/themes/t-maps/status", json=body, headers={"X-API-Key": keys["pm"]})
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "broker_unavailable"
    bad = client.post("/themes/t-maps/status", json={"status": "done"}, headers={"X-API-Key": keys["pm"]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_keys_are_created_by_admins_and_revoked(world: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = world
    made = client.post("/keys", json={"name": "dash", "role": "viewer"}, headers={"X-API-Key": keys["admin"]})
    assert made.status_code == 201
    new = made.json()["key"]
    assert client.get("/themes", headers={"X-API-Key": new}).status_code == 200
    assert (
        client.post("/keys", json={"name": "x", "role": "admin"}, headers={"X-API-Key": new}).status_code
        == 403
    )
    gone = client.delete(f"/keys/{made.json()['key_id']}", headers={"X-API-Key": keys["admin"]})
    assert gone.status_code == 204
    assert client.get("/themes", headers={"X-API-Key": new}).status_code == 401
    assert client.get("/themes", headers={"X-API-Key": new[:-2] + "xx"}).status_code == 401


# The least role of every route; a route missing here fails the test below.
LEAST_ROLE = {
    ("GET", "/health"): None,
    ("GET", "/ready"): None,
    ("GET", "/metrics"): None,
    ("GET", "/themes"): "viewer",
    ("GET", "/themes/{theme_id}"): "viewer",
    ("GET", "/themes/{theme_id}/closure-preview"): "pm",
    ("GET", "/themes/search"): "viewer",
    ("GET", "/themes/alone"): "viewer",
    ("GET", "/themes/pairs"): "viewer",
    ("POST", "/themes/{theme_id}/status"): "pm",
    ("POST", "/themes/{theme_id}/cost"): "pm",
    ("POST", "/themes/{theme_id}/release"): "pm",
    ("POST", "/themes/{theme_id}/title"): "pm",
    ("POST", "/themes/{theme_id}/merge"): "pm",
    ("POST", "/themes/{theme_id}/keep-apart"): "pm",
    ("POST", "/themes/{theme_id}/place"): "pm",
    ("GET", "/suggestions/{suggestion_id}/themes"): "viewer",
    ("POST", "/themes/{theme_id}/split"): "pm",
    ("POST", "/themes/{theme_id}/askers/{author_hash}/include"): "pm",
    ("POST", "/themes/{theme_id}/askers/{author_hash}/exclude"): "pm",
    ("GET", "/commands/{command_id}"): "viewer",
    ("GET", "/review-queue"): "viewer",
    ("POST", "/review-queue/{suggestion_id}/confirm"): "pm",
    ("POST", "/review-queue/{suggestion_id}/reject"): "pm",
    ("POST", "/erasures"): "admin",
    ("GET", "/closures"): "viewer",
    ("GET", "/closures/{closure_id}/impact"): "viewer",
    ("GET", "/metrics/monthly"): "viewer",
    ("GET", "/metrics/dialogue"): "viewer",
    ("GET", "/monthly-updates"): "viewer",
    ("GET", "/metrics/shipped"): "viewer",
    ("GET", "/matrix"): "viewer",
    ("GET", "/me"): "viewer",
    ("GET", "/pipeline"): "viewer",
    ("GET", "/public/themes"): None,
    ("GET", "/public/monthly-update"): None,
    ("GET", "/dashboard"): None,
    ("GET", "/board"): None,
    ("GET", "/"): None,
    ("GET", "/static/{name}"): None,
    ("POST", "/ingest"): "signature",
    ("POST", "/keys"): "admin",
    ("DELETE", "/keys/{key_id}"): "admin",
}
BODIES = {
    "/themes/{theme_id}/status": {"status": "planned"},
    "/themes/{theme_id}/cost": {"cost": {"size": "s"}},
    "/themes/{theme_id}/release": {"release": {"name": "Spring", "version": "2.0"}},
    "/themes/{theme_id}/title": {"title": "Dark mode"},
    "/themes/{theme_id}/merge": {"source_ids": ["t-dark"]},
    "/themes/{theme_id}/keep-apart": {"other_ids": ["t-dark"]},
    "/themes/{theme_id}/place": {"suggestion_id": "x:c12"},
    "/themes/{theme_id}/split": {"parts": [{"new_theme_id": "t-new", "member_ids": ["x:c1"]}]},
    "/keys": {"name": "k", "role": "viewer"},
    "/review-queue/{suggestion_id}/confirm": {},
    "/review-queue/{suggestion_id}/reject": {"reason": "different asks"},
    "/erasures": {"platform": "x", "author_id": "nobody-at-all"},
}


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every API route, those of included routers too (FastAPI keeps those behind a wrapper)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # included without a prefix
            found.extend(api_routes(route.original_router.routes))
    return found


def test_every_route_with_every_role_and_with_no_key(world: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = world
    app: Any = client.app
    routes = {(method, route.path) for route in api_routes(app.routes) for method in route.methods}
    assert routes == set(LEAST_ROLE), "a route without a declared least role"
    order = ["viewer", "pm", "admin"]
    for (method, path), least in LEAST_ROLE.items():
        if least == "signature":  # no API key opens it: only a signature does (tested below)
            for role in [None, *order]:
                headers = {"X-API-Key": keys[role]} if role else {}
                assert client.request(method, path, headers=headers, json={}).status_code in (401, 404)
            continue
        url = (
            path.replace("/themes/search", "/themes/search?q=maps")
            .replace("/themes/alone", "/themes/alone?product=trailmate")
            .replace("/themes/pairs", "/themes/pairs?product=trailmate")
            .replace("{theme_id}", "t-maps")
            .replace("{command_id}", "cmd-1")
            .replace("{key_id}", "none")
            .replace("{name}", "app.css")
            .replace("{suggestion_id}", "x:c12")
            .replace("{closure_id}", "closure:t-maps:none")
        )
        for role in [None, *order]:
            headers = {"X-API-Key": keys[role]} if role else {}
            response = client.request(method, url, headers=headers, json=BODIES.get(path))
            allowed = least is None or (role is not None and order.index(role) >= order.index(least))
            if allowed:
                assert response.status_code not in (401, 403), (method, path, role, response.text)
                assert response.status_code < 500 or response.status_code == 503, (method, path, role)
            else:
                assert response.status_code == (401 if role is None else 403), (method, path, role)
                assert set(response.json()) == {"error"}
                assert "@person" not in response.text


def test_one_error_shape(world: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = world
    for response in (
        client.get("/nowhere"),
        client.get("/themes/none", headers={"X-API-Key": keys["viewer"]}),
        client.get("/themes", params={"limit": 0}, headers={"X-API-Key": keys["viewer"]}),
        client.get("/themes"),
    ):
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body


def test_key_command_line_creates_a_working_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from api.security import authenticate
    from contracts import settings as settings_module
    from youasked.cli import app

    monkeypatch.setenv("YOUASKED_STATE_DIR", str(tmp_path))
    settings_module.get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["key", "create", "--name", "ana", "--role", "pm"])
        assert result.exit_code == 0, result.output
        caller = authenticate(make_engine(f"sqlite:///{tmp_path / 'readmodel.db'}"), result.output.strip())
        assert caller is not None and caller.role is Role.pm and caller.name == "ana"
    finally:
        settings_module.get_settings.cache_clear()


def test_monthly_updates_and_shipped_metrics(world: tuple[TestClient, dict[str, str]]) -> None:
    (update,) = get(world, "/monthly-updates", product="trailmate")
    assert update["month"] == "2026-03" and update["distinct_people"] == 7
    shipped = get(world, "/metrics/shipped", product="trailmate")
    assert shipped["months"] == [{"month": "2026-03", "shipped": 1, "median_days_to_ship": 30.0}]
    assert get(world, "/metrics/shipped", product="otherapp")["months"] == []


def test_signed_ingest_puts_comments_on_the_topic(tmp_path: Path) -> None:
    import json
    import time

    from api.ingest import sign
    from tests.readmodel_support import MemoryPublisher

    engine = make_engine(f"sqlite:///{tmp_path / 'rm.db'}")
    upgrade(engine)
    publisher = MemoryPublisher()
    settings = Settings(
        kafka_bootstrap="127.0.0.1:1", state_dir=tmp_path, ingest_secret="s3cret", ingest_max_bytes=4096
    )
    comments = [{"comment_id": "c1", "platform": "x", "text": "please add maps"}, {"comment_id": "c2"}]
    body = json.dumps(comments).encode()

    def post(payload: bytes, *, secret: str = "s3cret", age: int = 0) -> Any:
        stamp = str(int(time.time()) - age)
        headers = {"X-Youasked-Timestamp": stamp, "X-Youasked-Signature": sign(secret, payload, stamp)}
        return client.post(
            "/ingest", content=payload, headers={**headers, "Content-Type": "application/json"}
        )

    with TestClient(create_api(settings, engine=engine, project=False, publisher=publisher)) as client:
        accepted = post(body)
        assert accepted.status_code == 202 and accepted.json() == {"accepted": 2}
        assert [json.loads(value) for _, _, value in publisher.sent] == comments
        assert {topic for topic, _, _ in publisher.sent} == {"feedback.comments"}
        assert post(body, secret="guess").status_code == 401
        assert post(body, age=3600).status_code == 401  # outside the window: a replayed request
        assert post(b'"just a string"').status_code == 400
        assert post(b"[1, 2]").status_code == 400
        assert post(b"[" + b'{"t": "x"},' * 1000 + b"{}]").status_code == 413
        unsigned = client.post("/ingest", content=body, headers={"Content-Type": "application/json"})
        assert unsigned.status_code == 401 and set(unsigned.json()) == {"error"}
    assert len(publisher.sent) == 2


def test_semantic_search_finds_themes_by_meaning(world: tuple[TestClient, dict[str, str]]) -> None:
    found = get(world, "/themes/search", q="a dark theme for night use")
    assert found["items"][0]["theme_id"] == "t-dark"
    assert found["items"][0]["similarity"] > found["items"][1]["similarity"]
    assert "t-old" not in [hit["theme_id"] for hit in found["items"]]  # merged themes are not searched
    other = get(world, "/themes/search", q="export csv", product="otherapp")
    assert [hit["theme_id"] for hit in other["items"]] == ["t-other"]
    assert get(world, "/themes/search", q="maps", product="nobody")["items"] == []


def test_the_review_queue_lists_possible_duplicates_with_their_originals(
    world: tuple[TestClient, dict[str, str]],
) -> None:
    queue = get(world, "/review-queue", product="trailmate")
    assert [item["suggestion"]["suggestion_id"] for item in queue] == ["x:c12", "x:c13"]  # most similar first
    first, second = queue
    assert first["original"]["suggestion_id"] == "x:c1" and first["original_theme_id"] == "t-maps"
    assert first["theme_id"] == "t-dark" and first["same_theme"] is False and first["similarity"] == 0.71
    assert second["original"]["suggestion_id"] == "forum:c9" and second["same_theme"] is True
    assert "@person" not in str(queue)
    as_pm = get(world, "/review-queue", role="pm", product="trailmate")
    assert as_pm[0]["suggestion"]["author_handle"] == "@person12"
    assert get(world, "/review-queue", product="otherapp") == []


def test_review_decisions_and_erasure_publish_commands_and_erasure_empties_the_read_model(
    tmp_path: Path,
) -> None:
    _, keys, app, publisher = sample_api(tmp_path)
    with TestClient(app) as client:
        pm, admin = {"X-API-Key": keys["pm"]}, {"X-API-Key": keys["admin"]}
        confirmed = client.post("/review-queue/x:c12/confirm", json={"reason": "same ask"}, headers=pm)
        assert confirmed.status_code == 202, confirmed.text
        ((topic, key, value),) = publisher.sent
        command = json.loads(value)
        assert (topic, key) == ("feedback.theme-commands", b"trailmate")
        assert command["kind"] == "confirm_duplicate" and command["suggestion_id"] == "x:c12"
        assert command["theme_id"] == "t-dark" and command["command_id"] == confirmed.json()["command_id"]
        assert client.post("/review-queue/x:nobody/reject", json={}, headers=pm).status_code == 404

        publisher.sent.clear()
        body = {"suggestion_id": "x:c12", "reason": "maps"}
        placed = client.post("/themes/t-maps/place", json=body, headers=pm)
        assert placed.status_code == 202, placed.text
        ((topic, key, value),) = publisher.sent
        command = json.loads(value)
        assert (topic, key, command["kind"]) == ("feedback.theme-commands", b"trailmate", "place")
        assert (command["theme_id"], command["suggestion_id"]) == ("t-maps", "x:c12")
        for body, code in (({"suggestion_id": "x:nobody"}, 404), ({"suggestion_id": "x\u0000"}, 422),
                           ({"suggestion_id": " "}, 422), ({}, 422)):
            assert client.post("/themes/t-maps/place", json=body, headers=pm).status_code == code, body
        other = client.post("/themes/t-other/place", json={"suggestion_id": "x:c12"}, headers=pm)
        assert other.status_code == 404  # an ask of another product

        publisher.sent.clear()
        erased = client.post("/erasures", json={"platform": "x", "author_id": "user1"}, headers=admin)
        assert erased.status_code == 202, erased.text
        body = erased.json()
        assert body["products"] == ["otherapp", "trailmate"]
        assert body["removed"] == {"suggestions": 1, "classifications": 2, "closures": 1}
        topics = [topic for topic, _, _ in publisher.sent]
        assert topics == ["feedback.erasures", "feedback.theme-commands", "feedback.theme-commands"]
        assert b"user1" not in b"".join(value for _, _, value in publisher.sent)  # named by hash only
        commands = [json.loads(value) for _, _, value in publisher.sent[1:]]
        assert {c["product"] for c in commands} == {"otherapp", "trailmate"}
        assert all(c["kind"] == "erase_author" and c["author_hash"] == body["author_hash"] for c in commands)

        seen = "".join(
            client.get(path, headers=admin).text
            for path in ("/themes/t-maps", "/closures", "/review-queue", "/themes?product=trailmate")
        )
        assert "idea 12" in seen  # others are still there
        assert not re.search(r"person1\b|user1\b|idea 1\b", seen)
        refused = client.post("/erasures", json={"platform": "x", "author_id": "user1"}, headers=pm)
        assert refused.status_code == 403


def test_handles_in_peoples_words_are_masked_for_roles_without_handles() -> None:
    from api.reads import mask_handles

    said = "@trailmate please add maps, like @maya_59 said."
    assert mask_handles(said) == "@… please add maps, like @… said."
    assert mask_handles("mail me at ana@example.com") == "mail me at ana@example.com"
    assert mask_handles(None) is None


def test_closure_preview_thanks_only_asks_before_the_release_that_asked_for_it(
    world: tuple[TestClient, dict[str, str]],
) -> None:
    # the sample's t-maps asks: "please add offline maps, idea N", asked N days before 2026-03-02
    # the test embedder hashes words: the title shares five of each ask's six words
    preview = get(world, "/themes/t-maps/closure-preview", role="pm", release="2.4.0",
                  released_on="2026-02-28", title="please add offline maps, idea")
    verdicts = {ask["comment_id"]: ask for ask in preview["asks"]}
    assert verdicts["c1"]["verdict"] == "asked_after_shipping"
    assert verdicts["c1"]["release_similarity"] is None
    before = [ask for ask in preview["asks"] if ask["verdict"] != "asked_after_shipping"]
    assert {ask["comment_id"] for ask in before} >= {"c2", "c3"}
    assert all(ask["asked_at"] < "2026-03-01" for ask in before)
    assert all(ask["verdict"] in ("thanked", "held") for ask in before)  # none left out
    assert preview["thanked"] + preview["held"] == len(before)
    assert preview["asked_after_shipping"] == len(preview["asks"]) - len(before)
    assert verdicts["c2"]["author_handle"] == "@person2"

    elsewhere = get(world, "/themes/t-maps/closure-preview", role="pm", released_on="2026-02-28",
                    title="Export to spreadsheet")
    assert elsewhere["thanked"] == 0 and elsewhere["left_out"] == len(before)
    far = {ask["comment_id"]: ask["release_similarity"] for ask in elsewhere["asks"]}
    assert all(far[ask["comment_id"]] < ask["release_similarity"] for ask in before)


def test_closure_preview_is_for_product_managers(world: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = world
    viewer = client.get("/themes/t-maps/closure-preview", headers={"X-API-Key": keys["viewer"]})
    assert viewer.status_code == 403
    missing = client.get("/themes/t-none/closure-preview", headers={"X-API-Key": keys["pm"]})
    assert missing.status_code == 404 and set(missing.json()) == {"error"}


def test_a_pms_include_and_exclude_are_commands_and_the_preview_shows_them(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from contracts.events import LifecycleStatus, event_json
    from contracts.lifecycle import CommandKind, CommandOutcome, HistoryChange

    engine, keys, app, publisher = sample_api(tmp_path)
    pm = {"X-API-Key": keys["pm"]}
    query = {"release": "2.4.0", "released_on": "2026-02-28", "title": "please add offline maps, idea"}
    with TestClient(app) as client:
        before = client.get("/themes/t-maps/closure-preview", params=query, headers=pm).json()
        c2 = next(ask for ask in before["asks"] if ask["comment_id"] == "c2")
        assert c2["verdict"] == "thanked" and c2["decided_by"] is None
        path = f"/themes/t-maps/askers/{c2['author_hash']}/exclude"
        sent = client.post(path, json={"reason": "asked about maps on the watch"}, headers=pm)
        assert sent.status_code == 202, sent.text
        ((topic, key, value),) = publisher.sent
        command = json.loads(value)
        assert (topic, key) == ("feedback.theme-commands", b"trailmate")
        assert command["kind"] == "exclude_asker" and command["author_hash"] == c2["author_hash"]
        assert command["command_id"] == sent.json()["command_id"]
        refused = client.post("/themes/t-maps/askers/not-a-hash/include", json={}, headers=pm)
        as_viewer = {"X-API-Key": keys["viewer"]}
        viewer = client.post(path.replace("exclude", "include"), json={}, headers=as_viewer)
        assert refused.status_code == 422 and viewer.status_code == 403

        # the worker accepts it; once projected, the preview applies it
        now = datetime(2026, 3, 3, tzinfo=UTC)
        outcome = CommandOutcome(
            command_id=command["command_id"], product="trailmate", theme_id="t-maps",
            kind=CommandKind.EXCLUDE_ASKER, accepted=True, author_hash=c2["author_hash"], decided_at=now,
            changes=[HistoryChange(theme_id="t-maps", kind="exclude_asker", from_status=LifecycleStatus.NEW,
                                   to_status=LifecycleStatus.NEW, actor="pm-key", reason="the watch",
                                   detail=f"excluded {c2['author_hash']}", at=now, issued_at=now)],
        )
        apply_batch(engine, [("theme-outcomes", event_json(outcome))])
        after = client.get("/themes/t-maps/closure-preview", params=query, headers=pm).json()
        decided = next(ask for ask in after["asks"] if ask["comment_id"] == "c2")
        assert decided["verdict"] == "left_out" and decided["decided_by"] == "pm-key"
        assert "pm-key" in decided["rule"] and after["left_out"] == before["left_out"] + 1
        others = [ask for ask in after["asks"] if ask["author_hash"] != c2["author_hash"]]
        assert all(ask["decided_by"] is None for ask in others)


def test_an_ask_a_pm_placed_in_the_theme_is_thanked_by_the_preview_whatever_its_cosines(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime

    from contracts.events import LifecycleStatus, event_json
    from contracts.lifecycle import CommandKind, CommandOutcome, HistoryChange
    from models.closure_selection import RULE_PLACED

    engine, keys, app, _ = sample_api(tmp_path)
    pm = {"X-API-Key": keys["pm"]}
    query = {"released_on": "2026-02-28", "title": "Export to spreadsheet"}  # no ask's words
    with TestClient(app) as client:
        before = client.get("/themes/t-maps/closure-preview", params=query, headers=pm).json()
        c2 = next(ask for ask in before["asks"] if ask["comment_id"] == "c2")
        late = next(ask for ask in before["asks"] if ask["verdict"] == "asked_after_shipping")
        assert c2["verdict"] == "left_out" and before["thanked"] == 0
        now = datetime(2026, 3, 3, tzinfo=UTC)

        def placed(command_id: str, suggestion_id: str) -> tuple[str, bytes]:
            change = HistoryChange(theme_id="t-maps", kind="place", from_status=LifecycleStatus.NEW,
                                   to_status=LifecycleStatus.NEW, actor="pm-key", reason="maps",
                                   detail=f"from=alone, suggestion={suggestion_id}", at=now, issued_at=now)
            outcome = CommandOutcome(command_id=command_id, product="trailmate", theme_id="t-maps",
                                     kind=CommandKind.PLACE, accepted=True, changes=[change], decided_at=now)
            return "theme-outcomes", event_json(outcome)

        apply_batch(engine, [placed("cmd-p1", c2["suggestion_id"]), placed("cmd-p2", late["suggestion_id"])])
        after = client.get("/themes/t-maps/closure-preview", params=query, headers=pm).json()
        verdicts = {ask["suggestion_id"]: ask for ask in after["asks"]}
        assert (verdicts[c2["suggestion_id"]]["verdict"], verdicts[c2["suggestion_id"]]["rule"]) == (
            "thanked", RULE_PLACED
        )
        assert verdicts[late["suggestion_id"]]["verdict"] == "asked_after_shipping"  # never thanked for it
        assert after["thanked"] == 1 and after["left_out"] == before["left_out"] - 1
        detail = client.get("/themes/t-maps", headers=pm).json()
        assert {a["suggestion_id"] for a in detail["suggestions"] if a["placed"]} == {
            c2["suggestion_id"], late["suggestion_id"]
        }
