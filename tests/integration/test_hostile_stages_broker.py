"""Hostile records at every stage, against the real broker and worker, with a SIGKILL in between.

Records are produced straight to each stage's input topic, as any producer with access to the
cluster can: oversized comments, dates at the calendar's edges, records of the wrong shape, and a
product manager's commands of every wrong kind. Every input offset must end in the stage's output
or its dead-letter topic (a command: in exactly one refusal with its code), no stage may stop, and
a restart after a SIGKILL must neither lose nor repeat a dead letter.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from contracts.events import (
    CommentAccepted,
    CommentClassified,
    DeadLetter,
    SuggestionDetected,
    SuggestionThemed,
    event_json,
)
from contracts.lifecycle import CommandOutcome
from contracts.topics import (
    COMMENTS,
    COMMENTS_ACCEPTED,
    COMMENTS_ACCEPTED_DLQ,
    COMMENTS_CLASSIFIED,
    COMMENTS_DLQ,
    COMMENTS_VALIDATED,
    COMMENTS_VALIDATED_DLQ,
    SUGGESTIONS,
    SUGGESTIONS_DLQ,
    THEME_COMMANDS,
    THEME_COMMANDS_DLQ,
    THEME_MEMBERS,
    THEME_OUTCOMES,
)
from messaging.admin import ensure_topics
from messaging.readback import Record, read_topic
from tests.fakes import whole_ask
from tests.kafka_support import WorkerProcess, isolated_settings, produce

pytestmark = pytest.mark.integration

NOT_ACCEPTED = (b"garbage", b'{"key": 1}')
EDGE_DATES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
T0 = datetime(2026, 4, 1, tzinfo=UTC)
RNG = np.random.default_rng(12)
CENTRE = RNG.normal(size=384)


def comment_payload(index: int, **changes: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "comment_id": f"h{index}",
        "platform": "x",
        "product": "hostile",
        "author_id": f"user{index}",
        "text": f"Please add a way to export my trips as GPX files, idea {index}",
        "created_at": (T0 + timedelta(minutes=index)).isoformat(),
    }
    payload.update(changes)
    return payload


def accepted(index: int, created_at: str) -> bytes:
    comment = CommentAccepted.model_validate(
        {
            **comment_payload(index, created_at=created_at),
            "key": f"x:h{index}",
            "received_at": T0.isoformat(),
            "source": {"topic": "feedback.comments", "partition": 0, "offset": index},
        }
    )
    return event_json(comment)


def suggestion(index: int, created_at: datetime | str) -> tuple[bytes, bytes]:
    vector = CENTRE + RNG.normal(scale=0.3, size=384)
    vector = vector / np.linalg.norm(vector)
    when = created_at.isoformat() if isinstance(created_at, datetime) else created_at
    comment = CommentAccepted.model_validate_json(accepted(1000 + index, when))
    event = SuggestionDetected(
        suggestion_id=f"{comment.key}#1",
        comment=comment,
        ask=whole_ask(comment.text),
        score=0.9,
        embedding=[float(x) for x in vector],
        embedding_model="test",
        detected_at=T0,
    )
    return b"hostile", event_json(event)


def place(command_id: str, **changes: object) -> bytes:
    """A ``place`` command of the hostile product, with ``changes`` to its fields."""
    body: dict[str, object] = {
        "command_id": command_id, "product": "hostile", "theme_id": "t-nope", "kind": "place",
        "suggestion_id": "x:h1010#1", "actor": "pm", "reason": "", "issued_at": T0.isoformat(),
    }
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


# a person's commands of the worst kinds: each ends in exactly one refusal, with its code
HOSTILE_COMMANDS: list[tuple[bytes, bytes, str]] = [
    (b"hostile", b"[]", "invalid_command"),
    (b"hostile", place("cmd-no-ask", suggestion_id=None), "invalid_command"),
    (b"hostile", place("cmd-nul-ask", suggestion_id="x:h1\u0000#1"), "unknown_suggestion"),
    (b"hostile", place("cmd-huge-ask", suggestion_id="x" * 100_000), "invalid_command"),
    (b"other", place("cmd-wrong-key"), "wrong_key"),
    (b"hostile", place("cmd-no-theme"), "unknown_theme"),
]


def offsets(records: Iterable[Record]) -> set[tuple[int, int]]:
    return {(r.partition, r.offset) for r in records}


def letters(records: list[Record]) -> list[DeadLetter]:
    return [DeadLetter.model_validate_json(r.value) for r in records]


def test_hostile_records_at_every_stage_are_dead_lettered_and_no_stage_stops(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = isolated_settings(kafka_bootstrap, tmp_path)
    ensure_topics(settings)
    huge = json.dumps(comment_payload(1, text="x" * 1_000_000)).encode()  # 1 MB: under the broker's limit
    raw_comments: list[tuple[bytes | None, bytes]] = [
        (None, huge),
        (None, json.dumps(comment_payload(2, created_at=EDGE_DATES[0])).encode()),
        (None, json.dumps(comment_payload(3, created_at=EDGE_DATES[1])).encode()),
        *[(None, json.dumps(comment_payload(10 + i)).encode()) for i in range(20)],
    ]
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        produce(settings, COMMENTS, raw_comments)
        produce(settings, COMMENTS_VALIDATED, [(b"x:zz", v) for v in NOT_ACCEPTED])
        produce(
            settings,
            COMMENTS_ACCEPTED,
            [(b"x:bad", b"{}"), *[(None, accepted(40 + i, d)) for i, d in enumerate(EDGE_DATES)]],
        )
        produce(
            settings,
            SUGGESTIONS,
            [(b"hostile", b"[]"), *[suggestion(i, d) for i, d in enumerate(EDGE_DATES)]],
        )
        # the first part is through every stage: the worker dies mid-way, and a new one takes over
        read_topic(settings, SUGGESTIONS_DLQ, expect=1, timeout=180, settle=0)
        worker.kill()
        produce(settings, SUGGESTIONS, [suggestion(10 + i, T0 + timedelta(minutes=i)) for i in range(8)])
        produce(settings, COMMENTS, [(None, json.dumps(comment_payload(60 + i)).encode()) for i in range(10)])
        worker = WorkerProcess(settings, tmp_path / "worker2.log").start()

        comments_dlq = read_topic(settings, COMMENTS_DLQ, expect=3, timeout=240, settle=3)
        validated_in = read_topic(settings, COMMENTS_VALIDATED, expect=32, timeout=120, settle=2)
        validated_dlq = read_topic(settings, COMMENTS_VALIDATED_DLQ, expect=2, timeout=120, settle=2)
        accepted_out = read_topic(settings, COMMENTS_ACCEPTED, expect=34, timeout=120, settle=2)
        classified = read_topic(settings, COMMENTS_CLASSIFIED, expect=32, timeout=240, settle=3)
        accepted_dlq = read_topic(settings, COMMENTS_ACCEPTED_DLQ, expect=1, timeout=60, settle=2)
        members = read_topic(settings, THEME_MEMBERS, expect=10, timeout=240, settle=3)
        suggestions_dlq = read_topic(settings, SUGGESTIONS_DLQ, expect=1, timeout=60, settle=2)
        comments_in = read_topic(settings, COMMENTS, expect=len(raw_comments) + 10, settle=0)
        suggestions_in = read_topic(settings, SUGGESTIONS, expect=11, settle=0)
        produce(settings, THEME_COMMANDS, [(key, value) for key, value, _ in HOSTILE_COMMANDS])
        outcomes = read_topic(settings, THEME_OUTCOMES, expect=len(HOSTILE_COMMANDS), timeout=120, settle=3)
        commands_dlq = read_topic(settings, THEME_COMMANDS_DLQ, expect=0, timeout=5, settle=2)
    finally:
        worker.stop()
    log = worker.log_tail()

    # ingest-validate: every offset in validated (by the source it carries) or the dead letters, once
    letters_in = letters(comments_dlq)
    validated = [r for r in validated_in if r.value not in NOT_ACCEPTED]
    sources = [CommentAccepted.model_validate_json(r.value).source for r in validated]
    passed = {(s.partition, s.offset) for s in sources if s.topic == settings.topic_name(COMMENTS)}
    dead = {(d.source.partition, d.source.offset) for d in letters_in}
    assert passed | dead == offsets(comments_in), log
    assert len(letters_in) == len(dead) == 3, "a dead letter was written twice"
    reasons = sorted(d.reason.value for d in letters_in)
    assert reasons == ["future_timestamp", "timestamp_out_of_range", "too_large"]
    too_large = next(d for d in letters_in if d.reason.value == "too_large")
    assert too_large.original_truncated and too_large.original_size == len(huge)
    assert too_large.original_sha256 == hashlib.sha256(huge).hexdigest()
    assert huge.startswith(base64.b64decode(too_large.original_b64))

    # ingest-accept: the records of another shape are set aside by that stage
    accept_letters = letters(validated_dlq)
    assert {d.stage for d in accept_letters} == {"ingest-accept"}
    assert {d.reason.value for d in accept_letters} == {"unreadable_record"}
    assert {(d.source.partition, d.source.offset) for d in accept_letters} | offsets(validated) == offsets(
        validated_in
    )
    assert {base64.b64decode(d.original_b64) for d in accept_letters} == set(NOT_ACCEPTED)

    # classify: every accepted record classified (edge dates too) or set aside, the rest went on
    classified_keys = {CommentClassified.model_validate_json(r.value).key for r in classified}
    accepted_keys = {
        CommentAccepted.model_validate_json(r.value).key for r in accepted_out if r.value != b"{}"
    }
    classify_letters = letters(accepted_dlq)
    assert {d.stage for d in classify_letters} == {"classify"}
    set_aside = {base64.b64decode(d.original_key_b64 or "").decode() for d in classify_letters}
    assert accepted_keys <= classified_keys | set_aside, (accepted_keys - classified_keys, log)
    assert "x:bad" in set_aside
    assert {"x:h40", "x:h41"} <= classified_keys, "a comment dated at a calendar edge stopped classify"
    assert {"x:h60", "x:h69"} <= classified_keys, "classify did not go on after the restart"

    # themes: edge-dated suggestions are placed, the unreadable one set aside, later ones placed
    placed = {SuggestionThemed.model_validate_json(r.value).suggestion_id for r in members if r.value}
    expected = {
        SuggestionDetected.model_validate_json(r.value).suggestion_id
        for r in suggestions_in
        if r.value != b"[]"
    }
    assert expected <= placed, (expected - placed, log)
    theme_letters = letters(suggestions_dlq)
    assert [(d.stage, d.reason.value) for d in theme_letters] == [("themes", "unreadable_record")]

    # theme commands: every hostile command refused once, with its code; none stops the stage
    refusals = [CommandOutcome.model_validate_json(r.value) for r in outcomes]
    assert sorted((o.accepted, o.code) for o in refusals) == sorted(
        (False, code) for _, _, code in HOSTILE_COMMANDS
    ), log
    assert commands_dlq == [], letters(commands_dlq)
