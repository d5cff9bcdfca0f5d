"""The shell under awkward conditions: a cluster id that looks like an option, a narrow output
that must not break a printed command, a replay under another product, and one record-size
limit that the broker, the topics and the producers agree on."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from contracts.settings import Settings
from youasked import broker

RANDOM_UUID = uuid.uuid4
DASH_FIRST = uuid.UUID(bytes=b"\xf8" + bytes(15))  # URL-safe base64 of it begins with '-'


def _uuids(*values: uuid.UUID) -> Iterator[uuid.UUID]:
    """``values``, then random ones (drawn with the real generator, which the tests replace)."""
    yield from values
    while True:
        yield RANDOM_UUID()


def test_a_cluster_id_never_begins_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = _uuids(DASH_FIRST, DASH_FIRST)
    monkeypatch.setattr(broker.uuid, "uuid4", lambda: next(draws))
    cluster_id = broker.new_cluster_id()
    assert not cluster_id.startswith("-")
    assert len(cluster_id) == 22


def test_the_storage_format_command_reads_the_cluster_id_as_a_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    draws = _uuids(DASH_FIRST)
    monkeypatch.setattr(broker.uuid, "uuid4", lambda: next(draws))
    seen: list[list[str]] = []

    def run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        seen.append(command)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(broker.subprocess, "run", run)
    settings = Settings(state_dir=tmp_path, cache_dir=tmp_path)
    broker._format_once(settings, broker.broker_paths(settings))
    (command,) = seen
    arguments = command[command.index("format") + 1 :]
    option = arguments.index("-t")
    assert not arguments[option + 1].startswith("-")


class FakeProducer:
    """Stands in for kafka-python's producer: keeps its configuration and what was sent."""

    made: ClassVar[list[FakeProducer]] = []

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        FakeProducer.made.append(self)

    def send(self, topic: str, *, key: bytes | None = None, value: bytes) -> Any:
        self.sent.append((topic, key, value))
        return self

    def get(self, timeout: float | None = None) -> None:
        return None

    def add_errback(self, callback: Any) -> Any:
        return self

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None


@pytest.fixture
def producers(monkeypatch: pytest.MonkeyPatch) -> list[FakeProducer]:
    import kafka

    FakeProducer.made = []
    monkeypatch.setattr(kafka, "KafkaProducer", FakeProducer)
    return FakeProducer.made


def test_the_broker_topics_and_producers_take_one_record_size_limit(
    tmp_path: Path, producers: list[FakeProducer]
) -> None:
    from contracts.topics import ALL_TOPICS, MONTHLY_UPDATES
    from messaging import admin
    from youasked import commands
    from youasked.replay import replay

    limit = 3_000_000
    settings = Settings(state_dir=tmp_path, kafka_message_max_bytes=limit, kafka_bootstrap="127.0.0.1:1")
    paths = broker.broker_paths(settings)
    broker._write_config(settings, paths)
    assert f"message.max.bytes={limit}\n" in paths.config.read_text()
    for spec in ALL_TOPICS:
        assert admin.topic_config(spec, settings)["max.message.bytes"] == str(limit)
    commands.publish(settings, MONTHLY_UPDATES, [(b"k", b"{}")])
    sample = tmp_path / "one.jsonl"
    sample.write_text('{"comment_id": "1"}\n')
    replay(sample, bootstrap_servers="127.0.0.1:1", topic="t", max_request_size=limit, progress=False)
    assert [producer.config["max_request_size"] for producer in producers] == [limit, limit]


REVIEWS = (
    "date,rating,title,content\n2026-01-02,4,Maps,Please add offline maps\n2026-01-03,2,Sync,Sync is slow\n"
)
COMMENT = (
    '{"comment_id": "c%d", "platform": "x", "product": "trailmate", "author_id": "a%d", '
    '"text": "please add offline maps", "created_at": "2026-01-01T12:00:00+00:00"}\n'
)


def _ids(path: Path, **options: Any) -> list[str]:
    from youasked.replay import read_records

    return [json.loads(value)["comment_id"] for _, value in read_records(path, **options)]


