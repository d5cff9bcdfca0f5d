"""The pages and their routes on a real SQLite read model: the public board names no one even when
the read model holds handles in labels, posts and texts; the matrix; pipeline health without a
broker; the pages' assets are all local."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_api
from api.public import public_post, redact_label
from api.readmodel.db import make_engine, upgrade
from api.readmodel.projector import apply_batch
from api.security import Role, create_key
from contracts.events import LifecycleStatus, event_json
from contracts.lifecycle import ClosureAsker, ClosureComment, ClosurePost
from contracts.settings import Settings
from contracts.topics import DEAD_LETTER_TOPICS
from models.templates import load_templates
from tests.readmodel_support import T0, WordHashEmbedder, closure, member, monthly, sample_records, theme

PEOPLE = re.compile(r"@?person\d+|user\d+", re.IGNORECASE)


def identifying_records() -> list[tuple[str, bytes | None]]:
    """The sample, plus themes whose label carries a handle and closures whose posts name people."""
    records: list[tuple[str, bytes | None]] = list(sample_records())
    records.append(
        (
            "themes",
            event_json(
                theme(
                    "t-shipped",
                    label="person2 / offline / @person3 / routes",
                    authors=4,
                    lifecycle=LifecycleStatus.SHIPPED,
                )
            ),
        )
    )
    records.append(
        ("themes", event_json(theme("t-planned", label="user3 / sync", title="Sync like user3 said",
                                    lifecycle=LifecycleStatus.PLANNED)))
    )
    records.append(("themes", event_json(theme("t-titled", product="hikeapp", label="offline / maps",
                                               title="Offline maps", lifecycle=LifecycleStatus.PLANNED))))
    records += [("theme-members", event_json(member(i, "t-shipped"))) for i in range(20, 24)]
    records += [("theme-members", event_json(member(i, "t-planned"))) for i in range(2, 4)]
    named = closure("t-shipped")
    named = named.model_copy(
        update={
            "closure_key": "closure:t-shipped:none",
            "title": "Offline routes for person2",
            "people_count": 3,
            "people": [
                ClosureAsker(
                    platform="x",  # type: ignore[arg-type]
                    author_id=f"user{i}",
                    handle=f"@person{i}",
                    comments=[ClosureComment(comment_id=f"c{i}", asked_at=T0 - timedelta(days=1))],
                )
                for i in (20, 21, 22)
            ],
            "public_posts": [
                ClosurePost(
                    platform="x",  # type: ignore[arg-type]
                    text="You asked, we did: offline routes are now available in our latest update.\n"
                    "Thank you @person20, @person21 and the 1 others who asked.",
                    length=120,
                    limit=280,
                    mentioned_handles=["@person20", "@person21"],
                    people_on_platform=3,
                )
            ],
        }
    )
    records.append(("closures", event_json(named)))
    records.append(
        (
            "monthly-updates",
            event_json(
                monthly(month="2026-04").model_copy(
                    update={
                        "text": "What we shipped in April 2026\n"
                        "- Offline routes (3 people asked)\nThanks @person20!"
                    }
                )
            ),
        )
    )
    return records


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    tmp = tmp_path_factory.mktemp("pages")
    engine = make_engine(f"sqlite:///{tmp / 'rm.db'}")
    upgrade(engine)
    apply_batch(engine, identifying_records())
    viewer = create_key(engine, name="wall", role=Role.viewer)
    settings = Settings(kafka_bootstrap="127.0.0.1:1", state_dir=tmp)
    app = create_api(settings, engine=engine, project=False, commands=False, embedder=WordHashEmbedder)
    with TestClient(app) as test_client:
        yield test_client, viewer


def test_the_public_board_names_no_one(client: tuple[TestClient, str]) -> None:
    test_client, _ = client
    for product in (None, "trailmate"):
        params = {"product": product} if product else {}
        answer = test_client.get("/public/themes", params=params)
        assert answer.status_code == 200, answer.text
        assert not PEOPLE.search(answer.text), answer.text
        assert (
            "representative" not in answer.text
            and "priority" not in answer.text
            and "http" not in answer.text
        )
    board = test_client.get("/public/themes", params={"product": "trailmate"}).json()
    columns = {c["status"]: c for c in board["columns"]}
    assert list(columns) == ["under_review", "planned", "in_progress", "shipped"]
    assert [t["theme_id"] for t in columns["under_review"]["themes"]] == [
        "t-maps",
        "t-dark",
    ]  # most people first
    (planned,) = columns["planned"]["themes"]
    assert planned["title"] == "sync"  # its title named someone who asked: the keywords stand in
    other = test_client.get("/public/themes", params={"product": "hikeapp"}).json()
    assert [t["title"] for c in other["columns"] for t in c["themes"]] == ["Offline maps"]
    (shipped,) = columns["shipped"]["themes"]
    assert shipped["title"] == "Offline routes for" and shipped["people"] == 4
    post = shipped["shipped"]["post"]
    assert post.startswith("You asked, we did: offline routes") and "3 of you asked for this" in post
    update = test_client.get("/public/monthly-update", params={"product": "trailmate"})
    assert update.status_code == 200 and not PEOPLE.search(update.text)
    assert update.json()["month"] == "2026-04" and "Offline routes" in update.json()["text"]
    assert test_client.get("/public/monthly-update", params={"product": "nobody"}).json()["text"] is None


def test_a_follow_up_closure_adds_its_people_to_the_board_and_keeps_the_post(tmp_path: Path) -> None:
    first = closure("t-1").model_copy(update={"people_count": 2, "generated_at": T0})
    added = ClosureAsker(
        platform="x",  # type: ignore[arg-type]
        author_id="user9",
        handle="@person9",
        comments=[ClosureComment(comment_id="c9", asked_at=T0 - timedelta(days=2))],
    )
    follow_up = first.model_copy(
        update={
            "closure_id": "closure:t-1:none:+a9",
            "closure_key": "closure:t-1:none:+a9",
            "follow_up_of": first.closure_key,
            "people": [added],
            "people_count": 1,
            "public_posts": [],
            "generated_at": T0 + timedelta(days=3),
        }
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'rm.db'}")
    upgrade(engine)
    shipped_theme = theme("t-1", title="Offline maps", authors=5, lifecycle=LifecycleStatus.SHIPPED)
    records = [("themes", shipped_theme), ("closures", first), ("closures", follow_up)]
    apply_batch(engine, [(topic, event_json(event)) for topic, event in records])
    settings = Settings(kafka_bootstrap="127.0.0.1:1", state_dir=tmp_path)
    app = create_api(settings, engine=engine, project=False, commands=False, embedder=WordHashEmbedder)
    viewer = create_key(engine, name="wall", role=Role.viewer)
    with TestClient(app) as test_client:
        board = test_client.get("/public/themes", params={"product": "trailmate"}).json()
        shipped = test_client.get("/metrics/shipped", headers={"X-API-Key": viewer}).json()
    assert [(m["month"], m["shipped"]) for m in shipped["months"]] == [("2026-03", 1)]  # one theme shipped
    (card,) = next(c for c in board["columns"] if c["status"] == "shipped")["themes"]
    assert card["people"] == 5
    # the post and the date are the first closure's; the follow-up thanked one more person
    assert card["shipped"]["thanked"] == 3
    assert card["shipped"]["post"] == "2 of you asked for this. Thank you."  # its line named someone
    assert card["shipped"]["shipped_at"].startswith(T0.date().isoformat())


def test_redaction_keeps_the_words_that_name_no_one() -> None:
    identities = {"person1", "user7"}
    assert redact_label("offline / person1 / @someone / maps", identities) == "offline / maps"
    assert redact_label("USER7 / @x", identities) == ""
    templates = load_templates()
    silent = {
        "people_count": 2,
        "public_posts": [
            {"platform": "x", "text": "Thanks @person1", "mentioned_handles": ["@person1"]},
            {
                "platform": "google_play",
                "text": "You asked for maps. 2 of you asked.",
                "mentioned_handles": [],
            },
        ],
    }
    assert public_post(silent, identities, templates) == "You asked for maps. 2 of you asked."
    assert public_post({"public_posts": []}, identities, templates) is None


def test_the_matrix_gives_points_and_trends(client: tuple[TestClient, str]) -> None:
    test_client, viewer = client
    answer = test_client.get("/matrix", params={"product": "trailmate"}, headers={"X-API-Key": viewer})
    assert answer.status_code == 200, answer.text
    matrix = answer.json()
    assert matrix["products"] == ["hikeapp", "otherapp", "trailmate"]
    assert [p["theme_id"] for p in matrix["items"]] == ["t-maps", "t-planned", "t-shipped", "t-dark"]
    planned = matrix["items"][1]
    assert (planned["title"], planned["label"]) == ("Sync like user3 said", "user3 / sync")
    assert matrix["total"] == len(matrix["items"]) == 4
    assert matrix["trend_weeks"][-1] == "2026-W09" and len(matrix["trend_weeks"]) == 12
    maps = matrix["items"][0]
    assert maps["cost_normalized"] == 0.3 and maps["impact"] == 0.8 and maps["trend"][-1] == 7
    assert 0 < matrix["high_cost_from"] < 1
    forum = test_client.get("/matrix", params={"platform": "forum"}, headers={"X-API-Key": viewer}).json()
    assert [p["theme_id"] for p in forum["items"]] == ["t-dark"]
    assert test_client.get("/matrix").status_code == 401


def test_pipeline_health_is_unknown_without_a_broker(client: tuple[TestClient, str]) -> None:
    test_client, viewer = client
    started = time.monotonic()
    answer = test_client.get("/pipeline", headers={"X-API-Key": viewer})
    assert time.monotonic() - started < 2.5
    assert answer.status_code == 200, answer.text
    health = answer.json()
    assert health["broker"] == "unknown" and health["total_lag"] is None and health["message"]
    assert test_client.get("/pipeline").status_code == 401


def test_pages_load_only_local_assets(client: tuple[TestClient, str]) -> None:
    test_client, _ = client
    static = Path(__file__).resolve().parents[2] / "api" / "static"
    for page in ("/dashboard", "/board"):
        answer = test_client.get(page)
        assert answer.status_code == 200 and "default-src 'none'" in answer.headers["content-security-policy"]
        sources = re.findall(r'(?:src|href)="([^"]+)"', answer.text)
        assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
        for source in sources:
            if source.startswith("/static/"):
                assert test_client.get(source).status_code == 200, source
    for asset in static.iterdir():
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", asset.read_text()), asset
    assert test_client.get("/static/nothing.js").status_code == 404


def test_throughput_is_the_committed_growth_over_the_window() -> None:
    from api.pipeline import BrokerReading, PipelineProbe, TopicLag

    probe = PipelineProbe(Settings(kafka_bootstrap="127.0.0.1:1"), window_s=300, min_span_s=5)
    comments = probe.comments_topic

    def note(at: float, committed: int) -> None:
        probe._note(BrokerReading(at=at, inputs=[TopicLag(comments, 10_000, committed, 0)], dead_letters={}))

    note(1000.0, 100)
    assert probe.throughput_per_minute() == (None, 0.0)  # one note measures nothing
    note(1003.0, 160)
    assert probe.throughput_per_minute()[0] is None  # 3 s apart: too short to say
    note(1030.0, 700)
    assert probe.throughput_per_minute() == (1200.0, 30.0)  # 600 records in 30 s
    note(1400.0, 700)  # the earlier notes fall out of the 5-minute window
    assert probe.throughput_per_minute() == (None, 0.0)
    note(1410.0, 760)
    assert probe.throughput_per_minute() == (360.0, 10.0)


class FakeAdmin:
    def list_consumer_group_offsets(self, _group: str) -> dict[Any, Any]:
        return {}


class FakeConsumer:
    """The calls of kafka-python's consumer the probe makes, over topics holding ``held`` records."""

    def __init__(self, held: dict[str, int]) -> None:
        self.held = held

    def topics(self) -> set[str]:
        return set(self.held)

    def partitions_for_topic(self, _topic: str) -> set[int]:
        return {0, 1}

    def end_offsets(self, partitions: list[Any]) -> dict[Any, int]:
        return {tp: 100 + (self.held[tp.topic] if tp.partition == 0 else 0) for tp in partitions}

    def beginning_offsets(self, partitions: list[Any]) -> dict[Any, int]:
        return {tp: 100 for tp in partitions}


