"""End-to-end throughput, latency, memory and start-up of suggestion detection through the real
broker and worker, against the raw encode rate of the same texts.

Replays N app reviews (``../shared/data/streams/*_reviews.csv``) into ``feedback.comments`` and,
in one run on the same texts, measures:

1. the raw encode rate in this process, batch 32, after a warm-up: sentence-transformers on
   PyTorch (the fixed baseline) and the shipped encoder (``models.factories.base_embedder`` with
   the default settings: ONNX Runtime), taking turns on chunks of 250 texts, ``--rounds`` passes;
2. the worker's start-up: from starting ``youasked worker`` (the supervisor and its child) until
   its consumer group is stable with the child a member holding partitions;
3. the maximum end-to-end rate: everything produced at once, until every ``CommentClassified``
   is on ``feedback.comments.classified``; ``speedup_vs_torch`` = that rate / the PyTorch rate,
   ``ratio`` = that rate / the shipped encoder's rate (what the pipeline keeps of its model);
4. p50/p99 latency (produce to classified, per comment) at half of that maximum rate: at once
   after the maximum-rate burst (the worker's later stages still working off its suggestions),
   then again, on other texts, once every stage's consumer lag is 0 (the steady state);
5. the worker's peak RSS: the largest ``VmHWM`` of a process of the worker's tree (the child
   that runs the model), and the peak of the tree's summed ``VmRSS`` sampled every 0.2 s;
6. CPU time per comment (user + system, from /proc) of the worker's tree and of the broker (when
   the run starts its own), in each phase until every stage has caught up, and at rest: a
   figure far steadier than rates on a shared machine, and what decides the latency once the
   cores are full.

Run: .venv/bin/python benchmarks/e2e_classify.py [--n 1500] [--half-seconds 12]
Starts its own broker on free ports (unless YOUASKED_KAFKA_BOOTSTRAP names a cluster) and stops it.
Compare the ratios of one run, not absolute rates across runs, on a shared machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from contracts.settings import Settings
from contracts.topics import COMMENTS, COMMENTS_CLASSIFIED, WORKER_INPUTS
from messaging.admin import ensure_topics
from messaging.lag import wait_for_zero_lag
from models.embedding import FloatMatrix
from models.factories import base_embedder, exported_model_dir
from streams.supervisor import client_id_of
from tests.kafka_support import WorkerProcess, free_port
from youasked import broker
from youasked.interrupts import stopped_like_ctrl_c

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


def raw_rates(texts: list[str], rounds: int, chunk: int = 250) -> tuple[float, float, str]:
    """Texts/s of PyTorch and of the shipped encoder, and the shipped encoder's name.

    The two take turns on chunks of ``chunk`` texts, ``rounds`` times over the texts, and each
    rate is its texts over its summed time: load from other processes falls on both alike.
    """
    from models.embedding import MiniLMEmbedder

    shipped_settings = Settings(embedding_cache_entries=0, cache_dir=ROOT / ".cache")
    shipped = base_embedder(shipped_settings, batch_size=32)
    manifest = getattr(shipped, "manifest", None)
    weights = f", {manifest.weights} weights" if manifest is not None else ""
    name = f"{shipped_settings.embedding_backend} ({type(shipped).__name__}{weights})"
    encoders: dict[str, Callable[[Sequence[str]], FloatMatrix]] = {
        "torch": MiniLMEmbedder(batch_size=32).embed,
        "shipped": shipped.embed,
    }
    spent = dict.fromkeys(encoders, 0.0)
    for embed in encoders.values():
        embed(texts[:64])
    for _ in range(rounds):
        for start in range(0, len(texts), chunk):
            for key, embed in encoders.items():
                began = time.perf_counter()
                embed(texts[start : start + chunk])
                spent[key] += time.perf_counter() - began
    return rounds * len(texts) / spent["torch"], rounds * len(texts) / spent["shipped"], name


def tree_pids(root: int) -> list[int]:
    """``root`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def status_kb(pid: int, field: str) -> int:
    """A ``kB`` field of /proc/<pid>/status (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler(threading.Thread):
    """Samples the summed VmRSS of a process tree every ``interval`` s and each process's VmHWM."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.tree_peak_kb = 0
        self.process_peak_kb: dict[int, int] = {}
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            pids = tree_pids(self.root)
            self.tree_peak_kb = max(self.tree_peak_kb, sum(status_kb(pid, "VmRSS") for pid in pids))
            for pid in pids:
                high = status_kb(pid, "VmHWM")
                self.process_peak_kb[pid] = max(self.process_peak_kb.get(pid, 0), high)
            self.halt.wait(self.interval)

    def stop(self) -> None:
        self.halt.set()
        self.join()


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds of ``pids`` so far (0 for a process that is gone)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class CpuMeter:
    """CPU seconds spent by the worker's tree and the broker between two readings."""

    def __init__(self, worker_root: int, broker_pid: int | None) -> None:
        self.worker_root, self.broker_pid = worker_root, broker_pid
        self.last = self.read()

    def read(self) -> tuple[float, float]:
        broker_cpu = cpu_seconds([self.broker_pid]) if self.broker_pid else 0.0
        return cpu_seconds(tree_pids(self.worker_root)), broker_cpu

    def spent(self) -> tuple[float, float]:
        """(worker, broker) CPU seconds since the last call."""
        now = self.read()
        spent = (now[0] - self.last[0], now[1] - self.last[1])
        self.last = now
        return spent


def wait_joined(settings: Settings, root: int, timeout: float) -> float:
    """Seconds until the worker's group is stable with a process of ``root``'s tree holding partitions."""
    started = time.monotonic()
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="bench-watch")
    try:
        while time.monotonic() - started < timeout:
            ids = {client_id_of(pid) for pid in tree_pids(root)}
            try:
                (group,) = admin.describe_consumer_groups([settings.app_id])
            except (KafkaError, ValueError):
                group = None
            if group is not None and group.state == "Stable":
                for member in group.members:
                    if member.client_id in ids and member.member_assignment is not None \
                            and member.member_assignment.partitions():
                        return time.monotonic() - started
            time.sleep(0.1)
    finally:
        admin.close()
    raise SystemExit(f"the worker did not join its group within {timeout:.0f} s")


def local_broker(tag: str) -> Settings:
    """A broker of this run's own on free ports, state under var/bench-<tag>."""
    return Settings(state_dir=ROOT / "var" / f"bench-{tag}", cache_dir=ROOT / ".cache",
                    kafka_port=free_port(), kafka_controller_port=free_port())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1500)
    parser.add_argument("--half-seconds", type=float, default=12.0)
    parser.add_argument("--worker-cache", type=int, default=0,
                        help="the worker's exact-repeat embedding cache (entries; 0: off, every text is embedded)")
    parser.add_argument("--rounds", type=int, default=1, help="passes of the raw encode over the texts")
    args = parser.parse_args()

    texts = load_texts(args.n)
    print(f"texts: {len(texts)} reviews from {STREAMS}")
    load_start = os.getloadavg()[0]
    torch_rate, shipped_rate, shipped_name = raw_rates(texts, args.rounds)
    print(f"raw encode: torch {torch_rate:.0f}/s, {shipped_name} {shipped_rate:.0f}/s")

    tag = uuid.uuid4().hex[:8]
    base = Settings()
    own = local_broker(tag) if base.uses_local_broker else None
    if own is not None:
        broker.start(own)
    try:
        bootstrap = own.bootstrap_servers if own is not None else base.bootstrap_servers
        settings = Settings(kafka_bootstrap=bootstrap, topic_prefix=f"bench{tag}.",
                            app_id=f"youasked-bench-{tag}", state_dir=ROOT / "var" / f"bench-{tag}",
                            cache_dir=ROOT / ".cache", worker_web_port=free_port(),
                            worker_metrics_port=free_port(), embedding_cache_entries=0)
        ensure_topics(settings)
        exported_model_dir(settings)  # a first export is not start-up
        broker_pid = broker.read_pid(own) if own is not None else None
        results = run_worker(settings, texts, tag, args.half_seconds, args.worker_cache, broker_pid)
    finally:
        if own is not None:
            broker.stop(own)
    results["load_start"] = load_start
    report(args, texts, torch_rate, shipped_rate, shipped_name, results)


def run_worker(settings: Settings, texts: list[str], tag: str, half_seconds: float,
               cache_entries: int, broker_pid: int | None) -> dict[str, float]:
    env = {"YOUASKED_EMBEDDING_CACHE_ENTRIES": str(cache_entries)}
    worker = WorkerProcess(settings, settings.state_dir / "worker.log", env=env)
    worker.start()
    assert worker.process is not None
    sampler = MemorySampler(worker.process.pid)
    sampler.start()
    cpu: dict[str, float] = {}
    try:
        joined_s = wait_joined(settings, worker.process.pid, timeout=300)
        collector = Collector(settings)
        warm = [comment(f"warm{tag}", i, t) for i, t in enumerate(texts[:100])]
        produce(settings, warm, None)
        got = collector.collect({k for k, _ in warm}, timeout=240)
        if len(got) < len(warm):
            raise SystemExit(f"worker did not warm up ({len(got)}/{len(warm)}):\n{worker.log_tail()}")

        inputs = [settings.topic_name(t) for t in WORKER_INPUTS]
        wait_for_zero_lag(settings, inputs, timeout=300)
        meter = CpuMeter(worker.process.pid, broker_pid)
        time.sleep(10)
        rest = meter.spent()
        cpu["worker_rest_cores"], cpu["broker_rest_cores"] = rest[0] / 10, rest[1] / 10

        records = [comment(f"max{tag}", i, t) for i, t in enumerate(texts)]
        sent = produce(settings, records, None)
        arrived = collector.collect(set(sent), timeout=600)
        if len(arrived) < len(sent):
            raise SystemExit(f"only {len(arrived)}/{len(sent)} classified:\n{worker.log_tail()}")
        first, last = min(sent.values()), max(arrived.values())
        e2e_rate = len(arrived) / ((last - first) / 1000)
        load_max = os.getloadavg()[0]

        half = e2e_rate / 2
        count = min(len(texts), int(half * half_seconds))

        def paced_latencies(run: str, chosen: list[str]) -> tuple[np.ndarray, int]:
            paced = [comment(run, i, t) for i, t in enumerate(chosen)]
            sent_half = produce(settings, paced, half)
            arrived_half = collector.collect(set(sent_half), timeout=300)
            in_order = [k for k, _ in paced if k in arrived_half]  # in the order they were sent
            return np.array([arrived_half[k] - sent_half[k] for k in in_order]) / 1000, len(sent_half)

        # at once after the burst, while the later stages still work off its suggestions and praise
        latencies, sent_count = paced_latencies(f"half{tag}", texts[:count])
        load_half = os.getloadavg()[0]
        # again once every stage of the worker has caught up: the steady state at half the rate
        caught_up = not any(wait_for_zero_lag(settings, inputs, timeout=300).values())
        spent = meter.spent()  # the burst and the first half-rate phase, until every stage caught up
        cpu["worker_ms_burst"], cpu["broker_ms_burst"] = (1000 * x / (len(records) + sent_count) for x in spent)
        settled, settled_count = paced_latencies(f"settled{tag}", texts[-count:])
        wait_for_zero_lag(settings, inputs, timeout=300)
        spent = meter.spent()
        cpu["worker_ms_settled"], cpu["broker_ms_settled"] = (1000 * x / settled_count for x in spent)
    finally:
        sampler.stop()
        worker.stop()
    return {
        "joined_s": joined_s, "e2e_rate": e2e_rate, "classified": len(arrived), "half": half,
        "half_count": len(latencies), "half_sent": sent_count,
        "p50": float(np.percentile(latencies, 50)), "p99": float(np.percentile(latencies, 99)),
        **{f"p50_q{i + 1}": float(np.percentile(part, 50)) for i, part in enumerate(np.array_split(latencies, 4))},
        "settled_caught_up": float(caught_up), "settled_count": len(settled), "settled_sent": settled_count,
        "settled_p50": float(np.percentile(settled, 50)), "settled_p99": float(np.percentile(settled, 99)),
        "worker_peak_mb": max(sampler.process_peak_kb.values()) / 1024,
        "tree_peak_mb": sampler.tree_peak_kb / 1024, "load_max": load_max, "load_half": load_half,
        **cpu,
    }


def report(args: argparse.Namespace, texts: list[str], torch_rate: float, shipped_rate: float,
           shipped_name: str, r: dict[str, float]) -> None:
    print()
    print(f"| measure ({len(texts)} app reviews, one run) | value |")
    print("| --- | --- |")
    print(f"| raw encode, sentence-transformers on PyTorch, batch 32 (baseline) | {torch_rate:.0f} texts/s |")
    print(f"| raw encode, shipped encoder: {shipped_name}, batch 32 | {shipped_rate:.0f} texts/s "
          f"({shipped_rate / torch_rate:.2f}x PyTorch) |")
    print(f"| end-to-end rate, produce to classified, {r['classified']:.0f} comments | {r['e2e_rate']:.0f} comments/s |")
    print(f"| speedup_vs_torch = end-to-end / raw PyTorch | {r['e2e_rate'] / torch_rate:.2f} |")
    print(f"| ratio = end-to-end / raw shipped encoder | {r['e2e_rate'] / shipped_rate:.2f} |")
    print(f"| latency at half rate ({r['half']:.0f}/s, {r['half_count']:.0f}/{r['half_sent']:.0f} comments) p50 "
          f"| {r['p50']:.3f} s |")
    print(f"| latency at half rate p99 | {r['p99']:.3f} s |")
    quarters = ", ".join(f"{r[f'p50_q{i}']:.3f}" for i in range(1, 5))
    print(f"| latency at half rate p50 by quarter of the sending (drift = a backlog) | {quarters} s |")
    caught = "" if r["settled_caught_up"] else " (the worker had NOT caught up after 300 s)"
    print(f"| latency at half rate once every stage caught up ({r['settled_count']:.0f}/{r['settled_sent']:.0f} "
          f"comments){caught}: p50 / p99 | {r['settled_p50']:.3f} / {r['settled_p99']:.3f} s |")
    print(f"| worker peak RSS (largest VmHWM in the worker's process tree) | {r['worker_peak_mb']:.0f} MB |")
    print(f"| worker tree peak RSS (supervisor + worker, sampled) | {r['tree_peak_mb']:.0f} MB |")
    print(f"| worker start to joined group (stable, partitions assigned) | {r['joined_s']:.1f} s |")
    print(f"| CPU per comment (user + system), worker tree / broker: the burst and the first half-rate "
          f"phase until caught up | {r['worker_ms_burst']:.1f} / {r['broker_ms_burst']:.1f} ms |")
    print(f"| CPU per comment, worker tree / broker: the half-rate phase once caught up | "
          f"{r['worker_ms_settled']:.1f} / {r['broker_ms_settled']:.1f} ms |")
    print(f"| CPU at rest (10 s after the warm-up, every stage caught up), worker tree / broker | "
          f"{r['worker_rest_cores']:.3f} / {r['broker_rest_cores']:.3f} cores |")
    print(f"| load average (1 min): at the start, after the maximum rate, after half rate (2 cores) "
          f"| {r['load_start']:.1f}, {r['load_max']:.1f}, {r['load_half']:.1f} |")
    print(json.dumps({"torch_rate": round(torch_rate, 1), "shipped_rate": round(shipped_rate, 1),
                      "speedup_vs_torch": round(r["e2e_rate"] / torch_rate, 3),
                      "ratio": round(r["e2e_rate"] / shipped_rate, 3),
                      **{k: round(v, 3) for k, v in r.items()}}))


if __name__ == "__main__":
    with stopped_like_ctrl_c():
        main()
