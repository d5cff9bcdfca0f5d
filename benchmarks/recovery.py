"""Recovery time and state size of one product's themes state, through the real worker.

Starts a local broker (``youasked.broker``, free ports, its own state folder), then:

1. **Fill.** Produces N ``SuggestionDetected`` records of one product straight to
   ``feedback.suggestions`` (one partition) and runs a worker until its group has committed them
   all. The vectors are synthetic and clustered (``benchmarks/themes_scale.synthetic``: unit
   vectors around ``N / 200`` random centres, per-dimension noise 0.03, a cosine of about 0.87
   to their centre), 384 numbers with 6 decimals as the classify stage sends them; the texts are
   synthetic words. The filling worker uses ``--fill-store`` (by default ``rocksdb://``, which
   faust backs with rocksdict when that is installed), so that its local store can be kept for
   step 4.
2. **State size.** Reads both changelogs of the themes tables (``<app id>-theme-state-changelog``,
   ``<app id>-theme-members-changelog``): records, bytes (keys + values), the live keys and their
   bytes (what a fully compacted topic keeps: the last record per key), and the broker's on-disk
   size of each.
3. **Take-over with an empty local store** (``memory://``, a new state folder): the time from the
   worker's start to the answer (``SuggestionThemed`` on ``feedback.theme-members``) to one new
   suggestion of the product, produced just before the start. The worker must replay the
   changelogs, then load the product (themes, pool, near-duplicate window) before it answers.
4. **Restart with the local store kept** (rocksdict, the filling worker's state folder): the
   same; faust reads only the changelog records written after the store's last flush.
5. **Baseline:** the same start-to-answer time for a product with no state (another app id and
   topic prefix on the same broker): the worker's own start (model load, group join).

Run (from the project root; rocksdict must be importable, e.g. ``uv pip install rocksdict``)::

    nice -n 10 .venv/bin/python benchmarks/recovery.py --n 100000

The broker is started on free ports under a temporary folder (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from benchmarks.themes_scale import synthetic
from contracts.events import AskSpan, CommentAccepted, SourceRef, SuggestionDetected, event_json
from contracts.settings import Settings
from contracts.topics import SUGGESTIONS, THEME_MEMBERS
from messaging.admin import ensure_topics
from messaging.lag import group_lag
from messaging.readback import fetch_limits
from models.themes.effects import MEMBERS, STATE
from tests.kafka_support import WorkerProcess, free_port
from youasked import broker
from youasked.interrupts import stopped_like_ctrl_c

PRODUCT = "trailmate"
# The supervisor restarts a worker whose group commits nothing for worker_stall_s while input
# waits; a re-cluster of a large product or a long changelog replay would trip it on a busy
# machine and restart the very recovery being measured.
QUIET = {"YOUASKED_WORKER_STALL_S": "3600"}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def suggestion(index: int, vector: np.ndarray, text: str, *, run: str) -> tuple[bytes, bytes]:
    """One ``SuggestionDetected`` of :data:`PRODUCT` keyed by product, as the classify stage sends it."""
    key = f"x:{run}{index}"
    comment = CommentAccepted(
        comment_id=f"{run}{index}", platform="x", product=PRODUCT, author_id=f"user{index % 20000}",
        author_handle=f"@user{index % 20000}", text=text, created_at=T0 + timedelta(seconds=index),
        url=f"https://x.com/user/status/{run}{index}", key=key,
        received_at=T0 + timedelta(seconds=index),
        source=SourceRef(topic="feedback.comments", partition=0, offset=index),
    )
    event = SuggestionDetected(
        suggestion_id=f"{key}#1", comment=comment, ask=AskSpan(text=text, start=0, end=len(text)),
        score=0.9, embedding=[round(float(x), 6) for x in vector], embedding_model="synthetic",
        detected_at=T0,
    )
    return PRODUCT.encode(), event_json(event)


def produce(settings: Settings, records: Iterator[tuple[bytes, bytes]]) -> int:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=20,
                             batch_size=512 * 1024, max_request_size=settings.kafka_message_max_bytes)
    count = 0
    for key, value in records:
        producer.send(settings.topic_name(SUGGESTIONS), key=key, value=value)
        count += 1
    producer.flush()
    producer.close()
    return count


def wait_caught_up(settings: Settings, worker: WorkerProcess, timeout: float) -> float:
    """Seconds until the worker's group has committed every record of ``feedback.suggestions``."""
    started = time.monotonic()
    topic = settings.topic_name(SUGGESTIONS)
    while time.monotonic() - started < timeout:
        try:
            if group_lag(settings, [topic])[topic] == 0:
                return time.monotonic() - started
        except Exception:  # the group is not there yet
            pass
        if worker.process is not None and worker.process.poll() is not None:
            raise SystemExit(f"the worker stopped:\n{worker.log_tail()}")
        time.sleep(2)
    raise SystemExit(f"not caught up after {timeout:.0f} s:\n{worker.log_tail()}")