@pytest.mark.parametrize(("prefix", "other"), [("", "staging."), ("staging.", "prod.")])
def test_dead_letters_are_counted_in_this_environment_only(prefix: str, other: str) -> None:
    from api.pipeline import PipelineProbe

    held = {
        f"{prefix}feedback.comments.dlq": 5,
        f"{prefix}feedback.suggestions.dlq": 2,
        f"{prefix}feedback.comments": 40,
        f"{other}feedback.comments.dlq": 7,  # another environment on the same cluster
        f"{other}feedback.theme-commands.dlq": 1,
        f"{prefix}unrelated.dlq": 3,  # not a topic of ours
    }
    probe = PipelineProbe(Settings(kafka_bootstrap="127.0.0.1:1", topic_prefix=prefix))
    probe._clients = (FakeAdmin(), FakeConsumer(held))
    reading = probe._read_blocking()
    assert set(reading.dead_letters) == {prefix + spec.name for spec in DEAD_LETTER_TOPICS.values()}
    assert {topic: n for topic, n in reading.dead_letters.items() if n} == {
        f"{prefix}feedback.comments.dlq": 5,
        f"{prefix}feedback.suggestions.dlq": 2,
    }
    assert [t.topic for t in reading.inputs] == [f"{prefix}feedback.comments"]


