"""Prometheus metrics: the API's /metrics counts and times requests; the worker's metrics module
counts, measures lag and serves its registry over HTTP."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_api
from api.readmodel.db import make_engine, upgrade
from api.readmodel.projector import apply_batch
from api.security import Role, create_key
from contracts.settings import Settings
from messaging.offsets import lag_by_partition
from streams.metrics import MetricsSensor, WorkerMetrics, start_metrics_server
from tests.readmodel_support import WordHashEmbedder, sample_records


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text page: ``{(name, labels): value}``."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, str]:
    tmp = tmp_path_factory.mktemp("telemetry")
    engine = make_engine(f"sqlite:///{tmp / 'rm.db'}")
    upgrade(engine)
    apply_batch(engine, list(sample_records()))
    key = create_key(engine, name="viewer", role=Role.viewer)
    settings = Settings(kafka_bootstrap="127.0.0.1:1", state_dir=tmp)
    app = create_api(settings, engine=engine, project=False, commands=False, embedder=WordHashEmbedder)
    with TestClient(app) as client:
        yield client, key


def test_api_metrics_count_requests_by_route_template_and_time_them(api: tuple[TestClient, str]) -> None:
    client, key = api
    before = samples(client.get("/metrics").text)
    labels = frozenset({"method": "GET", "route": "/themes/{theme_id}", "status": "200"}.items())
    missing = frozenset({"method": "GET", "route": "/themes/{theme_id}", "status": "404"}.items())
    for _ in range(3):
        assert client.get("/themes/t-maps", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/themes/no-such-theme", headers={"X-API-Key": key}).status_code == 404
    assert client.get("/no/such/path").status_code == 404

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def grew(name: str, which: frozenset[tuple[str, str]]) -> float:
        return after.get((name, which), 0.0) - before.get((name, which), 0.0)

    assert grew("youasked_http_requests_total", labels) == 3
    assert grew("youasked_http_request_duration_seconds_count", labels) == 3
    assert after[("youasked_http_request_duration_seconds_sum", labels)] > 0
    assert grew("youasked_http_requests_total", missing) == 1
    unmatched = frozenset({"method": "GET", "route": "unmatched", "status": "404"}.items())
    assert grew("youasked_http_requests_total", unmatched) == 1
    assert "t-maps" not in response.text and "no-such-theme" not in response.text  # templates, not paths


def test_api_metrics_need_no_key_and_stay_out_of_the_openapi_document(api: tuple[TestClient, str]) -> None:
    client, _ = api
    assert client.get("/metrics").status_code == 200
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_worker_sensor_counts_records_in_and_out_per_topic() -> None:
    metrics = WorkerMetrics()
    sensor = MetricsSensor(metrics)
    for offset in range(3):
        sensor.on_message_in(SimpleNamespace(topic="feedback.comments", partition=0), offset, None)
    sensor.on_send_completed(None, None, SimpleNamespace(topic="feedback.comments.validated"))
    value = metrics.registry.get_sample_value
    assert value("youasked_messages_in_total", {"topic": "feedback.comments"}) == 3
    assert value("youasked_messages_out_total", {"topic": "feedback.comments.validated"}) == 1
    assert value("youasked_messages_out_total", {"topic": "feedback.comments"}) is None


def test_lag_is_end_minus_committed_and_follows_the_assignment() -> None:
    held = [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    ends = {("a", 0): 10, ("a", 1): 5, ("b", 0): 7}
    committed = {("a", 0): 4, ("a", 1): 9, ("b", 0): -1}
    lag = lag_by_partition(held, end_offsets=ends, committed=committed, log_starts={("b", 0): 2})
    assert lag == {("a", 0): 6, ("a", 1): 0, ("b", 0): 5}  # b[1]: end unknown, left out

    metrics = WorkerMetrics()
    metrics.set_lag(lag)
    value = metrics.registry.get_sample_value
    assert value("youasked_consumer_lag", {"topic": "a", "partition": "0"}) == 6
    metrics.set_lag({("a", 1): 2})  # a rebalance took a[0] and b[0] away
    assert value("youasked_consumer_lag", {"topic": "a", "partition": "0"}) is None
    assert value("youasked_consumer_lag", {"topic": "a", "partition": "1"}) == 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_worker_endpoint_serves_its_registry_and_moves_off_a_taken_port(tmp_path: Path) -> None:
    metrics = WorkerMetrics()
    metrics.dead_letters.labels(stage="ingest-validate", topic="feedback.comments", reason="not_json").inc(2)
    metrics.model_batch_seconds.observe(0.3)
    port = start_metrics_server(metrics.registry, host="127.0.0.1", port=free_port())
    assert port is not None
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        served = samples(response.read().decode())
    assert (
        served[
            (
                "youasked_dead_letters_total",
                frozenset(
                    {"stage": "ingest-validate", "topic": "feedback.comments", "reason": "not_json"}.items()
                ),
            )
        ]
        == 2
    )
    assert served[("youasked_model_batch_seconds_count", frozenset())] == 1
    other = WorkerMetrics()
    other.model_batch_seconds.observe(0.1)
    other.model_batch_seconds.observe(0.2)
    second = start_metrics_server(other.registry, host="127.0.0.1", port=port)  # taken: a free one
    assert second is not None and second != port
    with urllib.request.urlopen(f"http://127.0.0.1:{second}/metrics", timeout=10) as response:
        assert samples(response.read().decode())[("youasked_model_batch_seconds_count", frozenset())] == 2
    assert start_metrics_server(WorkerMetrics().registry, host="127.0.0.1", port=0) is None  # off
