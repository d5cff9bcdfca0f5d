"""Helpers for tests against the real broker: settings per test, worker subprocesses, produce, consume."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterable
from pathlib import Path

from kafka import KafkaProducer

from contracts.settings import Settings
from contracts.topics import TopicSpec
from models.factories import exported_model_dir

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_for(settings: Settings) -> dict[str, str]:
    """Environment variables that reproduce ``settings`` in a subprocess."""
    env = dict(os.environ)
    env.update(
        {
            "YOUASKED_KAFKA_BOOTSTRAP": settings.bootstrap_servers,
            "YOUASKED_TOPIC_PREFIX": settings.topic_prefix,
            "YOUASKED_APP_ID": settings.app_id,
            "YOUASKED_STATE_DIR": str(settings.state_dir),
            "YOUASKED_CACHE_DIR": str(settings.cache_dir),
            "YOUASKED_TOPIC_PARTITIONS": str(settings.topic_partitions),
            "YOUASKED_WORKER_WEB_PORT": str(settings.worker_web_port),
            "YOUASKED_WORKER_METRICS_PORT": str(settings.worker_metrics_port),
            "YOUASKED_TOPIC_REPLICATION": str(settings.replication_factor),
            "YOUASKED_TOPIC_MIN_INSYNC_REPLICAS": str(settings.min_insync_replicas),
            "YOUASKED_CHANGELOG_SEGMENT_BYTES": str(settings.changelog_segment_bytes),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def isolated_settings(bootstrap: str, tmp: Path, **overrides: object) -> Settings:
    """Settings with their own topic prefix, consumer group and state folder."""
    tag = uuid.uuid4().hex[:8]
    values: dict[str, object] = {
        "kafka_bootstrap": bootstrap,
        "topic_prefix": f"t{tag}.",
        "app_id": f"youasked-test-{tag}",
        "state_dir": tmp / f"state-{tag}",
        "cache_dir": ROOT / ".cache",
        "worker_web_port": free_port(),
        "worker_metrics_port": free_port(),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


class WorkerProcess:
    """``youasked worker`` in a subprocess, with its output in a log file."""

    def __init__(self, settings: Settings, log_path: Path, *, env: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.log_path = log_path
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.settings.embedding_backend == "onnx":
            # Export once here (a fresh clone has no export yet) rather than inside a worker's
            # start, which a test times.
            exported_model_dir(self.settings)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "youasked.cli", "worker", "--loglevel", "info"],
            env={**env_for(self.settings), **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
        return self

    def kill(self) -> None:
        """SIGKILL: a crash, no shutdown work."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        """The worker's Prometheus samples (``{(name, labels): value}``); empty while it serves none."""
        from prometheus_client.parser import text_string_to_metric_families

        url = f"http://127.0.0.1:{self.settings.worker_metrics_port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                text = response.read().decode()
        except OSError:
            return {}
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


def produce(settings: Settings, spec: TopicSpec, records: Iterable[tuple[bytes | None, bytes]]) -> int:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=2)
    count = 0
    for key, value in records:
        producer.send(settings.topic_name(spec), key=key, value=value)
        count += 1
    producer.flush()
    producer.close()
    return count