def test_a_replay_under_another_product_gets_ids_of_its_own(tmp_path: Path) -> None:
    reviews = tmp_path / "trailmate_reviews.csv"
    reviews.write_text(REVIEWS)
    own = _ids(reviews)
    other = _ids(reviews, overrides={"product": "other"})
    assert len(set(own)) == len(own) == 2
    assert not set(own) & set(other)
    assert _ids(reviews) == own  # replaying it again is idempotent
    assert _ids(reviews, overrides={"product": "other"}) == other
    assert _ids(reviews, overrides={"product": "trailmate"}) == own  # the file's own product


def test_an_id_salt_makes_every_record_a_new_comment(tmp_path: Path) -> None:
    reviews = tmp_path / "trailmate_reviews.csv"
    reviews.write_text(REVIEWS)
    comments = tmp_path / "comments.jsonl"
    comments.write_text(COMMENT % (1, 1) + COMMENT % (2, 2))
    for path in (reviews, comments):
        plain, salted = _ids(path), _ids(path, id_salt="run-2")
        assert not set(plain) & set(salted)
        assert _ids(path, id_salt="run-2") == salted
        assert _ids(path, id_salt="run-3") != salted
    assert _ids(comments) == ["c1", "c2"]  # a file's own ids are kept without a salt


def test_a_replay_counts_the_copies_of_comments_already_accepted(
    tmp_path: Path, producers: list[FakeProducer]
) -> None:
    from youasked.replay import replay

    comments = tmp_path / "comments.jsonl"
    comments.write_text(COMMENT % (1, 1) + COMMENT % (2, 2) + COMMENT % (2, 2) + "not json\n")
    report = replay(
        comments, bootstrap_servers="127.0.0.1:1", topic="t", known={"x:c1"}, progress=False
    )
    assert (report.sent, report.copies) == (4, 2)  # c1 accepted before, c2's second copy


def _run_replay(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, path: Path, accepted: set[str], *args: str
) -> Any:
    from typer.testing import CliRunner

    from messaging import admin
    from youasked import replay
    from youasked.cli import app

    monkeypatch.setenv("YOUASKED_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("YOUASKED_STATE_DIR", str(tmp_path))
    monkeypatch.setattr(admin, "ensure_topics", lambda settings: [])
    monkeypatch.setattr(replay, "accepted_identities", lambda settings: set(accepted))
    from contracts.settings import get_settings

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, ["replay", str(path), "--no-progress", *args])
    finally:
        get_settings.cache_clear()


def test_the_command_warns_when_every_record_would_be_passed_over(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, producers: list[FakeProducer]
) -> None:
    comments = tmp_path / "comments.jsonl"
    comments.write_text(COMMENT % (1, 1) + COMMENT % (2, 2))
    result = _run_replay(monkeypatch, tmp_path, comments, {"x:c1", "x:c2"}, "--set", "product=other")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1].startswith("warning: 2 of 2 records"), lines
    assert "--id-salt" in lines[-1]
    salted = _run_replay(monkeypatch, tmp_path, comments, {"x:c1", "x:c2"}, "--id-salt", "again")
    assert salted.exit_code == 0, salted.output
    assert "warning" not in salted.output
    sent = [json.loads(value)["comment_id"] for _, _, value in producers[-1].sent]
    assert not {"c1", "c2"} & set(sent)


def test_a_record_too_large_for_the_broker_is_counted_and_fails_the_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, producers: list[FakeProducer]
) -> None:
    from kafka.errors import MessageSizeTooLargeError

    plain_send = FakeProducer.send

    def send(self: FakeProducer, topic: str, *, key: bytes | None = None, value: bytes) -> Any:
        if len(value) > self.config["max_request_size"]:
            raise MessageSizeTooLargeError(f"The message is {len(value)} bytes")
        return plain_send(self, topic, key=key, value=value)

    monkeypatch.setattr(FakeProducer, "send", send, raising=True)
    monkeypatch.setenv("YOUASKED_KAFKA_MESSAGE_MAX_BYTES", "70000")
    comments = tmp_path / "comments.jsonl"
    comments.write_text(COMMENT % (1, 1) + COMMENT.replace("please", "x" * 80_000) % (2, 2))
    result = _run_replay(monkeypatch, tmp_path, comments, set())
    assert result.exit_code == 1, result.output
    assert "error: 1 of 2 records were refused" in result.output
    assert [json.loads(value)["comment_id"] for _, _, value in producers[-1].sent] == ["c1"]
