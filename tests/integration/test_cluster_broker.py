"""A local three-node KRaft cluster (``youasked kafka start --brokers 3``): replicated topics, and
a worker that loses the leader of its partitions mid-stream, SIGKILL, without losing or doubling
a comment; then the whole pipeline (worker, API projecting into its read model, a product
manager shipping themes) through the loss and restart of the node leading its busiest partitions.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from sqlalchemy import func, select

from api.readmodel.db import make_engine, upgrade
from api.readmodel.schema import ClassificationRow, ClosureRow, SuggestionRow
from api.security import Role, create_key
from contracts.events import CommentClassified, DeadLetter, suggestion_id_of
from contracts.lifecycle import ClosureEvent
from contracts.settings import Settings
from contracts.topics import (
    CLOSURES,
    COMMENTS,
    COMMENTS_ACCEPTED,
    COMMENTS_ACCEPTED_DLQ,
    COMMENTS_CLASSIFIED,
    COMMENTS_DLQ,
    COMMENTS_VALIDATED,
    COMMENTS_VALIDATED_DLQ,
    SUGGESTIONS,
    THEME_OUTCOMES,
    TopicSpec,
)
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


STAGES = (COMMENTS, COMMENTS_DLQ, COMMENTS_VALIDATED, COMMENTS_VALIDATED_DLQ, COMMENTS_ACCEPTED,
          COMMENTS_ACCEPTED_DLQ, COMMENTS_CLASSIFIED)
WORKER_NOTES = ("set aside", "not delivered", "seeking back", "once more", "transient error")


def trace(settings: Settings, comment_ids: set[str], log: str) -> str:
    """Where each of ``comment_ids`` went (topic, partition, offset; a dead letter's stage and
    reason), and the worker's notes on skipped offsets, retries and records set aside: what a
    failure needs to say which stage stopped a comment.
    """
    lines = []
    for spec in STAGES:
        for record in read_topic(settings, spec, timeout=30, settle=2):
            value = record.value
            note = ""
            if spec.name.endswith(".dlq"):
                letter = DeadLetter.model_validate_json(value)
                value = base64.b64decode(letter.original_b64)
                note = f" {letter.stage}: {letter.reason.value}: {letter.detail[:160]}"
            for comment_id in comment_ids:
                if any(f'"comment_id":{gap}"{comment_id}"'.encode() in value for gap in ("", " ")):
                    lines.append(f"{comment_id} in {spec.name}[{record.partition}]@{record.offset}{note}")
    notes = [line[:300] for line in log.splitlines() if any(n in line for n in WORKER_NOTES)]
    return "\n".join([*sorted(lines), "worker notes:", *notes[-40:]])


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
        # a topic just created may not be in every node's metadata yet: ask until it is
        deadline = time.monotonic() + 60
        described = admin.describe_topics([topic])[0]
        while not described["partitions"] and time.monotonic() < deadline:
            time.sleep(0.5)
            described = admin.describe_topics([topic])[0]
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
    if missing:
        where = trace(settings, {key.split(":", 1)[1] for key in missing}, worker.log_tail(2_000_000))
        pytest.fail(f"{len(missing)} comments not classified: {sorted(missing)[:10]}\n{where}")
    assert len(keys) == COMMENTS_SENT
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1][:5]
    assert youasked(settings, "kafka", "status").returncode == 0


# --- the whole pipeline through a leader's loss: worker, API and read model ----------------------

PRODUCTS_SENT = 1200  # comments of six products (tests/integration/test_cluster_workers_broker.py)
BAD_EVERY = 40  # every 40th input is not JSON: it must end in the dead-letter topic, once


def products() -> tuple[str, ...]:
    # imported when used: that module imports this one's cluster fixture
    from tests.integration.test_cluster_workers_broker import PRODUCTS

    return PRODUCTS


def pipeline_input(index: int) -> tuple[bytes, bytes]:
    from tests.integration.test_cluster_workers_broker import comment as product_comment

    if index % BAD_EVERY == BAD_EVERY - 1:
        return f"bad:{index}".encode(), b'{"comment_id": "broken'
    return f"x:c{index}".encode(), product_comment(index)


def api_process(settings: Settings, url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = env_for(settings)
    env.update({"YOUASKED_DATABASE_URL": url, "YOUASKED_API_PORT": str(port)})
    return subprocess.Popen([sys.executable, "-m", "youasked.cli", "api"], env=env, cwd=ROOT,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def until(probe: Callable[[], Any], *, timeout: float, every: float = 2.0) -> Any:
    """``probe()``'s first truthy answer within ``timeout`` seconds, else its last one."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(every)


