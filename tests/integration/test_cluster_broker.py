"""A local three-node KRaft cluster (``youasked kafka start --brokers 3``): replicated topics, and
a worker that loses the leader of its partitions mid-stream, SIGKILL, without losing or doubling
a comment.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType

from contracts.events import CommentClassified
from contracts.settings import Settings
from contracts.topics import COMMENTS, COMMENTS_CLASSIFIED
from messaging.admin import ensure_topics
from messaging.readback import read_topic
from tests.kafka_support import ROOT, WorkerProcess, env_for, free_port
from youasked import broker

pytestmark = [pytest.mark.integration, pytest.mark.model]

COMMENTS_SENT = 600


def youasked(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = env_for(settings)
    env.pop("YOUASKED_KAFKA_BOOTSTRAP", None)
    env.update({"YOUASKED_KAFKA_PORT": str(settings.kafka_port),
                "YOUASKED_KAFKA_CONTROLLER_PORT": str(settings.kafka_controller_port)})
    return subprocess.run([sys.executable, "-m", "youasked.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)


def free_block(step: int, nodes: int) -> int:
    """A base port whose node ports (base + i * step) are all free."""
    while True:
        base = free_port()
        if base + step * nodes < 65_000 and all(
            not broker.port_open("127.0.0.1", base + i * step) for i in range(nodes)
        ):
            return base


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[Settings]:
    step = 10
    settings = Settings(
        state_dir=tmp_path / "state", cache_dir=ROOT / ".cache", kafka_port=free_block(step, 3),
        kafka_controller_port=free_block(step, 3), kafka_node_port_step=step,
        topic_prefix="cluster.", app_id="youasked-cluster-test",
        worker_web_port=free_port(), worker_metrics_port=free_port(),
    )
    started = youasked(settings, "kafka", "start", "--brokers", "3")
    settings = settings.model_copy(update={"kafka_brokers": 3})
    if started.returncode != 0:
        outs = (tmp_path / "state").glob("kafka/node-*/logs/server.out")
        logs = "".join(out.read_text()[-1500:] for out in outs)
        pytest.fail(f"the cluster did not start:\n{started.stdout}\n{started.stderr}\n{logs}")
    try:
        yield settings
    finally:
        youasked(settings, "kafka", "stop")


def comment(index: int) -> bytes:
    return json.dumps({
        "comment_id": f"c{index}", "platform": "x", "product": f"product-{index % 3}",
        "author_id": f"a{index}", "text": f"Please add offline maps for region {index}, I hike a lot",
        "created_at": "2026-06-01T08:00:00+00:00",
    }).encode()


def test_a_three_node_cluster_replicates_and_a_worker_survives_losing_a_leader(
    cluster: Settings, tmp_path: Path
) -> None:
    settings = cluster
    status = youasked(settings, "kafka", "status")
    assert status.returncode == 0 and status.stdout.count("answering") == 3, status.stdout

    ensure_topics(settings)
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        topic = settings.topic_name(COMMENTS)
        (described,) = admin.describe_topics([topic])
        assert {len(p["replicas"]) for p in described["partitions"]} == {3}
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        entries = {name: value for name, value, *_ in configs[0].resources[0][4]}
        assert entries["min.insync.replicas"] == "2"
        leaders = Counter(p["leader"] for p in described["partitions"])
    finally:
        admin.close()

    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all",
                             enable_idempotence=True, linger_ms=5)
    try:
        sent: list[object] = []

        def send(start: int, stop: int) -> None:
            for index in range(start, stop):
                sent.append(producer.send(topic, key=f"x:c{index}".encode(), value=comment(index)))
                time.sleep(0.005)

        send(0, COMMENTS_SENT // 3)
        read_topic(settings, COMMENTS_CLASSIFIED, expect=20, timeout=240, settle=0)
        victim = leaders.most_common(1)[0][0]  # the node leading most partitions of the input
        sender = threading.Thread(target=send, args=(COMMENTS_SENT // 3, COMMENTS_SENT))
        sender.start()
        time.sleep(0.5)
        assert broker.kill_node(settings, victim)  # SIGKILL, mid-stream
        sender.join()
        producer.flush(timeout=120)
        for future in sent:
            future.get(timeout=60)  # type: ignore[attr-defined]
        restarted = youasked(settings, "kafka", "start")
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        classified = read_topic(settings, COMMENTS_CLASSIFIED, expect=COMMENTS_SENT, timeout=300, settle=5)
    finally:
        producer.close()
        worker.stop()
    keys = Counter(CommentClassified.model_validate_json(r.value).key for r in classified)
    missing = {f"x:c{i}" for i in range(COMMENTS_SENT)} - set(keys)
    assert not missing and len(keys) == COMMENTS_SENT, (len(missing), worker.log_tail())
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1][:5]
    assert youasked(settings, "kafka", "status").returncode == 0
