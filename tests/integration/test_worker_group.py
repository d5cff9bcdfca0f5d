"""The supervisor finds its worker in the consumer group, with the partitions that worker holds."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from contracts.topics import COMMENTS, WORKER_INPUTS
from messaging.admin import ensure_topics
from streams import supervisor
from streams.step_marker import marker_path
from tests.kafka_support import WorkerProcess, isolated_settings

pytestmark = pytest.mark.integration


def test_the_supervisor_sees_which_partitions_its_worker_holds(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = isolated_settings(kafka_bootstrap, tmp_path)
    ensure_topics(settings)
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    owned: set[tuple[str, int]] | None = None
    member = ""
    try:
        assert supervisor._assignment(settings, supervisor.client_id_of(1)) is None  # no such member
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not owned:
            time.sleep(2)
            admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
            try:
                (group,) = admin.describe_consumer_groups([settings.app_id])
            except KafkaError:  # a broker just started has no group coordinator for a moment
                continue
            finally:
                admin.close()
            members = [m.client_id for m in group.members]
            if len(members) == 1:
                member = members[0]
                owned = supervisor._assignment(settings, member)
        child = int(member.rsplit("-", 1)[-1]) if member else 0
        # its tables (empty changelogs) are rebuilt within moments of holding its partitions
        settled = time.monotonic() + 60
        while (recovering := supervisor._recovering(settings, child)) and time.monotonic() < settled:
            time.sleep(1)
        served = worker.metrics()
        marked = marker_path(settings, child).exists()  # the file the supervisor reads its steps from
    finally:
        worker.stop()
    assert ("youasked_tables_recovering", frozenset({("pid", str(child))})) in served, served
    assert ("youasked_step_running_seconds", frozenset({("pid", str(child))})) in served, served
    assert marked
    assert not recovering
    assert re.fullmatch(r"youasked-worker-\d+", member), (member, worker.log_tail())
    assert owned is not None
    inputs = {settings.topic_name(spec) for spec in WORKER_INPUTS}
    held = {topic for topic, _ in owned}
    assert inputs <= held
    comments = {p for t, p in owned if t == settings.topic_name(COMMENTS)}
    assert comments == set(range(settings.topic_partitions))
