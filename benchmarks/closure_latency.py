"""Closure latency: from a "shipped" command produced to its closure event consumed.

Builds many themes from synthetic suggestions (distinct directions in the embedding space,
several people each), then ships them one at a time through the real broker and worker and
times each from the command's send to the closure's arrival at a consumer. Side by side in
the same run:

1. broker round trip: a record produced and consumed on a plain topic (the floor);
2. a ``set_cost`` command to its outcome (the agent's path without a closure);
3. ``set_status shipped`` to its closure (what the target is about: p99 under 1 s).

Run: .venv/bin/python benchmarks/closure_latency.py [--themes 100]
Needs the local broker (started here if no YOUASKED_KAFKA_BOOTSTRAP is set).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from benchmarks.close_the_loop import replay_settings
from contracts.events import AskSpan, CommentAccepted, SourceRef, SuggestionDetected, event_json
from contracts.lifecycle import ThemeCommand, new_command_id
from contracts.settings import Settings
from contracts.topics import (
    CLOSURES,
    SUGGESTIONS,
    THEME_COMMANDS,
    THEME_OUTCOMES,
    THEMES,
    TopicSpec,
)
from messaging.admin import ensure_topics
from tests.kafka_support import WorkerProcess
from youasked.interrupts import stopped_like_ctrl_c

PRODUCT = "bench"
PROBE = TopicSpec(name="bench.probe", key="any", payload=None, description="Broker round trips.", public=False)
T0 = datetime(2026, 10, 1, tzinfo=UTC)


def suggestions(themes: int, per_theme: int, seed: int = 7) -> list[tuple[bytes, bytes]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(themes, 384))
    records = []
    for index in range(themes * per_theme):
        cluster = index % themes
        vector = centres[cluster] + rng.normal(scale=0.3, size=384)
        vector /= np.linalg.norm(vector)
        at = T0 + timedelta(minutes=index)
        comment = CommentAccepted(
            comment_id=f"c{index}", platform="x", product=PRODUCT, author_id=f"u{index % (themes * 3)}",
            author_handle=f"@u{index % (themes * 3)}", text=f"idea {cluster} asked again {index}",
            created_at=at, url=f"https://x.com/u/status/{index}", key=f"x:c{index}", received_at=at,
            source=SourceRef(topic="feedback.comments", partition=0, offset=index),
        )
        ask = AskSpan(text=comment.text, start=0, end=len(comment.text))
        event = SuggestionDetected(suggestion_id=f"{comment.key}#1", comment=comment, ask=ask, score=0.9,
                                   embedding=[float(x) for x in vector], embedding_model="bench", detected_at=at)
        records.append((PRODUCT.encode(), event_json(event)))
    return records


class Tail:
    """A consumer at the end of one topic: arrival times of records by key."""

    def __init__(self, settings: Settings, spec: TopicSpec) -> None:
        topic = settings.topic_name(spec)
        self.consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None,
                                      enable_auto_commit=False)
        parts: set[int] = set()
        deadline = time.monotonic() + 30
        while not parts and time.monotonic() < deadline:
            parts = self.consumer.partitions_for_topic(topic) or set()
            if not parts:
                self.consumer.topics()
                time.sleep(0.2)
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        self.consumer.assign(tps)
        for tp, end in self.consumer.end_offsets(tps).items():  # explicit: seek_to_end + position can hang
            self.consumer.seek(tp, end)
        self.values: dict[bytes, bytes] = {}

    def wait(self, key: bytes, timeout: float = 30.0) -> float | None:
        """``time.perf_counter()`` when ``key`` arrived (None after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for items in self.consumer.poll(timeout_ms=20).values():
                for record in items:
                    if record.key is not None:
                        self.values[record.key] = record.value
            if key in self.values:
                return time.perf_counter()
        return None


def latest_themes(settings: Settings, expect: int, timeout: float) -> dict[str, dict[str, object]]:
    from messaging.readback import read_topic

    deadline = time.monotonic() + timeout
    while True:
        out: dict[str, dict[str, object]] = {}
        for record in read_topic(settings, THEMES, timeout=20, settle=3):
            value = json.loads(record.value)
            out[value["theme_id"]] = value
        live = {k: v for k, v in out.items() if v["status"] == "active"}
        if len(live) >= expect or time.monotonic() > deadline:
            return live


def command(kind: str, theme_id: str, **fields: object) -> ThemeCommand:
    return ThemeCommand.model_validate({
        "command_id": new_command_id("cmd"), "product": PRODUCT, "theme_id": theme_id, "kind": kind,
        "actor": "bench", "issued_at": datetime.now(UTC).isoformat(), **fields,
    })


def percentiles(values: list[float]) -> str:
    array = np.array(values) * 1000
    return (f"{len(values)} | {np.percentile(array, 50):.1f} ms | {np.percentile(array, 99):.1f} ms | "
            f"{array.max():.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--themes", type=int, default=100)
    parser.add_argument("--per-theme", type=int, default=8)
    args = parser.parse_args()

    settings = replay_settings("bench", tick_s=1.0, idle_recluster_s=2.0)
    ensure_topics(settings, (PROBE,))
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=0)
    for key, value in suggestions(args.themes, args.per_theme):
        producer.send(settings.topic_name(SUGGESTIONS), key=key, value=value)
    producer.flush()
    worker = WorkerProcess(settings, settings.state_dir / "worker.log").start()
    try:
        live = latest_themes(settings, int(args.themes * 0.9), timeout=600)
        theme_ids = sorted(live)
        print(f"themes: {len(theme_ids)} live themes of {args.themes * args.per_theme} suggestions")
        if len(theme_ids) < 10:
            raise SystemExit(f"too few themes:\n{worker.log_tail()}")
        outcomes, closures, probes = Tail(settings, THEME_OUTCOMES), Tail(settings, CLOSURES), Tail(settings, PROBE)
        commands_topic = settings.topic_name(THEME_COMMANDS)

        round_trip: list[float] = []
        for index in range(len(theme_ids)):
            key = f"probe-{index}".encode()
            start = time.perf_counter()
            producer.send(settings.topic_name(PROBE), key=key, value=b"{}").get(10)
            arrived = probes.wait(key)
            if arrived is not None:
                round_trip.append(arrived - start)

        def timed(cmd: ThemeCommand, tail: Tail, key: str) -> float | None:
            start = time.perf_counter()
            producer.send(commands_topic, key=PRODUCT.encode(), value=event_json(cmd)).get(10)
            arrived = tail.wait(key.encode())
            return None if arrived is None else arrived - start

        cost_latency = []
        for tid in theme_ids:
            cmd = command("set_cost", tid, cost={"size": "S"})
            took = timed(cmd, outcomes, cmd.command_id)
            if took is not None:
                cost_latency.append(took)
        ship_latency = []
        for index, tid in enumerate(theme_ids):
            release = {"name": "Bench", "version": f"1.{index}", "note": "It is here."}
            cmd = command("set_status", tid, status="shipped", release=release)
            took = timed(cmd, closures, f"closure:{tid}:1.{index}")
            if took is not None:
                ship_latency.append(took)
        people = [json.loads(v)["people_count"] for k, v in closures.values.items() if k.startswith(b"closure:")]
    finally:
        worker.stop()
        producer.close()

    print()
    print("| path | n | p50 | p99 | max |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| broker round trip (produce to consume, plain record) | {percentiles(round_trip)} |")
    print(f"| set_cost command to its outcome | {percentiles(cost_latency)} |")
    print(f"| set_status shipped to its closure (target p99 < 1 s) | {percentiles(ship_latency)} |")
    print(f"\nclosures: {len(people)}, people per closure: median {np.median(people):.0f}, max {max(people)}")
    if len(ship_latency) < len(theme_ids):
        print(f"missing closures: {len(theme_ids) - len(ship_latency)}")


if __name__ == "__main__":
    with stopped_like_ctrl_c():
        main()