def consumer(settings: Settings) -> KafkaConsumer:
    return KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False,
                         group_id=None, client_id="youasked-recovery-bench", **fetch_limits(settings))


def changelog_size(settings: Settings, topic: str, log_dirs: Path) -> dict[str, float]:
    """Records, key + value bytes and distinct keys of ``topic``, and its size on the broker's disk."""
    reader = consumer(settings)
    records = size = 0
    latest: dict[bytes, int] = {}  # what a fully compacted topic keeps: the last record per key
    try:
        tps = [TopicPartition(topic, p) for p in sorted(reader.partitions_for_topic(topic) or [])]
        reader.assign(tps)
        reader.seek_to_beginning(*tps)
        ends = reader.end_offsets(tps)
        while any(reader.position(tp) < ends[tp] for tp in tps):
            for batch in reader.poll(timeout_ms=1000, max_records=5000).values():
                for record in batch:
                    records += 1
                    length = len(record.key or b"") + len(record.value or b"")
                    size += length
                    latest[record.key or b""] = length if record.value is not None else 0
    finally:
        reader.close()
    disk = sum(f.stat().st_size for d in log_dirs.glob(f"{topic}-*") for f in d.iterdir() if f.is_file())
    live = [length for length in latest.values() if length]
    return {"records": records, "bytes": size, "keys": len(live), "compacted": sum(live), "disk": disk}


def member_ends(settings: Settings) -> dict[TopicPartition, int]:
    reader = consumer(settings)
    try:
        topic = settings.topic_name(THEME_MEMBERS)
        tps = [TopicPartition(topic, p) for p in sorted(reader.partitions_for_topic(topic) or [])]
        return dict(reader.end_offsets(tps))
    finally:
        reader.close()


def time_to_answer(settings: Settings, log: Path, env: dict[str, str], *, probe: str) -> tuple[float, str]:
    """Start a worker, produce one new suggestion; seconds from the start to its member record."""
    ends = member_ends(settings)
    rng = np.random.default_rng(len(probe))
    vector = rng.normal(size=384)
    text = f"probe {probe}"
    produce(settings, iter([suggestion(0, vector / np.linalg.norm(vector), text, run=probe)]))
    wanted = f"x:{probe}0#1".encode()
    reader = consumer(settings)
    reader.assign(list(ends))
    for tp, offset in ends.items():
        reader.seek(tp, offset)
    worker = WorkerProcess(settings, log, env={**QUIET, **env})
    started = time.monotonic()
    worker.start()
    try:
        while time.monotonic() - started < 1800:
            for batch in reader.poll(timeout_ms=500).values():
                if any(record.key == wanted for record in batch):
                    return time.monotonic() - started, resumed_line(log)
            if worker.process is not None and worker.process.poll() is not None:
                raise SystemExit(f"the worker stopped:\n{worker.log_tail()}")
        raise SystemExit(f"no answer to {probe}:\n{worker.log_tail()}")
    finally:
        reader.close()
        worker.stop()


def resumed_line(log: Path) -> str:
    """The changelog replay's seconds (faust's "Restoring state" to "Done reading" log lines) and
    what the product resumed with."""
    lines = log.read_text(errors="replace").splitlines()
    resumed = [line for line in lines if "resumed:" in line]
    product = resumed[-1].split("themes of ", 1)[-1].split(":", 1)[-1].strip() if resumed else "no state"
    start = [line for line in lines if "Restoring state from changelog topics" in line]
    done = [line for line in lines if "Done reading from changelog topics" in line]
    if not start or not done:
        return f"replay not logged; {product}"
    replay = (logged_at(done[-1]) - logged_at(start[-1])).total_seconds()
    return f"{replay:.1f} s | {product}"


def logged_at(line: str) -> datetime:
    """The time of a faust log line (``[2026-12-01 06:01:45,726] ...``)."""
    return datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f")


