"""End-to-end rate with several workers on a local three-node cluster, beside one broker and one
worker in the same run.

For each layout (1 broker + 1 worker, then 3 brokers + 1, 2 and 4 workers by default) it starts
the local cluster (``youasked.broker``, free ports, its own state folder), creates the topics
(4 partitions; 3 replicas and ``min.insync.replicas`` 2 on three nodes), starts the workers
(``youasked worker``, each its own process tree), warms them up with a few comments, then
produces N app reviews of six products at once and waits until every ``CommentClassified`` is
on ``feedback.comments.classified``. It prints comments/s, the CPU time the worker and broker
processes used while measuring, and the rate per busy core (comments per CPU-second of workers
and brokers together).

Run: nice -n 10 .venv/bin/python benchmarks/scale_out.py [--n 3000] [--layouts 1x1,3x1,3x2,3x4]
On a machine with fewer cores than workers the rate cannot grow; compare the rate per busy core.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.e2e_classify import Collector, load_texts
from contracts.settings import Settings
from contracts.topics import COMMENTS
from messaging.admin import ensure_topics
from tests.kafka_support import WorkerProcess, free_port, produce
from youasked import broker
from youasked.interrupts import stopped_like_ctrl_c

PRODUCTS = ("teams", "chrome", "testflight", "github", "trailmate", "notely")
TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of ``root`` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(entry.name), int(fields[1])
        children.setdefault(parent, []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


def comment(run: str, index: int, text: str) -> tuple[bytes, bytes]:
    import json

    product = PRODUCTS[index % len(PRODUCTS)]
    payload = {"comment_id": f"{run}-{index}", "platform": "app_store", "product": product,
               "author_id": f"a{index}", "text": text, "created_at": "2026-01-01T00:00:00+00:00"}
    return f"app_store:{run}-{index}".encode(), json.dumps(payload).encode()


def measure(brokers: int, workers: int, texts: list[str], state: Path) -> dict[str, float]:
    step = 10
    base = Settings(state_dir=state / f"{brokers}x{workers}", cache_dir=ROOT / ".cache",
                    kafka_brokers=brokers, kafka_node_port_step=step,
                    kafka_port=free_port(), kafka_controller_port=free_port(),
                    topic_prefix=f"scale{brokers}x{workers}.", app_id=f"youasked-scale-{brokers}x{workers}",
                    embedding_cache_entries=0)
    broker.start(base)
    processes: list[WorkerProcess] = []
    try:
        settings = base  # the workers get the node list and the replication through their environment
        ensure_topics(settings)
        collector = Collector(settings)
        for n in range(workers):
            own = settings.model_copy(update={"worker_web_port": free_port(), "worker_metrics_port": free_port()})
            processes.append(WorkerProcess(own, state / f"worker-{brokers}x{workers}-{n}.log").start())
        warm = [comment("warm", i, texts[i % len(texts)]) for i in range(40)]
        produce(settings, COMMENTS, warm)
        if len(collector.collect({key for key, _ in warm}, timeout=600)) < len(warm):
            raise SystemExit(f"{brokers}x{workers}: the workers did not warm up")
        time.sleep(3)  # every worker joined and holds partitions by now (the warm-up took the rebalance)
        run = f"r{brokers}x{workers}"
        records = [comment(run, i, text) for i, text in enumerate(texts)]
        pids = [p.process.pid for p in processes if p.process] + [
            pid for pid in broker.node_pids(base).values() if pid
        ]
        cpu_before = sum(tree_cpu_seconds(pid) for pid in pids)
        started = time.monotonic()
        produce(settings, COMMENTS, records)
        seen = collector.collect({key for key, _ in records}, timeout=1800)
        elapsed = time.monotonic() - started
        cpu = sum(tree_cpu_seconds(pid) for pid in pids) - cpu_before
        if len(seen) < len(records):
            raise SystemExit(f"{brokers}x{workers}: {len(records) - len(seen)} comments not classified")
        return {"rate": len(records) / elapsed, "seconds": elapsed, "cpu": cpu,
                "per_core": len(records) / cpu if cpu else 0.0, "load": os.getloadavg()[0]}
    finally:
        for process in processes:
            process.stop()
        broker.stop(base)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--layouts", default="1x1,3x1,3x2,3x4", help="brokers x workers, comma-separated")
    args = parser.parse_args()
    texts = load_texts(args.n)
    layouts = [tuple(int(part) for part in item.split("x")) for item in args.layouts.split(",")]
    print(f"{len(texts)} app reviews of {len(PRODUCTS)} products, 4 partitions, {os.cpu_count()} cores")
    print("| brokers | workers | comments/s | seconds | CPU seconds (workers + brokers) | comments per busy core-second | load at the end |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="youasked-scale-") as folder:
        for brokers, workers in layouts:
            figures = measure(brokers, workers, texts, Path(folder))
            print(f"| {brokers} | {workers} | {figures['rate']:.0f} | {figures['seconds']:.1f} | "
                  f"{figures['cpu']:.0f} | {figures['per_core']:.0f} | {figures['load']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    with stopped_like_ctrl_c():
        raise SystemExit(main())
