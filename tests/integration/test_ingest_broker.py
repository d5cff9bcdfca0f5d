"""The ingest agents against the real broker: dead-letter accounting, de-duplication, crash recovery."""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from contracts.events import CommentAccepted, DeadLetter
from contracts.topics import COMMENTS, COMMENTS_ACCEPTED, COMMENTS_DLQ, SUGGESTIONS, THEME_MEMBERS
from messaging.admin import ensure_topics
from messaging.readback import read_topic
from models.ingest import author_partition
from tests.integration.test_themes_broker import detected
from tests.kafka_support import WorkerProcess, isolated_settings, produce

pytestmark = pytest.mark.integration

MALFORMED: list[tuple[bytes, str]] = [
    (b"{not json", "not_json"),
    (b"[1, 2, 3]", "not_object"),
    (b"\xff\xfe\x00", "not_utf8"),
    (
        json.dumps(
            {
                "comment_id": "m1",
                "platform": "myspace",
                "product": "p",
                "author_id": "a",
                "text": "hi",
                "created_at": "2026-01-01T00:00:00Z",
            }
        ).encode(),
        "unknown_platform",
    ),
    (
        json.dumps(
            {
                "comment_id": "m2",
                "platform": "x",
                "product": "p",
                "author_id": "a",
                "text": "   ",
                "created_at": "2026-01-01T00:00:00Z",
            }
        ).encode(),
        "empty_text",
    ),
    (
        json.dumps(
            {
                "comment_id": "m3",
                "platform": "x",
                "product": "p",
                "author_id": "a",
                "text": "hello",
                "created_at": "2099-01-01T00:00:00Z",
            }
        ).encode(),
        "future_timestamp",
    ),
    (
        json.dumps(
            {
                "comment_id": "m4",
                "platform": "x",
                "product": "p",
                "text": "no author",
                "created_at": "2026-01-01T00:00:00Z",
            }
        ).encode(),
        "invalid_fields",
    ),
    (
        json.dumps(
            {
                "comment_id": "m5",
                "platform": "x",
                "product": "p",
                "author_id": "a",
                "text": "y" * 20_000,
                "created_at": "2026-01-01T00:00:00Z",
            }
        ).encode(),
        "text_too_long",
    ),
]


def valid_comment(index: int, *, text: str | None = None) -> tuple[bytes, bytes]:
    payload = {
        "comment_id": f"c{index}",
        "platform": random.Random(index).choice(["x", "instagram", "forum", "app_store"]),
        "product": "trailmate",
        "author_id": f"user{index % 97}",
        "text": text or f"  Idea number {index}:\tplease add   offline maps ",
        "created_at": "2026-03-01T10:00:00+00:00",
    }
    key = f"{payload['platform']}:{payload['comment_id']}".encode()
    return key, json.dumps(payload).encode()


def worker_metrics_once(worker: WorkerProcess, *, records: int, timeout: float = 60.0) -> dict[Any, float]:
    """The worker's metrics once it counts ``records`` comments in, measures no lag left on the
    comments partitions it holds, and the model judged a batch."""
    comments = frozenset({"topic": worker.settings.topic_name(COMMENTS)}.items())
    deadline = time.monotonic() + timeout
    while True:
        served = worker.metrics()
        lag = [
            v
            for (name, labels), v in served.items()
            if name == "youasked_consumer_lag" and comments <= labels
        ]
        done = served.get(("youasked_messages_in_total", comments), 0) >= records and lag and sum(lag) == 0
        if (done and served.get(("youasked_model_batch_seconds_count", frozenset()), 0) >= 1) or (
            time.monotonic() > deadline
        ):
            return served
        time.sleep(1.0)