def settings_for(base: Settings, tag: str, folder: Path, **overrides: object) -> Settings:
    return base.model_copy(update={
        "topic_prefix": f"rec{tag}.", "app_id": f"youasked-recovery-{tag}", "state_dir": folder / tag,
        "worker_web_port": free_port(), "worker_metrics_port": free_port(), **overrides,
    })


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--fill-store", default="rocksdb://")
    parser.add_argument("--fill-timeout", type=float, default=7200)
    parser.add_argument("--segment-bytes", type=int, default=0,
                        help="segment.bytes of the themes tables' changelogs (0: the broker's default, 1 GiB)")
    parser.add_argument("--keep", action="store_true", help="keep the broker's folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="youasked-recovery-"))
    base = Settings(state_dir=folder / "broker", cache_dir=ROOT / ".cache", kafka_port=free_port(),
                    kafka_controller_port=free_port(), embedding_cache_entries=0, topic_partitions=4)
    broker.start(base)
    log_dirs = broker.broker_paths(base).data
    try:
        baseline = settings_for(base, "empty", folder)
        ensure_topics(baseline)
        empty, empty_loaded = time_to_answer(baseline, folder / "baseline.log", {}, probe="p0-")

        run = settings_for(base, "full", folder, table_store=args.fill_store,
                           changelog_segment_bytes=args.segment_bytes)
        ensure_topics(run)
        vectors, texts = synthetic(args.n, noise=0.03)
        started = time.monotonic()
        produced = produce(run, (suggestion(i, vectors[i], texts[i], run="s") for i in range(args.n)))
        produce_s = time.monotonic() - started
        filler = WorkerProcess(run, folder / "fill.log", env={**QUIET, "YOUASKED_TABLE_STORE": args.fill_store}).start()
        try:
            fill_s = wait_caught_up(run, filler, args.fill_timeout)
        finally:
            filler.stop()
        print(f"{produced} suggestions of {PRODUCT} produced in {produce_s:.0f} s; one worker placed them "
              f"in {fill_s:.0f} s ({produced / fill_s:.0f}/s, load {os.getloadavg()[0]:.1f})")
        segments = f"{args.segment_bytes:,} bytes" if args.segment_bytes else "the broker's default"
        print(f"\nchangelog segments: {segments}; the records and bytes below are what the topic holds now "
              "(what a replay reads), after the broker's cleaner compacted the closed segments")
        print("\n| changelog | records | key + value bytes | live keys | bytes once compacted | "
              "on the broker's disk |")
        print("| --- | --- | --- | --- | --- | --- |")
        for table in (STATE, MEMBERS):
            topic = f"{run.app_id}-{table}-changelog"
            size = changelog_size(run, topic, log_dirs)
            print(f"| {table} | {size['records']:,.0f} | {size['bytes'] / 1e6:,.1f} MB | {size['keys']:,.0f} | "
                  f"{size['compacted'] / 1e6:,.1f} MB | {size['disk'] / 1e6:,.1f} MB |")

        fresh = run.model_copy(update={"state_dir": folder / "fresh", "table_store": "memory://"})
        memory_s, memory_loaded = time_to_answer(
            fresh, folder / "fresh.log", {"YOUASKED_TABLE_STORE": "memory://"}, probe="p1-")
        kept_s, kept_loaded = time_to_answer(
            run, folder / "kept.log", {"YOUASKED_TABLE_STORE": args.fill_store}, probe="p2-")
        cold = run.model_copy(update={"state_dir": folder / "cold"})
        cold_s, cold_loaded = time_to_answer(
            cold, folder / "cold.log", {"YOUASKED_TABLE_STORE": args.fill_store}, probe="p3-")
        print("\n| worker start to the answer to one new suggestion | seconds | of it: changelog replay | "
              "product resumed with |")
        print("| --- | --- | --- | --- |")
        print(f"| baseline: a product with no state (memory://) | {empty:.1f} | {empty_loaded} |")
        print(f"| {args.n:,} suggestions, empty local store (memory://): changelog replay | {memory_s:.1f} | "
              f"{memory_loaded} |")
        print(f"| {args.n:,} suggestions, empty local store ({args.fill_store}): changelog replay | "
              f"{cold_s:.1f} | {cold_loaded} |")
        print(f"| {args.n:,} suggestions, local store kept ({args.fill_store}): changelog tail | {kept_s:.1f} | "
              f"{kept_loaded} |")
        print(f"\nload at the end {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores; logs in {folder}")
    finally:
        broker.stop(base)
        if not args.keep:
            shutil.rmtree(folder / "broker", ignore_errors=True)
    return 0


if __name__ == "__main__":
    with stopped_like_ctrl_c():
        raise SystemExit(main())
