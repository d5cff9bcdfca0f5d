"""The API's edges under hostile requests: bodies bounded before they are read, the key checked
before a body is parsed, one error shape for every failure, signed ingest that never answers 500,
sends to a slow or absent broker answered 503 within the send timeout, and readiness that waits
for the search model and says when the projection set records aside."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

import api.app
from api.app import create_api
from api.ingest import sign
from api.publisher import BrokerUnavailableError, RecordTooLargeError, producer_config
from api.readmodel.db import make_engine, upgrade
from api.readmodel.projector import apply_batch
from api.security import Role, create_key
from contracts.settings import Settings
from tests.readmodel_support import MemoryPublisher, WordHashEmbedder, sample_records

SECRET = "s3cret"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    made = make_engine(f"sqlite:///{tmp_path_factory.mktemp('edges') / 'rm.db'}")
    upgrade(made)
    apply_batch(made, list(sample_records()))
    return made


@pytest.fixture(scope="module")
def keys(engine: Engine) -> dict[str, str]:
    return {role.name: create_key(engine, name=f"{role.name}-edge", role=role) for role in Role}


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "kafka_bootstrap": "127.0.0.1:1",
        "state_dir": tmp_path,
        "ingest_secret": SECRET,
    }
    values.update(overrides)
    return Settings(**values)


def edge_app(engine: Engine, tmp_path: Path, publisher: Any = None, **overrides: Any) -> FastAPI:
    return create_api(
        settings_for(tmp_path, **overrides),
        engine=engine,
        project=False,
        publisher=publisher or MemoryPublisher(),
        embedder=WordHashEmbedder,
    )


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(edge_app(engine, tmp_path), raise_server_exceptions=False) as test_client:
        yield test_client


def is_error(response: Any, status: int, code: str | None = None) -> bool:
    body = response.json()
    shaped = set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return response.status_code == status and shaped and (code is None or body["error"]["code"] == code)


# --- bodies: bounded before they are read, the key checked before they are parsed ---------------


class Upload:
    """An ASGI request body sent in chunks, counting how much of it the app read."""

    def __init__(self, *, chunk: int, chunks: int) -> None:
        self.chunk, self.left, self.read = chunk, chunks, 0

    async def receive(self) -> dict[str, Any]:
        if self.left == 0:
            return {"type": "http.disconnect"}
        self.left -= 1
        self.read += self.chunk
        return {"type": "http.request", "body": b"x" * self.chunk, "more_body": self.left > 0}


def call(app: FastAPI, path: str, upload: Upload, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """One POST straight through the ASGI interface (no test client buffering the body)."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, upload.receive, send))  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(start["status"]), json.loads(body)


def test_a_huge_body_with_no_key_is_refused_without_being_read(engine: Engine, tmp_path: Path) -> None:
    app = edge_app(engine, tmp_path)
    declared = Upload(chunk=1 << 20, chunks=300)
    status, body = call(app, "/keys", declared, {"content-length": str(300 << 20)})
    assert status in (401, 413) and set(body) == {"error"}, body
    assert declared.read <= 1 << 20, declared.read
    chunked = Upload(chunk=64 << 10, chunks=300 * 16)  # no Content-Length: counted as it arrives
    status, body = call(app, "/keys", chunked, {"transfer-encoding": "chunked"})
    assert status in (401, 413) and set(body) == {"error"}, body
    assert chunked.read <= (256 << 10) + (64 << 10), chunked.read


def test_a_body_over_the_limit_is_refused_by_its_length_and_by_what_was_read(
    engine: Engine, tmp_path: Path, keys: dict[str, str]
) -> None:
    app = edge_app(engine, tmp_path, api_max_body_bytes=4096)
    admin = {"x-api-key": keys["admin"], "content-type": "application/json"}
    declared = Upload(chunk=8192, chunks=1)
    status, body = call(app, "/keys", declared, {**admin, "content-length": "8192"})
    assert status == 413 and body["error"]["code"] == "too_large" and declared.read == 0
    streamed = Upload(chunk=1024, chunks=64)  # the length is not told: refused once 4 KiB are read
    status, body = call(app, "/keys", streamed, {**admin, "transfer-encoding": "chunked"})
    assert status == 413 and body["error"]["code"] == "too_large", body
    assert streamed.read <= 4096 + 1024


def test_the_key_is_checked_before_the_body_is_parsed(client: TestClient, keys: dict[str, str]) -> None:
    malformed = b'{"name": "x", "role": '
    json_type = {"Content-Type": "application/json"}
    assert is_error(client.post("/keys", content=malformed, headers=json_type), 401, "unauthorized")
    viewer = {**json_type, "X-API-Key": keys["viewer"]}
    assert is_error(client.post("/keys", content=malformed, headers=viewer), 403, "forbidden")
    pm = {**json_type, "X-API-Key": keys["pm"]}
    assert is_error(client.post("/themes/t-maps/cost", content=malformed, headers=pm), 422)
    wrong = [(b"content-type", b"application/json"), (b"x-api-key", "ya_\u00e9\u00b2_s".encode("latin-1"))]
    answer = client.post("/keys", content=malformed, headers=wrong)  # type: ignore[arg-type]
    assert is_error(answer, 401, "unauthorized")


