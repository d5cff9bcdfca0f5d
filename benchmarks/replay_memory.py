"""The worker's peak memory through a replay of about 27,000 real app reviews (issue 14: <= 1 GB).

Starts its own broker on free ports (unless YOUASKED_KAFKA_BOOTSTRAP names a cluster) and one
supervised worker with the default settings (the exact-repeat embedding cache on, as in the
demo), replays ``microsoft_teams_reviews.csv``, ``google_chrome_reviews.csv`` and
``testflight_reviews.csv`` of ``../shared/data/streams/`` with the project's replay (each file
with its own id salt, so that no review takes another's identity), waits until every accepted
comment has its ``CommentClassified`` and the themes agent has caught up, and prints the counts,
the time, the end-to-end rate and the worker's peak RSS: the largest ``VmHWM`` of a process of
the worker's tree, and the peak of the tree's summed ``VmRSS`` sampled every 0.2 s from /proc,
and how many worker processes the supervisor ran (a restart starts the memory from scratch).

Run: .venv/bin/python benchmarks/replay_memory.py [--files ...] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kafka import KafkaConsumer, TopicPartition

from benchmarks.e2e_classify import MemorySampler, local_broker, wait_joined
from contracts.settings import Settings
from contracts.topics import (
    COMMENTS,
    COMMENTS_ACCEPTED,
    COMMENTS_CLASSIFIED,
    COMMENTS_VALIDATED,
    WORKER_INPUTS,
    TopicSpec,
)
from messaging.admin import ensure_topics
from messaging.lag import group_lag
from tests.kafka_support import WorkerProcess, free_port
from youasked import broker
from youasked.interrupts import stopped_like_ctrl_c
from youasked.replay import replay

STREAMS = ROOT.parent / "shared" / "data" / "streams"
FILES = ("microsoft_teams_reviews.csv", "google_chrome_reviews.csv", "testflight_reviews.csv")


def records_on(settings: Settings, spec: TopicSpec) -> int:
    """Records on a topic: the sum of its partitions' end offsets (nothing is deleted during a run)."""
    topic = settings.topic_name(spec)
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        return sum(consumer.end_offsets([TopicPartition(topic, p) for p in parts]).values())
    finally:
        consumer.close()


def wait_classified(settings: Settings, started: float, timeout: float) -> tuple[int, int, float]:
    """Wait until ingest is idle and every accepted comment is classified.

    Returns (accepted, classified, seconds since ``started`` when the last one was classified).
    """
    ingest = [settings.topic_name(COMMENTS), settings.topic_name(COMMENTS_VALIDATED)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        classified = records_on(settings, COMMENTS_CLASSIFIED)
        accepted = records_on(settings, COMMENTS_ACCEPTED)
        # Ingest drained (no more accepted comments to come) and each accepted one classified
        # (the ledger writes each once: the counts are equal when all are done).
        if accepted and classified >= accepted and not any(group_lag(settings, ingest).values()):
            return accepted, classified, time.monotonic() - started
        time.sleep(0.5)
    raise SystemExit(f"not every comment was classified within {timeout:.0f} s")


def run(settings: Settings, paths: list[Path], limit: int | None) -> dict[str, float]:
    worker = WorkerProcess(settings, settings.state_dir / "worker.log")
    worker.start()
    assert worker.process is not None
    sampler = MemorySampler(worker.process.pid)
    sampler.start()
    try:
        joined_s = wait_joined(settings, worker.process.pid, timeout=300)
        started = time.monotonic()
        sent = 0
        for index, path in enumerate(paths):
            report = replay(path, bootstrap_servers=settings.bootstrap_servers,
                            topic=settings.topic_name(COMMENTS), limit=limit, progress=False,
                            id_salt=f"mem{index}-{uuid.uuid4().hex[:6]}")
            print(f"replayed {report.sent} records of {path.name} ({report.refused} refused)")
            sent += report.sent
        replayed_s = time.monotonic() - started
        accepted, classified, classified_s = wait_classified(settings, started, timeout=3600)
        lag = group_lag(settings, [settings.topic_name(spec) for spec in WORKER_INPUTS])
        while any(lag.values()):  # the themes agent too: its memory belongs to the worker's peak
            time.sleep(1.0)
            lag = group_lag(settings, [settings.topic_name(spec) for spec in WORKER_INPUTS])
        settled_s = time.monotonic() - started
    finally:
        sampler.stop()
        worker.stop()
    return {
        "sent": sent, "accepted": accepted, "classified": classified, "joined_s": joined_s,
        "replayed_s": replayed_s, "classified_s": classified_s, "settled_s": settled_s,
        "rate": classified / classified_s,
        "worker_peak_mb": max(sampler.process_peak_kb.values()) / 1024,
        "tree_peak_mb": sampler.tree_peak_kb / 1024,
        "worker_processes": len(sampler.process_peak_kb) - 1,  # the children: more than 1 = restarts
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", nargs="+", default=list(FILES), help="Files of ../shared/data/streams.")
    parser.add_argument("--limit", type=int, default=None, help="At most this many records of each file.")
    args = parser.parse_args()
    paths = [STREAMS / name for name in args.files]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise SystemExit(f"missing data files (see ../shared/data/README.md): {', '.join(missing)}")

    tag = uuid.uuid4().hex[:8]
    base = Settings()
    own = local_broker(tag) if base.uses_local_broker else None
    if own is not None:
        broker.start(own)
    try:
        bootstrap = own.bootstrap_servers if own is not None else base.bootstrap_servers
        settings = Settings(kafka_bootstrap=bootstrap, topic_prefix=f"mem{tag}.", app_id=f"youasked-mem-{tag}",
                            state_dir=ROOT / "var" / f"mem-{tag}", cache_dir=ROOT / ".cache",
                            worker_web_port=free_port(), worker_metrics_port=free_port())
        ensure_topics(settings)
        r = run(settings, paths, args.limit)
    finally:
        if own is not None:
            broker.stop(own)
    print()
    print(f"| measure ({', '.join(args.files)}) | value |")
    print("| --- | --- |")
    print(f"| records replayed / accepted / classified | {r['sent']:.0f} / {r['accepted']:.0f} / {r['classified']:.0f} |")
    print(f"| replay (producing) took | {r['replayed_s']:.0f} s |")
    print(f"| start of the replay to the last comment classified | {r['classified_s']:.0f} s |")
    print(f"| end-to-end rate | {r['rate']:.0f} comments/s |")
    print(f"| start of the replay to every agent caught up (themes too) | {r['settled_s']:.0f} s |")
    print(f"| worker peak RSS (largest VmHWM in the worker's process tree) | {r['worker_peak_mb']:.0f} MB |")
    print(f"| worker tree peak RSS (supervisor + worker, sampled) | {r['tree_peak_mb']:.0f} MB |")
    print(f"| worker processes the supervisor ran (more than 1: it restarted a stalled one) "
          f"| {r['worker_processes']:.0f} |")
    print(json.dumps({k: round(v, 3) for k, v in r.items()}))


if __name__ == "__main__":
    with stopped_like_ctrl_c():
        main()