def test_valid_comments_pass_once_and_malformed_ones_are_dead_lettered(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = isolated_settings(kafka_bootstrap, tmp_path)
    ensure_topics(settings)
    worker = WorkerProcess(
        settings, tmp_path / "worker.log", env={"YOUASKED_WORKER_LAG_INTERVAL_S": "1"}
    ).start()
    try:
        valid = [valid_comment(i) for i in range(60)]
        resent = valid[:10]  # the same comments sent again: passed on once
        records: list[tuple[bytes | None, bytes]] = [*valid, *[(None, raw) for raw, _ in MALFORMED], *resent]
        random.Random(3).shuffle(records)
        produce(settings, COMMENTS, records)

        accepted = read_topic(settings, COMMENTS_ACCEPTED, expect=60, timeout=90)
        dead = read_topic(settings, COMMENTS_DLQ, expect=len(MALFORMED), timeout=30)
        served = worker_metrics_once(worker, records=len(records))
    finally:
        worker.stop()
    # the worker's /metrics: what it read and sent per topic, its dead letters by reason, the model
    comments_topic = frozenset({"topic": settings.topic_name(COMMENTS)}.items())
    accepted_topic = frozenset({"topic": settings.topic_name(COMMENTS_ACCEPTED)}.items())
    assert served.get(("youasked_messages_in_total", comments_topic), 0) >= len(records), served
    assert served.get(("youasked_messages_out_total", accepted_topic), 0) >= 60, served
    for _, reason in MALFORMED:
        labels = frozenset(
            {"stage": "ingest-validate", "topic": settings.topic_name(COMMENTS), "reason": reason}.items()
        )
        assert served.get(("youasked_dead_letters_total", labels)) == 1, (reason, served)
    assert served.get(("youasked_model_batch_seconds_count", frozenset()), 0) >= 1, served
    lag = {
        dict(labels)["partition"]: v
        for (name, labels), v in served.items()
        if name == "youasked_consumer_lag" and comments_topic <= labels
    }
    assert set(lag) == {str(p) for p in range(settings.topic_partitions)}, served  # one worker holds all
    assert sum(lag.values()) == 0, lag
    assert len(accepted) == 60, worker.log_tail()
    comments = [CommentAccepted.model_validate_json(r.value) for r in accepted]
    assert len({c.key for c in comments}) == 60
    assert all(r.key == c.key.encode() for r, c in zip(accepted, comments, strict=True))
    assert all(c.text.startswith("Idea number") and "  " not in c.text for c in comments)
    # each comment is in its author's partition, so one author's comments meet in one worker
    homes = [author_partition(c, settings.topic_partitions) for c in comments]
    assert [r.partition for r in accepted] == homes
    assert len({r.partition for r in accepted}) > 1  # 60 comments of 97 authors spread over partitions

    assert len(dead) == len(MALFORMED), worker.log_tail()
    letters = [DeadLetter.model_validate_json(r.value) for r in dead]
    by_original = {base64.b64decode(letter.original_b64): letter for letter in letters}
    for raw, reason in MALFORMED:
        assert by_original[raw].reason.value == reason
        assert by_original[raw].source.topic == settings.topic_name(COMMENTS)
    for record, letter in zip(dead, letters, strict=True):
        key, partition = record.key, record.partition
        assert partition == letter.source.partition
        assert key == f"{letter.source.topic}:{letter.source.partition}:{letter.source.offset}".encode()


def test_sigkill_mid_stream_loses_nothing_and_passes_nothing_twice(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = isolated_settings(kafka_bootstrap, tmp_path)
    ensure_topics(settings)
    total_valid, total_malformed = 1500, 150
    records: list[tuple[bytes | None, bytes]] = [valid_comment(i) for i in range(total_valid)]
    records += [(None, MALFORMED[i % len(MALFORMED)][0]) for i in range(total_malformed)]
    records += [valid_comment(i) for i in range(0, total_valid, 7)]  # redeliveries by the producer
    random.Random(11).shuffle(records)

    def feed() -> None:  # a steady stream over ~6 s, so the kill lands mid-stream
        for start in range(0, len(records), 100):
            produce(settings, COMMENTS, records[start : start + 100])
            time.sleep(0.3)

    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    # The worker holds theme state, as any worker in service does: after the kill its restart
    # recovers tables from their changelogs before the input flows (faust's riskiest path).
    produce(settings, SUGGESTIONS, [detected(i, i % 3, f"user{i % 25}") for i in range(60)])
    seeded = read_topic(settings, THEME_MEMBERS, expect=60, timeout=120, settle=0)
    assert len(seeded) >= 60, worker.log_tail()
    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        partial = read_topic(settings, COMMENTS_ACCEPTED, expect=200, timeout=90, settle=0)
        assert len(partial) >= 200, worker.log_tail()
        worker.kill()
        killed_at = len(partial)
        worker = WorkerProcess(settings, tmp_path / "worker2.log").start()
        feeder.join()
        # the supervisor may have to restart a stalled worker first (README, known limits)
        accepted = read_topic(settings, COMMENTS_ACCEPTED, expect=total_valid, timeout=300, settle=5)
        dead = read_topic(settings, COMMENTS_DLQ, expect=total_malformed, timeout=60, settle=3)
    finally:
        feeder.join()
        worker.stop()
    assert killed_at < total_valid, "the kill did not land mid-stream"
    keys = Counter(r.key for r in accepted)
    assert len(keys) == total_valid, worker.log_tail()
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1][:5]
    dead_keys = Counter(r.key for r in dead)
    assert len(dead_keys) == total_malformed
    assert max(dead_keys.values()) == 1
