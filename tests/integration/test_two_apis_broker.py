"""Two API processes project into one PostgreSQL read model (they share the projection's consumer
group, so each projects some partitions): the database ends as one process alone makes it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, select

from api.readmodel.db import make_engine, upgrade
from contracts.settings import Settings
from contracts.topics import COMMENTS, COMMENTS_CLASSIFIED, THEME_MEMBERS
from messaging.admin import ensure_topics
from messaging.readback import read_topic
from tests.integration.test_cluster_workers_broker import comment
from tests.kafka_support import ROOT, WorkerProcess, env_for, free_port, isolated_settings, produce
from tests.postgres_support import fresh_database

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.postgres]

COMMENTS_SENT = 480
# Set by the projecting process's clock, not by the events: they differ between any two runs.
WALL_CLOCK_COLUMNS = {"projected_at", "updated_at", "created_at_db", "set_aside_at"}


def themed(settings: Settings) -> int:
    """Members placed in a theme so far."""
    members = read_topic(settings, THEME_MEMBERS, timeout=30, settle=2)
    return sum(1 for record in members if record.value and b'"theme_id":"t-' in record.value)


def api_process(settings: Settings, url: str, app_id: str, log: Path) -> subprocess.Popen[bytes]:
    env = env_for(settings.model_copy(update={"app_id": app_id}))
    env.update({"YOUASKED_DATABASE_URL": url, "YOUASKED_API_PORT": str(free_port())})
    return subprocess.Popen([sys.executable, "-m", "youasked.cli", "api"], env=env, cwd=ROOT,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, without wall-clock columns, in a stable order."""
    metadata = MetaData()
    metadata.reflect(engine)
    tables: dict[str, list[tuple[object, ...]]] = {}
    with engine.connect() as connection:
        for name, table in sorted(metadata.tables.items()):
            if name in {"alembic_version", "api_keys"}:
                continue
            columns = [c for c in table.columns if c.name not in WALL_CLOCK_COLUMNS]
            rows = connection.execute(select(*columns)).all()
            tables[name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


def settled(engines: list[Engine], timeout: float = 300) -> list[dict[str, list[tuple[object, ...]]]]:
    """Snapshots of ``engines`` once none of them changed for 10 s."""
    deadline = time.monotonic() + timeout
    last = [snapshot(engine) for engine in engines]
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(2)
        now = [snapshot(engine) for engine in engines]
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= 10 and all(s.get("suggestions") for s in now):
            return now
    return last


def test_two_api_processes_on_one_database_project_what_one_does(
    kafka_bootstrap: str, tmp_path: Path, postgres_url: str
) -> None:
    settings = isolated_settings(kafka_bootstrap, tmp_path, theme_tick_interval_s=1.0,
                                 theme_idle_recluster_s=2.0)
    ensure_topics(settings)
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        produce(settings, COMMENTS, [(f"x:c{i}".encode(), comment(i)) for i in range(COMMENTS_SENT)])
        read_topic(settings, COMMENTS_CLASSIFIED, expect=COMMENTS_SENT, timeout=300, settle=2)
        deadline = time.monotonic() + 180  # until the idle re-cluster founded themes
        while not themed(settings) and time.monotonic() < deadline:
            time.sleep(5)
    finally:
        worker.stop()

    shared_url, single_url = fresh_database(postgres_url), fresh_database(postgres_url)
    shared, single = make_engine(shared_url), make_engine(single_url)
    upgrade(shared)
    upgrade(single)
    processes = [
        api_process(settings, shared_url, settings.app_id, tmp_path / "api-a.log"),
        api_process(settings, shared_url, settings.app_id, tmp_path / "api-b.log"),
        api_process(settings, single_url, f"{settings.app_id}-alone", tmp_path / "api-alone.log"),
    ]
    try:
        two, one = settled([shared, single])
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    logs = "".join(path.read_text(errors="replace")[-1500:] for path in tmp_path.glob("api-*.log"))
    assert one["suggestions"] and one["themes"], logs
    for name in one:
        assert two[name] == one[name], (name, len(two[name]), len(one[name]), logs)