def test_an_unhandled_exception_answers_500_in_the_error_shape(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = edge_app(engine, tmp_path)

    def explode() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/explode", explode)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        assert is_error(test_client.get("/explode"), 500, "internal_error")
    assert any(record.exc_info and "a bug" in str(record.exc_info[1]) for record in caplog.records)


# --- signed ingest: a clear 4xx, never a 500 --------------------------------------------------


def signed(body: bytes, stamp: str | None = None) -> dict[str, str]:
    stamp = stamp or str(int(time.time()))
    return {
        "X-Youasked-Timestamp": stamp,
        "X-Youasked-Signature": sign(SECRET, body, stamp),
        "Content-Type": "application/json",
    }


def test_hostile_ingest_timestamps_and_signatures_are_refused_as_401(client: TestClient) -> None:
    body = b'{"comment_id": "c1"}'
    for stamp in ("9" * 5000, "\u00b2" * 10, "1" * 40, "-1", " 12"):
        headers = {**signed(body), "X-Youasked-Timestamp": stamp}
        raw = [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()]
        answer = client.post("/ingest", content=body, headers=raw)  # type: ignore[arg-type]
        assert is_error(answer, 401, "bad_signature"), (stamp[:12], answer.text)
    latin = [(b"x-youasked-signature", "sha256=\u00e9".encode("latin-1")), *signed_raw(body, skip="sig")]
    assert is_error(client.post("/ingest", content=body, headers=latin), 401)  # type: ignore[arg-type]


def signed_raw(body: bytes, *, skip: str) -> list[tuple[bytes, bytes]]:
    return [
        (k.lower().encode(), v.encode())
        for k, v in signed(body).items()
        if not (skip == "sig" and k == "X-Youasked-Signature")
    ]


def test_hostile_signed_ingest_bodies_get_a_clear_answer(engine: Engine, tmp_path: Path) -> None:
    publisher = SizeLimitedPublisher(limit=1_048_588)
    app = edge_app(engine, tmp_path, publisher=publisher, ingest_max_bytes=1 << 20)
    deep = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    surrogate = b'{"comment_id": "c1", "text": "\\ud800 lone"}'
    item = b'{"comment_id":"c2","n":1e9,"m":0,"text":"%s"}'
    compact = b"[" + item % (b"a" * (1_048_588 - 100 - len(item) + 2)) + b"]"  # fits; with spaces, not
    whole = b'{"text":"' + b"a" * ((1 << 20) - 11) + b'"}'
    with TestClient(app, raise_server_exceptions=False) as test_client:
        assert is_error(test_client.post("/ingest", content=deep, headers=signed(deep)), 400)
        accepted = test_client.post("/ingest", content=surrogate, headers=signed(surrogate))
        assert accepted.status_code == 202, accepted.text
        grown = test_client.post("/ingest", content=compact, headers=signed(compact))
        assert grown.status_code == 202, grown.text  # each comment goes on as sent, not re-encoded
        too_big = test_client.post("/ingest", content=whole, headers=signed(whole))
        assert len(whole) == 1 << 20 and is_error(too_big, 413, "too_large"), too_big.text
    assert [value for _, _, value in publisher.sent] == [surrogate, compact[1:-1]]


def test_an_ingested_array_is_split_into_each_comment_as_sent(client: TestClient) -> None:
    body = b' [ {"comment_id": "a", "text": "\\u00e9t\\u00e9"} ,\n{"comment_id":"b","n":1E5} ] '
    answer = client.post("/ingest", content=body, headers=signed(body))
    assert answer.status_code == 202 and answer.json() == {"accepted": 2}
    for broken in (b"[", b"[{}", b'[{"a": 1},]', b"[] []", b'{"a": 1} {}', b"[]", b"\xff"):
        assert is_error(client.post("/ingest", content=broken, headers=signed(broken)), 400), broken


class SizeLimitedPublisher(MemoryPublisher):
    """Refuses a record over the producer's limit, as the Kafka producer does."""

    def __init__(self, *, limit: int) -> None:
        super().__init__()
        self.limit = limit

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        if len(key) + len(value) + 70 > self.limit:
            raise RecordTooLargeError(f"the record is {len(value)} bytes")
        await super().send(topic, key, value)


# --- the broker: 503 within the send timeout, whatever it does -------------------------------


class HangingPublisher(MemoryPublisher):
    """A broker that never acknowledges (a topic nobody created, a broker gone quiet)."""

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        await asyncio.Event().wait()


class FailingPublisher(MemoryPublisher):
    """A broker that refuses every send; its first start fails."""

    def __init__(self) -> None:
        super().__init__()
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        if self.starts == 1:
            raise BrokerUnavailableError("no broker yet")

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        raise BrokerUnavailableError("node not ready")


@pytest.mark.timeout(60)
def test_a_send_the_broker_never_acknowledges_answers_503_within_the_timeout(
    engine: Engine, tmp_path: Path, keys: dict[str, str]
) -> None:
    app = edge_app(engine, tmp_path, publisher=HangingPublisher(), api_send_timeout_s=0.5)
    pm = {"X-API-Key": keys["pm"]}
    with TestClient(app, raise_server_exceptions=False) as test_client:
        started = time.monotonic()
        answer = test_client.post("/themes/t-maps/cost", json={"cost": {"size": "S"}}, headers=pm)
        assert is_error(answer, 503, "broker_unavailable") and time.monotonic() - started < 3, answer.text
        body = b'{"comment_id": "c1"}'
        assert is_error(test_client.post("/ingest", content=body, headers=signed(body)), 503)


def test_a_broker_refusing_sends_answers_503_and_a_failed_start_is_retried(
    engine: Engine, tmp_path: Path, keys: dict[str, str]
) -> None:
    publisher = FailingPublisher()
    app = edge_app(engine, tmp_path, publisher=publisher)
    admin = {"X-API-Key": keys["admin"]}
    with TestClient(app, raise_server_exceptions=False) as test_client:
        deadline = time.monotonic() + 10
        while publisher.starts < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert publisher.starts == 2
        erasure = {"author_id": "someone", "platform": "x", "reason": ""}
        answer = test_client.post("/erasures", json=erasure, headers=admin)
        assert is_error(answer, 503, "broker_unavailable"), answer.text


def test_the_producer_is_idempotent_and_bounded_by_the_message_limit(tmp_path: Path) -> None:
    config = producer_config(settings_for(tmp_path, kafka_message_max_bytes=2_000_000))
    assert config["acks"] == "all" and config["enable_idempotence"] is True
    assert config["max_request_size"] == 2_000_000


# --- readiness: the search model, records set aside --------------------------------------------


class SlowModel:
    """A model factory that takes as long as the test says."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.loads = 0

    def __call__(self) -> WordHashEmbedder:
        self.loads += 1
        self.release.wait(30)
        return WordHashEmbedder()


def test_the_model_loads_at_start_and_ready_waits_for_it(engine: Engine, tmp_path: Path) -> None:
    model = SlowModel()
    app = create_api(
        settings_for(tmp_path),
        engine=engine,
        project=False,
        publisher=MemoryPublisher(),
        embedder=model,
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        waiting = test_client.get("/ready")
        assert waiting.status_code == 503 and waiting.json()["model"] is False, waiting.text
        model.release.set()
        deadline = time.monotonic() + 10
        while test_client.get("/ready").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        ready = test_client.get("/ready").json()
        assert ready["status"] == "ok" and ready["model"] is True, ready
    assert model.loads == 1  # loaded at start, with no search asked for


class StuckProjection:
    """A projection that runs without a broker and has set two records aside."""

    consuming = True

    def __init__(self, *_args: Any) -> None:
        self.applied, self.set_aside = 5, 2

    async def run(self) -> None:
        await asyncio.Event().wait()

    def stop(self) -> None:
        pass


def ready_once_the_model_is_loaded(
    projection: type, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """``/ready`` of an API running ``projection``, once its search model has loaded."""
    monkeypatch.setattr(api.app, "Projection", projection)
    app = create_api(
        settings_for(tmp_path), engine=engine, publisher=MemoryPublisher(), embedder=WordHashEmbedder
    )
    with TestClient(app) as test_client:
        deadline = time.monotonic() + 10
        while test_client.get("/ready").json().get("model") is not True and time.monotonic() < deadline:
            time.sleep(0.05)
        return test_client.get("/ready")


def test_ready_says_degraded_while_records_are_set_aside(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = ready_once_the_model_is_loaded(StuckProjection, engine, tmp_path, monkeypatch)
    assert ready.status_code == 200 and ready.json()["status"] == "degraded", ready.text
    assert ready.json()["set_aside"] == 2 and ready.json()["projected_records"] == 5


class DisconnectedProjection(StuckProjection):
    """A projection whose consumer is down (a broker that went away): nothing set aside."""

    consuming = False

    def __init__(self, *_args: Any) -> None:
        self.applied, self.set_aside = 5, 0


def test_ready_says_degraded_while_the_projection_is_not_consuming(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = ready_once_the_model_is_loaded(DisconnectedProjection, engine, tmp_path, monkeypatch)
    assert ready.status_code == 200 and ready.json()["status"] == "degraded", ready.text
    assert ready.json()["projecting"] is False and ready.json()["set_aside"] == 0
