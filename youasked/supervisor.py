"""Runs the stream worker as a child process and restarts it when it stalls.

faust-streaming can hang after start-up or a rebalance with the worker "ready" but fetching
nothing (upstream issues robinhood/faust#218, faust-streaming/faust#166 and #629). The
supervisor watches the consumer group: when input is waiting and the group's committed offsets
have not moved for ``stall_s`` seconds, it kills the child and starts a new one. Outputs are
idempotent (ledgers, keyed tables), so a restart loses and repeats nothing.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from youasked.settings import Settings

logger = logging.getLogger(__name__)


def _progress(settings: Settings, topics: Sequence[str]) -> tuple[int, int] | None:
    """``(committed offsets, lag)`` of the worker's group over ``topics``, or None if unknown."""
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="youasked-watch")
        consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None)
    except (KafkaError, OSError):
        return None
    try:
        committed = admin.list_consumer_group_offsets(settings.app_id)
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or [])]
        ends = consumer.end_offsets(tps) if tps else {}
        done = sum(max(committed[tp].offset, 0) for tp in tps if tp in committed)
        lag = sum(ends[tp] - max(committed[tp].offset, 0) if tp in committed else ends[tp] for tp in tps)
        return done, lag
    except (KafkaError, OSError):
        return None
    finally:
        consumer.close()
        admin.close()


def supervise(settings: Settings, command: Sequence[str], *, stall_s: float, poll_s: float = 5.0) -> int:
    """Run ``command`` (the worker) and restart it whenever it stalls; return its exit code."""
    from youasked.contracts.topics import ALL_TOPICS, COMMENTS_DLQ, THEME_MEMBERS, THEMES

    outputs = {COMMENTS_DLQ.name, THEMES.name, THEME_MEMBERS.name}
    inputs = [settings.topic_name(spec) for spec in ALL_TOPICS if spec.name not in outputs]
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child.poll() is None:
            child.send_signal(signum)

    while True:
        child = subprocess.Popen(list(command), env=dict(os.environ), stdin=subprocess.DEVNULL)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        last_done, last_move = -1, time.monotonic()
        while child.poll() is None:
            time.sleep(poll_s)
            if stopping:
                continue
            progress = _progress(settings, inputs)
            if progress is None:
                continue
            done, lag = progress
            if done != last_done or lag == 0:
                last_done, last_move = done, time.monotonic()
            elif time.monotonic() - last_move > stall_s:
                logger.warning(
                    "worker %d made no progress for %.0f s with %d records waiting: restarting",
                    child.pid,
                    stall_s,
                    lag,
                )
                child.kill()
                child.wait()
                break
        else:
            return int(child.returncode or 0)
        if stopping:
            return 0


def worker_command(loglevel: str) -> list[str]:
    """The command line of one worker process."""
    return [sys.executable, "-m", "youasked.cli", "worker", "--no-supervise", "--loglevel", loglevel]
