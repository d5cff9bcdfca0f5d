"""The themes agent against the real broker: themes form, survive a crash and restart, ids stay."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from contracts.events import (
    CommentAccepted,
    SourceRef,
    SuggestionDetected,
    SuggestionThemed,
    ThemeChanged,
    ThemeStatus,
    event_json,
)
from contracts.settings import Settings
from contracts.topics import SUGGESTIONS, THEME_MEMBERS, THEMES
from messaging.admin import ensure_topics
from messaging.readback import read_topic
from models.themes.effects import MEMBERS, STATE
from streams.themes import MEMBERS_BEFORE_STATE
from tests.fakes import whole_ask
from tests.kafka_support import WorkerProcess, isolated_settings, produce

pytestmark = pytest.mark.integration

RNG = np.random.default_rng(5)
CENTRES = [RNG.normal(size=384) for _ in range(3)]
T0 = datetime(2026, 4, 1, tzinfo=UTC)
SMALL_SEGMENT = 1024 * 1024


def detected(index: int, cluster: int, author: str) -> tuple[bytes, bytes]:
    vector = CENTRES[cluster] + RNG.normal(scale=0.35, size=384)
    vector = vector / np.linalg.norm(vector)
    comment = CommentAccepted(
        comment_id=f"s{index}",
        platform="x",
        product="trailmate",
        author_id=author,
        author_handle=f"@{author}",
        text=f"idea {cluster} variant {index} " + "word " * (index % 5),
        created_at=T0 + timedelta(minutes=index),
        url=f"https://x.com/{author}/status/{index}",
        key=f"x:s{index}",
        received_at=T0 + timedelta(minutes=index),
        source=SourceRef(topic="feedback.comments", partition=0, offset=index),
    )
    event = SuggestionDetected(
        suggestion_id=f"{comment.key}#1",
        comment=comment,
        ask=whole_ask(comment.text),
        score=0.9,
        embedding=[float(x) for x in vector],
        embedding_model="test",
        detected_at=T0,
    )
    return b"trailmate", event_json(event)


def latest(
    settings: Settings, expect: int, spec: object, key: str, timeout: float = 120
) -> dict[str, dict[str, object]]:
    """The last record per key of a compacted topic, once at least ``expect`` keys are there
    and nothing new arrived for a few seconds."""
    deadline = time.monotonic() + timeout
    while True:
        out: dict[str, dict[str, object]] = {}
        for record in read_topic(settings, spec, timeout=20, settle=4):  # type: ignore[arg-type]
            value = json.loads(record.value)
            out[value[key]] = value
        if len(out) >= expect or time.monotonic() > deadline:
            return out


def run_scenario(
    kafka_bootstrap: str, tmp_path: Path, *, crash: bool, store: str = "memory://", segment_bytes: int = 0,
    failpoint: str | None = None,
) -> Settings:
    """Themes form from 60 suggestions; 30 more and 5 re-deliveries follow (after a SIGKILL and
    a restart when ``crash``, the restarted worker keeping the local table ``store``); ids,
    placements and counts must hold. ``segment_bytes``: the changelogs' ``segment.bytes``;
    ``failpoint``: a crash point the worker passes once (its supervisor restarts it)."""
    settings = isolated_settings(
        kafka_bootstrap, tmp_path, theme_tick_interval_s=1.0, theme_idle_recluster_s=2.0, table_store=store,
        changelog_segment_bytes=segment_bytes,
    )
    env = {"YOUASKED_TABLE_STORE": store}
    if failpoint:
        env |= {"YOUASKED_FAILPOINTS": failpoint, "YOUASKED_FAILPOINTS_FIRED": str(tmp_path / "fired")}
    ensure_topics(settings)
    first = [detected(i, i % 3, f"user{i % 25}") for i in range(60)]
    produce(settings, SUGGESTIONS, first)
    worker = WorkerProcess(settings, tmp_path / "worker.log", env=env).start()
    try:
        themes_1 = {
            k: v for k, v in latest(settings, 3, THEMES, "theme_id").items() if v["status"] == "active"
        }
        members_1 = latest(settings, 60, THEME_MEMBERS, "suggestion_id")
        if crash:
            worker.kill()
        assert len(themes_1) == 3, worker.log_tail()
        home_1 = {sid: m["theme_id"] for sid, m in members_1.items()}

        second = [detected(i, i % 3, f"user{i % 25}") for i in range(60, 90)]
        produce(settings, SUGGESTIONS, [*second, *first[:5]])  # the first five again: re-deliveries
        if crash:
            worker = WorkerProcess(settings, tmp_path / "worker2.log", env=env).start()
        # After a crash faust may leave the partition idle until the offset guard seeks it
        # back (README, "No skipped offsets"); allow for that and, failing it, a supervised restart.
        members = latest(settings, 90, THEME_MEMBERS, "suggestion_id", timeout=300 if crash else 120)
        themes = {
            k: ThemeChanged.model_validate(v) for k, v in latest(settings, 3, THEMES, "theme_id").items()
        }
    finally:
        worker.stop()

    assert len(members) == 90, sorted(set(f"x:s{i}#1" for i in range(90)) - set(members))
    placed = {sid: SuggestionThemed.model_validate(m) for sid, m in members.items()}
    active = {k: t for k, t in themes.items() if t.status is ThemeStatus.ACTIVE}
    assert set(active) == set(themes_1), "theme ids changed as the stream went on"
    for sid, theme_id in home_1.items():
        assert placed[sid].theme_id == theme_id
    # each new suggestion joined the theme of its cluster
    cluster_theme = {i % 3: home_1[f"x:s{i}#1"] for i in range(3)}
    for i in range(60, 90):
        assert placed[f"x:s{i}#1"].theme_id == cluster_theme[i % 3]
    # counts: every suggestion once (re-deliveries not counted twice), people counted once
    for cluster, theme_id in cluster_theme.items():
        indices = [i for i in range(90) if i % 3 == cluster]
        duplicates = sum(1 for i in indices if placed[f"x:s{i}#1"].duplicate_kind == "exact")
        assert active[theme_id].mention_count == len(indices)
        assert active[theme_id].member_count == len(indices) - duplicates
        assert active[theme_id].author_count == len({f"user{i % 25}" for i in indices})
    return settings


def test_themes_form_keep_their_ids_and_count_people_once(kafka_bootstrap: str, tmp_path: Path) -> None:
    run_scenario(kafka_bootstrap, tmp_path, crash=False)


def test_themes_form_and_survive_a_crash_with_stable_ids(kafka_bootstrap: str, tmp_path: Path) -> None:
    # changelog segments of 1 MiB instead of the broker's 1 GiB: the setting reaches both changelogs,
    # and the restarted worker rebuilds its tables from a changelog the broker may roll and compact
    settings = run_scenario(kafka_bootstrap, tmp_path, crash=True, segment_bytes=SMALL_SEGMENT)
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        for table in (STATE, MEMBERS):
            topic = f"{settings.app_id}-{table}-changelog"
            described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
            configs = {name: value for name, value, *_ in described[0].resources[0][4]}
            assert configs["segment.bytes"] == str(SMALL_SEGMENT), topic
            assert configs["cleanup.policy"] == "compact", topic
    finally:
        admin.close()


def test_a_suggestion_whose_member_entry_outlived_its_state_in_a_crash_is_counted_once(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    # the worker dies once the first step's member entry is on its changelog and before the state's
    # writes of that step are: the restarted worker finds the entry with a state that lacks the step,
    # and places the suggestion again (passed over, it would be missing from its theme's counts)
    run_scenario(kafka_bootstrap, tmp_path, crash=False, failpoint=MEMBERS_BEFORE_STATE)
    text = (tmp_path / "worker.log").read_text(errors="replace")
    assert f"failpoint {MEMBERS_BEFORE_STATE}: crashing" in text
    assert "exited with -9" in text, "the supervisor did not see the crash"
    assert (tmp_path / "fired" / MEMBERS_BEFORE_STATE).exists()


def test_themes_survive_a_crash_with_their_tables_kept_on_disk(kafka_bootstrap: str, tmp_path: Path) -> None:
    # rocksdb:// (faust's RocksDB store through rocksdict): the restarted worker reads its own
    # store, written up to some point before the SIGKILL, and replays only the changelog after it
    pytest.importorskip("rocksdict")
    run_scenario(kafka_bootstrap, tmp_path, crash=True, store="rocksdb://")
    assert list(tmp_path.glob("state-*/worker/**/theme-state-*.db")), "no table store on disk"


def test_asks_left_waiting_for_a_re_cluster_get_it_after_a_restart_with_no_more_input(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    # A worker starts (or a rebalance reassigns) with nothing loaded, and a product is loaded by its
    # next input: a product whose last asks wait in the pool for the idle re-cluster, and which gets
    # no more input, must still be re-clustered by the worker that now holds it.
    settings = isolated_settings(
        kafka_bootstrap, tmp_path, theme_tick_interval_s=1.0, theme_idle_recluster_s=2.0
    )
    ensure_topics(settings)
    produce(settings, SUGGESTIONS, [detected(i, i % 2, f"user{i}") for i in range(40)])
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        formed = latest(settings, 2, THEMES, "theme_id")
        assert len({k for k, v in formed.items() if v["status"] == "active"}) == 2, worker.log_tail()
    finally:
        worker.stop()

    # a third idea arrives while the re-cluster waits for an hour of quiet; the worker stops with
    # its offsets committed, so the next one has no input to place again
    produce(settings, SUGGESTIONS, [detected(i, 2, f"user{i}") for i in range(40, 48)])
    patient = {"YOUASKED_THEME_IDLE_RECLUSTER_S": "3600"}
    waiting = WorkerProcess(settings, tmp_path / "waiting.log", env=patient).start()
    try:
        members = latest(settings, 48, THEME_MEMBERS, "suggestion_id")
        pooled = {sid for sid, m in members.items() if m["theme_id"] is None}
        assert pooled == {f"x:s{i}#1" for i in range(40, 48)}, (pooled, waiting.log_tail())
        time.sleep(5)  # past a commit of the offsets
    finally:
        waiting.stop()

    # no more input: the worker that takes the product over re-clusters it once it is quiet
    worker = WorkerProcess(settings, tmp_path / "after.log").start()
    try:
        deadline = time.monotonic() + 120
        while True:
            members = latest(settings, 48, THEME_MEMBERS, "suggestion_id", timeout=30)
            placed = {members[f"x:s{i}#1"]["theme_id"] for i in range(40, 48)}
            if None not in placed or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert None not in placed and len(placed) == 1, (placed, worker.log_tail())
        themes = latest(settings, 3, THEMES, "theme_id")
        assert len({k for k, v in themes.items() if v["status"] == "active"}) == 3
    finally:
        worker.stop()
