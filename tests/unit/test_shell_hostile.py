"""The shell under awkward conditions: a cluster id that looks like an option, a narrow output
that must not break a printed command, a replay under another product, and one record-size
limit that the broker, the topics and the producers agree on."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from youasked import broker
from youasked.settings import Settings

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


@pytest.mark.integration
def test_the_real_storage_tool_formats_when_the_first_draw_begins_with_a_dash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    draws = _uuids(DASH_FIRST)
    monkeypatch.setattr(broker.uuid, "uuid4", lambda: next(draws))
    settings = Settings(state_dir=tmp_path, cache_dir=Path(broker.POM).parents[2] / ".cache")
    paths = broker.broker_paths(settings)
    broker.ensure_jars(settings)
    broker._write_config(settings, paths)
    broker._format_once(settings, paths)
    lines = (paths.data / "meta.properties").read_text().splitlines()
    meta = dict(line.split("=", 1) for line in lines if "=" in line)
    assert len(meta["cluster.id"]) == 22
    assert not meta["cluster.id"].startswith("-")


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
    from youasked import admin, commands
    from youasked.contracts.topics import ALL_TOPICS, MONTHLY_UPDATES
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
