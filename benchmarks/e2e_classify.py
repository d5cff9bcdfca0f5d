"""End-to-end throughput and latency of suggestion detection through the real broker and worker.

Replays N review texts from ../shared/data/streams/ into feedback.comments and measures, from
produce to the CommentClassified record:

1. the raw model rate in this process (encode, batch 32, same texts) as the baseline;
2. the maximum end-to-end rate (everything produced at once);
3. p50/p99 latency at half of that maximum rate.

Run: .venv/bin/python benchmarks/e2e_classify.py [--n 3000]
Needs the local broker (started here if no YOUASKED_KAFKA_BOOTSTRAP is set).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from contracts.settings import Settings
from contracts.topics import COMMENTS, COMMENTS_CLASSIFIED
from messaging.admin import ensure_topics
from tests.kafka_support import WorkerProcess, free_port
from youasked import broker

STREAMS = ROOT.parent / "shared" / "data" / "streams"


def load_texts(n: int) -> list[str]:
    texts: list[str] = []
    files = sorted(STREAMS.glob("*_reviews.csv"))
    readers = [csv.DictReader(path.open(encoding="utf-8")) for path in files]
    while len(texts) < n and readers:
        for reader in list(readers):
            row = next(reader, None)
            if row is None:
                readers.remove(reader)
                continue
            text = (row.get("content") or "").strip()
            if text:
                texts.append(text)
    return texts[:n]


def comment(run: str, index: int, text: str) -> tuple[bytes, bytes]:
    payload = {"comment_id": f"{run}-{index}", "platform": "app_store", "product": "bench",
               "author_id": f"a{index}", "text": text, "created_at": "2026-01-01T00:00:00+00:00"}
    return f"app_store:{run}-{index}".encode(), json.dumps(payload).encode()


class Collector:
    def __init__(self, settings: Settings) -> None:
        topic = settings.topic_name(COMMENTS_CLASSIFIED)
        self.consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None,
                                      enable_auto_commit=False)
        parts: set[int] = set()
        deadline = time.monotonic() + 30
        while not parts and time.monotonic() < deadline:  # metadata of a just-created topic
            parts = self.consumer.partitions_for_topic(topic) or set()
            if not parts:
                self.consumer.topics()
                time.sleep(0.2)
        if not parts:
            raise SystemExit(f"no metadata for {topic}")
        tps = [TopicPartition(topic, p) for p in parts]
        self.consumer.assign(tps)
        for tp, end in self.consumer.end_offsets(tps).items():  # explicit: seek_to_end + position can hang
            self.consumer.seek(tp, end)

    def collect(self, keys: set[bytes], timeout: float) -> dict[bytes, float]:
        """Arrival time (ms, the classified record's timestamp) per key."""
        seen: dict[bytes, float] = {}
        deadline = time.monotonic() + timeout
        while len(seen) < len(keys) and time.monotonic() < deadline:
            for items in self.consumer.poll(timeout_ms=200).values():
                for record in items:
                    if record.key in keys:
                        seen[record.key] = float(record.timestamp)
        return seen


def produce(settings: Settings, records: list[tuple[bytes, bytes]], rate: float | None) -> dict[bytes, float]:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks=1, linger_ms=2)
    sent: dict[bytes, float] = {}
    start = time.monotonic()
    for index, (key, value) in enumerate(records):
        if rate:
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        sent[key] = time.time() * 1000
        producer.send(settings.topic_name(COMMENTS), key=key, value=value)
    producer.flush()
    producer.close()
    return sent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--half-seconds", type=float, default=20.0)
    args = parser.parse_args()

    texts = load_texts(args.n)
    print(f"texts: {len(texts)} reviews from {STREAMS}")

    from models.embedding import MiniLMEmbedder

    model = MiniLMEmbedder(batch_size=32)
    model.embed(texts[:64])
    started = time.perf_counter()
    model.embed(texts)
    raw_rate = len(texts) / (time.perf_counter() - started)
    del model

    base = Settings()
    if base.uses_local_broker:
        broker.start(base)
    tag = uuid.uuid4().hex[:8]
    settings = Settings(kafka_bootstrap=base.bootstrap_servers, topic_prefix=f"bench{tag}.",
                        app_id=f"youasked-bench-{tag}", state_dir=ROOT / "var" / f"bench-{tag}",
                        worker_web_port=free_port(), embedding_cache_entries=0)
    ensure_topics(settings)
    worker = WorkerProcess(settings, settings.state_dir / "worker.log").start()
    try:
        collector = Collector(settings)
        warm = [comment(f"warm{tag}", i, t) for i, t in enumerate(texts[:100])]
        produce(settings, warm, None)
        got = collector.collect({k for k, _ in warm}, timeout=240)
        if len(got) < len(warm):
            raise SystemExit(f"worker did not warm up ({len(got)}/{len(warm)}):\n{worker.log_tail()}")

        records = [comment(f"max{tag}", i, t) for i, t in enumerate(texts)]
        sent = produce(settings, records, None)
        arrived = collector.collect(set(sent), timeout=600)
        first, last = min(sent.values()), max(arrived.values())
        e2e_rate = len(arrived) / ((last - first) / 1000)

        half = e2e_rate / 2
        count = min(len(texts), int(half * args.half_seconds))
        paced = [comment(f"half{tag}", i, t) for i, t in enumerate(texts[:count])]
        sent_half = produce(settings, paced, half)
        arrived_half = collector.collect(set(sent_half), timeout=300)
        latencies = np.array([arrived_half[k] - sent_half[k] for k in arrived_half]) / 1000
    finally:
        worker.stop()

    print()
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| raw model rate, encode(batch_size=32), this process | {raw_rate:.0f} texts/s |")
    print(f"| end-to-end rate, produce to classified, {len(arrived)} comments | {e2e_rate:.0f} comments/s |")
    print(f"| ratio end-to-end / raw | {e2e_rate / raw_rate:.2f} |")
    print(f"| latency at half rate ({half:.0f}/s, {len(latencies)} comments) p50 | {np.percentile(latencies, 50):.3f} s |")
    print(f"| latency at half rate p99 | {np.percentile(latencies, 99):.3f} s |")


if __name__ == "__main__":
    main()