def busiest_leader(settings: Settings, specs: tuple[TopicSpec, ...]) -> tuple[int, Counter[int]]:
    """The node leading the most records of ``specs``' partitions so far, and each node's count."""
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    try:
        led: Counter[int] = Counter()
        for described in admin.describe_topics([settings.topic_name(spec) for spec in specs]):
            partitions = {p["partition"]: p["leader"] for p in described["partitions"]}
            ends = consumer.end_offsets([TopicPartition(described["topic"], p) for p in partitions])
            for partition, end in ends.items():
                led[partitions[partition.partition]] += end
        return led.most_common(1)[0][0], led
    finally:
        consumer.close()
        admin.close()


def test_losing_the_busiest_leader_mid_stream_loses_and_doubles_nothing_worker_api_and_read_model(
    cluster: Settings, tmp_path: Path
) -> None:
    settings = cluster
    ensure_topics(settings)
    engine = make_engine(f"sqlite:///{tmp_path / 'readmodel.db'}")
    upgrade(engine)
    pm = {"X-API-Key": create_key(engine, name="pm", role=Role.pm)}
    port = free_port()
    quick_themes = {"YOUASKED_THEME_TICK_INTERVAL_S": "1", "YOUASKED_THEME_IDLE_RECLUSTER_S": "2",
                    # what ships is judged by its release line elsewhere: here every ask is thanked
                    "YOUASKED_CLOSURE_RELEVANCE": "false"}
    worker = WorkerProcess(settings, tmp_path / "worker.log", env=quick_themes).start()
    api = api_process(settings, str(engine.url), port, tmp_path / "api.log")
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all",
                             enable_idempotence=True, linger_ms=5)
    topic = settings.topic_name(COMMENTS)
    shipped: dict[str, str] = {}  # product -> the theme its pm shipped
    commands: list[str] = []
    victim, led = 0, Counter[int]()
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=pm, timeout=30)
        sent: list[Any] = []

        def send(start: int, stop: int) -> None:
            for index in range(start, stop):
                key, value = pipeline_input(index)
                sent.append(producer.send(topic, key=key, value=value))
                time.sleep(0.005)

        def themes_of(product: str) -> list[dict[str, Any]]:
            try:
                answer = client.get("/themes", params={"product": product})
            except httpx.HTTPError:
                return []
            return list(answer.json()["items"]) if answer.status_code == 200 else []

        send(0, PRODUCTS_SENT // 2)
        found = until(lambda: all(themes_of(p) for p in products()), timeout=420, every=5)
        assert found, (worker.log_tail(), api_log(tmp_path))

        victim, led = busiest_leader(settings, (COMMENTS, COMMENTS_CLASSIFIED, SUGGESTIONS))
        sender = threading.Thread(target=send, args=(PRODUCTS_SENT // 2, PRODUCTS_SENT))
        sender.start()
        time.sleep(0.5)
        assert broker.kill_node(settings, victim)  # SIGKILL, mid-stream
        for product in products():  # the pms ship while the node is down: 503s are asked again
            theme_id = themes_of(product)[0]["theme_id"]
            body = {"status": "shipped", "title": f"{product} ships it", "reason": "asked by many"}
            command_id = until(lambda t=theme_id, b=body: ship(client, t, b), timeout=180)
            assert command_id, f"the API never took the command for {theme_id}"
            shipped[product] = theme_id
            commands.append(command_id)
        sender.join()
        producer.flush(timeout=120)
        for future in sent:
            future.get(timeout=60)
        restarted = youasked(settings, "kafka", "start")
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr

        valid = [i for i in range(PRODUCTS_SENT) if i % BAD_EVERY != BAD_EVERY - 1]
        classified = read_topic(settings, COMMENTS_CLASSIFIED, expect=len(valid), timeout=420, settle=5)
        judged = [CommentClassified.model_validate_json(r.value) for r in classified]
        asks = {suggestion_id_of(e.key, n) for e in judged for n in range(1, len(e.asks) + 1)}

        def read_model_caught_up() -> bool:
            with engine.connect() as connection:
                held = set(connection.execute(select(SuggestionRow.suggestion_id)).scalars())
                closed = set(connection.execute(select(ClosureRow.theme_id)).scalars())
            return asks <= held and set(shipped.values()) <= closed

        caught_up = until(read_model_caught_up, timeout=420, every=5)
        inputs = read_topic(settings, COMMENTS, expect=PRODUCTS_SENT, timeout=60, settle=2)
        dead = read_topic(settings, COMMENTS_DLQ, timeout=30, settle=3)
        closures = read_topic(settings, CLOSURES, expect=len(shipped), timeout=120, settle=5)
        outcomes = read_topic(settings, THEME_OUTCOMES, timeout=30, settle=3)
        ready = client.get("/ready").json()
        alive = worker.process is not None and worker.process.poll() is None and api.poll() is None
    finally:
        producer.close()
        worker.stop()
        stop_process(api)
    logs = f"victim {victim} of {dict(led)}\n{worker.log_tail(2500)}\n{api_log(tmp_path)}"

    # every input offset ends in exactly one output or one dead letter
    assert len(inputs) == PRODUCTS_SENT, len(inputs)
    outputs = Counter(e.key for e in judged)
    letters = Counter((d.source.partition, d.source.offset)
                      for d in (DeadLetter.model_validate_json(r.value) for r in dead)
                      if d.source.topic == topic)
    for record in inputs:
        ends = outputs[(record.key or b"").decode()] + letters[(record.partition, record.offset)]
        assert ends == 1, (record.key, record.partition, record.offset, ends, logs)
    assert sum(letters.values()) == PRODUCTS_SENT // BAD_EVERY

    # one closure per shipped theme, on the topic and in the read model; one outcome per command
    keys = Counter(ClosureEvent.model_validate_json(r.value).closure_key for r in closures)
    assert keys == Counter({f"closure:{theme}:none": 1 for theme in shipped.values()}), (keys, logs)
    decided = Counter(r.key.decode() for r in outcomes if r.key)
    assert all(decided[command] == 1 for command in commands), (decided, commands)

    # the worker and the API carried on by themselves; the read model holds every ask
    assert alive and caught_up, logs
    assert ready["broker"] and ready["database"], ready
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ClassificationRow)).scalar() == len(valid)
    assert len(asks) >= len(valid) * 0.8, "the judge missed most of the plain asks"


def ship(client: httpx.Client, theme_id: str, body: dict[str, str]) -> str | None:
    """The command id of a shipping the API took (202), or None while it cannot (broker down)."""
    try:
        answer = client.post(f"/themes/{theme_id}/status", json=body)
    except httpx.HTTPError:
        return None
    if answer.status_code == 503:
        return None
    assert answer.status_code == 202, answer.text
    return str(answer.json()["command_id"])


def api_log(tmp_path: Path) -> str:
    path = tmp_path / "api.log"
    return path.read_text(errors="replace")[-2500:] if path.exists() else ""
