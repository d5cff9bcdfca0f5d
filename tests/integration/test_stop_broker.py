"""A worker stopped (SIGTERM) while comments are in flight commits nothing it has not written.

faust's graceful stop waits for the agents to finish the batches they hold before its last offset
commit (``Consumer.wait_empty``); an agent cancelled half-way leaves its batch unacknowledged
(:mod:`streams.holding`). Here the worker is stopped twice while the classify stage (the slow
one: the model runs there) is busy, and restarted each time: every comment must come out
classified, once.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from contracts.events import CommentClassified
from contracts.topics import COMMENTS, COMMENTS_CLASSIFIED
from messaging.admin import ensure_topics
from messaging.readback import read_topic
from tests.kafka_support import WorkerProcess, isolated_settings, produce

pytestmark = [pytest.mark.integration, pytest.mark.model]

SENT = 900
IDEAS = ("offline maps", "a dark mode", "GPX export", "a battery saver", "trail photos", "voice guidance")


def comment(index: int) -> tuple[bytes, bytes]:
    idea = IDEAS[index % len(IDEAS)]
    value = {
        "comment_id": f"s{index}", "platform": "x", "product": "trailmate", "author_id": f"hiker-{index}",
        "text": f"Please add {idea} to the app, I would use it on trail number {index} every weekend",
        "created_at": "2026-06-01T08:00:00+00:00",
    }
    return f"x:s{index}".encode(), json.dumps(value).encode()


def test_a_worker_stopped_mid_batch_commits_only_what_it_wrote(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = isolated_settings(kafka_bootstrap, tmp_path)
    ensure_topics(settings)
    worker = WorkerProcess(settings, tmp_path / "worker-0.log").start()
    logs = [worker]
    stops: list[int] = []
    try:
        # all at once: ingest passes them on in a moment, and the classify stage has a backlog of
        # several seconds of model work, so each stop lands while it is busy
        produce(settings, COMMENTS, [comment(i) for i in range(SENT)])
        for round_ in (1, 2):
            seen = read_topic(settings, COMMENTS_CLASSIFIED, expect=150 * round_, timeout=300, settle=0)
            worker.stop()  # SIGTERM: a graceful stop, its last commit included
            stops.append(len(seen))
            assert 150 * round_ <= len(seen) < SENT, (stops, worker.log_tail())
            worker = WorkerProcess(settings, tmp_path / f"worker-{round_}.log").start()
            logs.append(worker)
        classified = read_topic(settings, COMMENTS_CLASSIFIED, expect=SENT, timeout=300, settle=5)
    finally:
        worker.stop()
    keys = Counter(CommentClassified.model_validate_json(r.value).key for r in classified)
    missing = sorted({f"x:s{i}" for i in range(SENT)} - set(keys), key=lambda k: int(k[3:]))
    assert not missing, (len(missing), missing[:20], stops, [w.log_tail(1500) for w in logs])
    assert len(keys) == SENT and max(keys.values()) == 1, [k for k, n in keys.items() if n > 1][:5]
