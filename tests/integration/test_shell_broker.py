"""The shell against the real thing: the broker's storage tool with a cluster id drawn to begin
with '-', and the identities a replay checks read from a real broker's accepted topic."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from contracts.settings import Settings
from tests.kafka_support import ROOT, isolated_settings
from youasked import broker

pytestmark = pytest.mark.integration

RANDOM_UUID = uuid.uuid4
DASH_FIRST = uuid.UUID(bytes=b"\xf8" + bytes(15))  # URL-safe base64 of it begins with '-'


def test_the_real_storage_tool_formats_when_the_first_draw_begins_with_a_dash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    draws = iter([DASH_FIRST, *(RANDOM_UUID() for _ in range(9))])
    monkeypatch.setattr(broker.uuid, "uuid4", lambda: next(draws))
    settings = Settings(state_dir=tmp_path, cache_dir=ROOT / ".cache")
    paths = broker.broker_paths(settings)
    broker.ensure_jars(settings)
    broker._write_config(settings, paths)
    broker._format_once(settings, paths)
    lines = (paths.data / "meta.properties").read_text().splitlines()
    meta = dict(line.split("=", 1) for line in lines if "=" in line)
    assert len(meta["cluster.id"]) == 22
    assert not meta["cluster.id"].startswith("-")


def test_the_identities_already_accepted_are_read_from_the_broker(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    from contracts.topics import COMMENTS_ACCEPTED
    from messaging.admin import ensure_topics
    from youasked import commands
    from youasked.replay import accepted_identities

    settings = isolated_settings(kafka_bootstrap, tmp_path)
    ensure_topics(settings)
    assert accepted_identities(settings) == set()
    keys = {f"x:c{n}" for n in range(50)}
    commands.publish(settings, COMMENTS_ACCEPTED, [(key.encode(), b"{}") for key in sorted(keys)])
    assert accepted_identities(settings) == keys