def test_pipeline_health_gives_dead_letters_by_stage(
    client: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.pipeline import BrokerReading, PipelineProbe

    held = {"feedback.comments.dlq": 5, "feedback.suggestions.dlq": 2, "feedback.theme-commands.dlq": 1}
    reading = BrokerReading(at=time.monotonic(), inputs=[], dead_letters=held)

    async def ask(_probe: PipelineProbe) -> tuple[BrokerReading, str]:
        return reading, ""

    monkeypatch.setattr(PipelineProbe, "_ask", ask)
    test_client, viewer = client
    health = test_client.get("/pipeline", headers={"X-API-Key": viewer}).json()
    assert health["broker"] == "ok" and health["dead_letter_total"] == 8
    assert [s["stage"] for s in health["stages"]] == [
        "ingest-validate",
        "ingest-accept",
        "classify",
        "themes",
        "dialogue-route",
        "dialogue",
    ]
    by_stage = {s["stage"]: s for s in health["stages"]}
    assert by_stage["ingest-validate"]["dead_letters"] == 5
    assert by_stage["ingest-accept"] == {
        "stage": "ingest-accept",
        "dead_letters": 0,
        "topics": {"feedback.comments.validated.dlq": 0},
    }
    assert by_stage["themes"]["dead_letters"] == 3
    assert by_stage["themes"]["topics"] == {
        "feedback.suggestions.dlq": 2,
        "feedback.theme-ticks.dlq": 0,
        "feedback.theme-commands.dlq": 1,
        "feedback.praise.dlq": 0,
    }
    metrics = test_client.get("/metrics").text
    assert 'youasked_pipeline_dead_letters{stage="themes"} 3.0' in metrics
    assert 'youasked_pipeline_dead_letters{stage="classify"} 0.0' in metrics


def test_dead_letter_gauges_go_when_the_broker_cannot_be_read() -> None:
    from api.telemetry import ApiMetrics

    metrics = ApiMetrics()
    metrics.observe_dead_letters({"themes": 3, "classify": 0})
    assert metrics.registry.get_sample_value("youasked_pipeline_dead_letters", {"stage": "themes"}) == 3
    metrics.observe_dead_letters(None)
    assert metrics.registry.get_sample_value("youasked_pipeline_dead_letters", {"stage": "themes"}) is None


def test_monthly_updates_show_viewers_no_handles(client: tuple[TestClient, str]) -> None:
    test_client, viewer = client
    answer = test_client.get("/monthly-updates", headers={"X-API-Key": viewer})
    assert answer.status_code == 200, answer.text
    april = next(update for update in answer.json() if update["month"] == "2026-04")
    assert "Thanks @…!" in april["text"] and april["event"]["text"] == april["text"]
    assert not PEOPLE.search(str(answer.json()))
