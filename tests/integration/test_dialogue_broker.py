"""Dialogue measures against the real broker: a replay of the customer-support tweets file
through the whole worker, figures checked by hand on four threads, and hostile records on both
dialogue stages' inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_api
from api.readmodel.db import make_engine, upgrade
from api.readmodel.projector import Record, apply_batch
from api.security import Role, create_key
from contracts.dialogue import DialogueThreadMeasured, DialogueWeekMeasured
from contracts.events import CommentClassified, DeadLetter, DeadLetterReason, SuggestionDetected, Verdict
from contracts.topics import (
    COMMENTS,
    COMMENTS_CLASSIFIED,
    COMMENTS_CLASSIFIED_DLQ,
    DIALOGUE_THREADS,
    DIALOGUE_TURNS,
    DIALOGUE_TURNS_DLQ,
    DIALOGUE_WEEKS,
    SUGGESTIONS,
)
from messaging.admin import ensure_topics
from messaging.readback import read_topic
from tests.kafka_support import WorkerProcess, isolated_settings, produce
from youasked.replay import read_records, replay

pytestmark = [pytest.mark.integration, pytest.mark.model]

TWEETS = Path(__file__).resolve().parents[2] / "../shared/data/streams/twcs_customer_support_tweets.csv"

# Worked out by hand from the file (times UTC; service level 2 h within 09:00-17:00 Mon-Fri):
HAND_CHECKED = {
    # Tue 31 Oct 21:45:10 -> 21:46:24 ("send us a private message"): 74 s, none of it working time
    "sprintcare:x:8": dict(
        response_s=74.0,
        working_response_s=0.0,
        within_service_level=True,
        escalation="private message",
        inbound_count=4,
        reply_count=3,
    ),
    # Tue 15:53:10 -> 22:20:23: 6 h 27 min 13 s; working time 15:53:10-17:00 = 1 h 6 min 50 s
    "british_airways:x:969": dict(
        response_s=23233.0,
        working_response_s=4010.0,
        within_service_level=True,
        escalation=None,
        inbound_count=2,
        reply_count=2,
    ),
    # Tue 13:34:50 -> 22:17:00 ("please contact us"): 8 h 42 min 10 s;
    # working 13:34:50-17:00 = 3 h 25 min 10 s
    "amazonhelp:x:682": dict(
        response_s=31330.0,
        working_response_s=12310.0,
        within_service_level=False,
        escalation="contact support",
        inbound_count=2,
        reply_count=1,
    ),
    # Thu 12 Oct 10:11:50 -> Tue 31 Oct 22:18:00: 19 d 12 h 6 min 10 s; working 6 h 48 min 10 s (Thu)
    # + 8 h (Fri) + 2 x 40 h (two whole weeks) + 8 h (Mon 30) + 8 h (Tue 31) = 398,890 s
    "applesupport:x:752": dict(
        response_s=1685170.0,
        working_response_s=398890.0,
        within_service_level=False,
        escalation=None,
        inbound_count=2,
        reply_count=1,
    ),
}


def latest(records: list[object], model: type[DialogueThreadMeasured] | type[DialogueWeekMeasured]) -> dict:
    out: dict[str, object] = {}
    for record in records:
        event = model.model_validate_json(record.value)  # type: ignore[attr-defined]
        out[event.key] = event
    return out


@pytest.mark.skipif(not TWEETS.exists(), reason="the shared tweets file is not here")
def test_a_replay_of_the_tweets_file_gives_hand_checked_dialogue_figures(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = isolated_settings(kafka_bootstrap, tmp_path)
    ensure_topics(settings)
    sent = replay(
        TWEETS.resolve(),
        bootstrap_servers=settings.bootstrap_servers,
        topic=settings.topic_name(COMMENTS),
        progress=False,
    )
    assert sent.sent == 5001 and sent.refused == 0
    comments = [json.loads(v) for _, v in read_records(TWEETS.resolve())]
    threads_expected = {f"{c['product']}:x:{c['thread_id']}" for c in comments if c.get("thread_id")}
    valid = [c for c in comments if c.get("text")]  # one row of the file is empty: a dead letter
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        classified = read_topic(settings, COMMENTS_CLASSIFIED, expect=len(valid), timeout=480, settle=5)
        threads = read_topic(settings, DIALOGUE_THREADS, expect=len(valid), timeout=120, settle=8)
        weeks = read_topic(settings, DIALOGUE_WEEKS, expect=1, timeout=30, settle=3)
        suggestions = read_topic(settings, SUGGESTIONS, timeout=5, settle=2)
        assert worker.process is not None and worker.process.poll() is None, worker.log_tail()
    finally:
        worker.stop()

    judged = [CommentClassified.model_validate_json(r.value) for r in classified]
    brand = [c for c in judged if c.verdict is Verdict.BRAND_REPLY]
    assert len(brand) == sum(1 for c in valid if c.get("speaker") == "brand") == 2222
    assert all(c.comment.speaker.value == "brand" and c.reason == "brand_reply" for c in brand)
    asked = {SuggestionDetected.model_validate_json(r.value).comment.key for r in suggestions}
    assert not asked & {c.key for c in brand}, "a brand reply became a suggestion"

    by_thread = latest(threads, DialogueThreadMeasured)
    assert set(by_thread) == threads_expected, worker.log_tail()
    for key, figures in HAND_CHECKED.items():
        measured = by_thread[key]
        got = {name: getattr(measured, name) for name in figures}
        assert got == figures, (key, got)
        assert measured.week == ("2017-W41" if key.startswith("applesupport") else "2017-W44")

    by_week = latest(weeks, DialogueWeekMeasured)
    # every week's figures are those of its threads' latest measures
    for week in by_week.values():
        members = [
            t
            for t in by_thread.values()
            if t.product == week.product and t.week == week.week and t.platform == week.platform
        ]
        assert week.threads == len(members), week.key
        assert week.answered == sum(1 for t in members if t.first_reply_at is not None)
        assert week.within_service_level == sum(1 for t in members if t.within_service_level)
    sprint = by_week["sprintcare:x:2017-W44"]
    print("sprintcare 2017-W44:", sprint.model_dump_json(exclude={"service_level"}))

    # the API serves what the read model projected from the weeks topic
    engine = make_engine(f"sqlite:///{tmp_path / 'rm.db'}")
    upgrade(engine)
    apply_batch(engine, [Record("dialogue-weeks", r.value, r.key) for r in weeks])
    key = create_key(engine, name="viewer", role=Role.viewer)
    app = create_api(settings, engine=engine, project=False, commands=False)
    with TestClient(app) as client:
        body = client.get(
            "/metrics/dialogue", params={"product": "sprintcare"}, headers={"X-API-Key": key}
        ).json()
    served = {w["week"]: w for w in body["weeks"]}
    assert served["2017-W44"]["threads"] == sprint.threads
    assert served["2017-W44"]["response_p50_s"] == sprint.response_p50_s


def test_hostile_records_on_the_dialogue_inputs_become_dead_letters(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = isolated_settings(kafka_bootstrap, tmp_path)
    ensure_topics(settings)
    hostile = [b"", b"not json", b"[]", b'{"schema_version": 3}', "\u00e9".encode("latin-1"), b"{" * 5000]
    good = {
        "schema_version": 3,
        "key": "x:1",
        "verdict": "brand_reply",
        "reason": "brand_reply",
        "threshold": 0.5,
        "classifier_version": "v",
        "classified_at": "2017-10-31T22:00:00+00:00",
        "comment": {
            "schema_version": 2,
            "comment_id": "1",
            "platform": "x",
            "product": "acme",
            "author_id": "acme",
            "text": "Please DM us",
            "created_at": "2017-10-31T22:00:00+00:00",
            "thread_id": "r",
            "speaker": "brand",
            "key": "x:1",
            "received_at": "2017-10-31T22:00:00+00:00",
            "source": {"topic": "t", "partition": 0, "offset": 0},
        },
    }
    produce(settings, COMMENTS_CLASSIFIED, [(b"k", value) for value in hostile])
    produce(settings, DIALOGUE_TURNS, [(b"acme", value) for value in hostile])
    produce(settings, COMMENTS_CLASSIFIED, [(b"x:1", json.dumps(good).encode())])
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        routed = read_topic(settings, COMMENTS_CLASSIFIED_DLQ, expect=len(hostile), timeout=240, settle=3)
        measured = read_topic(settings, DIALOGUE_TURNS_DLQ, expect=len(hostile), timeout=60, settle=3)
        threads = read_topic(settings, DIALOGUE_THREADS, expect=1, timeout=60, settle=2)
        assert worker.process is not None and worker.process.poll() is None, worker.log_tail()
    finally:
        worker.stop()
    for records, stage in ((routed, "dialogue-route"), (measured, "dialogue")):
        letters = [DeadLetter.model_validate_json(r.value) for r in records]
        assert len(letters) == len(hostile), worker.log_tail()
        assert {letter.stage for letter in letters} == {stage}
        assert {letter.reason for letter in letters} == {DeadLetterReason.UNREADABLE_RECORD}
    assert [DialogueThreadMeasured.model_validate_json(r.value).escalation for r in threads] == ["dm us"]
