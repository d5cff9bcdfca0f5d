"""Runs the stream worker as a child process and restarts it when it stalls.

faust-streaming can hang after start-up or a rebalance with the worker "ready" but fetching
nothing (upstream issues robinhood/faust#218, faust-streaming/faust#166 and #629). The
supervisor watches the consumer group: when input is waiting on a partition assigned to its
child and the committed offset there has not moved for ``stall_s`` seconds, it kills the child
and starts a new one; a child that crashes is started again too. The clock starts only once
the child is a member of the group (it names itself ``youasked-worker-<pid>``): importing the
model stack can take most of a minute on a busy machine, and that is not a stall. A child that
has not joined within ``start_timeout_s`` is restarted. Outputs are idempotent (ledgers, keyed
tables), so a restart loses and repeats nothing.

A worker that took over partitions first rebuilds their tables from the changelogs, and commits
nothing meanwhile; for a large product that takes longer than ``stall_s`` (replay times
measured by ``benchmarks/recovery.py`` are in docs/operating.md). While the child's metrics say
it is recovering (``youasked_tables_recovering``), its partitions are not judged, or each
restart would begin the replay again.

Likewise, the themes stage runs a step in a thread, and a re-cluster of a large product (or the
first UMAP of a process, which compiles) can take longer than ``stall_s`` while input waits
behind it. The child keeps the start of its oldest running step in a file the supervisor reads
without asking it (:mod:`streams.step_marker`; a process compiling on a starved machine may not
answer a scrape in time); that time does not count towards a stall, up to ``step_timeout_s`` per
step. Before, four workers sharing two cores were each restarted once in the middle of a busy
stream, their re-clusters cut short and started over.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.errors import KafkaError
from prometheus_client.parser import text_string_to_metric_families

from contracts.settings import Settings
from contracts.topics import WORKER_INPUTS
from messaging.lag import read_lag
from streams.step_marker import marker_path, step_seconds

logger = logging.getLogger(__name__)

CRASH_LOOP_S = 60.0
MAX_QUICK_CRASHES = 3
# The longest a step in a thread is trusted to run: a re-cluster of 100,000 suggestions takes under
# a minute (benchmarks/themes_scale.py), the first UMAP of a process half a minute more on a busy
# machine; ten minutes is a hang.
STEP_TIMEOUT_S = 600.0


def _progress(settings: Settings, topics: Sequence[str]) -> dict[tuple[str, int], tuple[int, int]] | None:
    """``{(topic, partition): (committed offset, lag)}`` of the worker's group, or None if unknown
    (a partition with no commit is at its log start offset: see :mod:`messaging.offsets`).
    """
    try:
        admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="youasked-watch")
        consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None)
    except (KafkaError, OSError):
        return None
    try:
        return {
            (p.topic, p.partition): (p.counted_from, p.lag)
            for p in read_lag(admin, consumer, settings.app_id, topics)
        }
    except (KafkaError, OSError):
        return None
    finally:
        consumer.close()
        admin.close()


def client_id_of(pid: int) -> str:
    """The Kafka client id of the worker process ``pid`` (faust's ``broker_client_id``)."""
    return f"youasked-worker-{pid}"


def _assignment(settings: Settings, client_id: str) -> set[tuple[str, int]] | None:
    """The partitions the group member ``client_id`` holds, or None while it is not a member
    (or the group cannot be described).
    """
    try:
        admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="youasked-watch")
    except (KafkaError, OSError):
        return None
    try:
        (group,) = admin.describe_consumer_groups([settings.app_id])
        if group.state != "Stable":
            return None
        for member in group.members:
            if member.client_id == client_id and member.member_assignment is not None:
                return {(tp.topic, tp.partition) for tp in member.member_assignment.partitions()}
        return None
    except (KafkaError, OSError, ValueError):
        return None
    finally:
        admin.close()


def _recovering(settings: Settings, pid: int) -> bool:
    """True when the worker process ``pid`` says on its metrics endpoint (``worker_metrics_port``)
    that it is rebuilding its tables; False when it says not, or cannot be asked.
    """
    if settings.worker_metrics_port == 0:
        return False
    host = settings.worker_metrics_host
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 (compared, not bound)
    url = f"http://{host}:{settings.worker_metrics_port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            text = response.read().decode("utf-8", "replace")
        return any(
            sample.labels.get("pid") == str(pid) and sample.value >= 1
            for family in text_string_to_metric_families(text)
            if family.name == "youasked_tables_recovering"
            for sample in family.samples
        )
    except (OSError, ValueError):
        return False


def _step_seconds(settings: Settings, pid: int) -> float:
    """How long the oldest step the worker process ``pid`` handed to a thread has been running,
    from the file it keeps for that (:mod:`streams.step_marker`: read without asking the worker,
    which a long step on a starved machine may keep from answering); 0 when none runs.
    """
    return step_seconds(marker_path(settings, pid))


class StepSpans:
    """The spans of time the worker was seen running a step in a thread (a re-cluster, a model
    batch), from its step marker at each poll: a step running for ``step_s`` at ``now``
    covers ``[now - step_s, now]``. A step is trusted for ``step_timeout_s`` at most: beyond that
    it is a hang, not work.
    """

    def __init__(self, step_timeout_s: float) -> None:
        self.step_timeout_s = step_timeout_s
        self.spans: list[tuple[float, float]] = []

    def saw(self, *, now: float, step_s: float) -> None:
        if step_s <= 0.0:
            return
        start = now - step_s
        end = min(now, start + self.step_timeout_s)
        if self.spans and start <= self.spans[-1][1]:
            first, last = self.spans[-1]
            self.spans[-1] = (min(first, start), max(last, end))
        else:
            self.spans.append((start, end))
        self.spans = [(a, b) for a, b in self.spans if b > now - 4 * self.step_timeout_s]

    def covered(self, since: float, now: float) -> float:
        """Seconds of ``[since, now]`` the worker spent running steps."""
        return sum(max(0.0, min(b, now) - max(a, since)) for a, b in self.spans)


def stalled(
    progress: dict[tuple[str, int], tuple[int, int]],
    seen: dict[tuple[str, int], tuple[int, float]],
    *,
    now: float,
    stall_s: float,
    steps: StepSpans | None = None,
) -> list[tuple[str, int]]:
    """Partitions with records waiting whose committed offset has not moved for ``stall_s``.

    ``seen`` keeps, per partition, the last committed offset and when it last moved (or when
    the partition last had nothing waiting); it is updated in place. Watching partitions one by
    one matters: faust can stop fetching some partitions while others (timer ticks) move on.
    The time the worker spent running a step (``steps``) does not count: input waiting behind
    a long re-cluster is not stuck.
    """
    stuck = []
    for tp, (offset, lag) in progress.items():
        last = seen.get(tp)
        if last is None or last[0] != offset or lag <= 0:
            seen[tp] = (offset, now)
            continue
        busy = steps.covered(last[1], now) if steps is not None else 0.0
        if now - last[1] - busy > stall_s:
            stuck.append(tp)
    return stuck


def supervise(
    settings: Settings,
    command: Sequence[str],
    *,
    stall_s: float,
    start_timeout_s: float = 300.0,
    poll_s: float = 5.0,
    step_timeout_s: float = STEP_TIMEOUT_S,
) -> int:
    """Run ``command`` (the worker); restart it when it stalls, does not join its group within
    ``start_timeout_s``, or crashes; return its exit code. Input that waits behind a step the
    worker runs in a thread waits for ``step_timeout_s`` at most before it counts as stalled.

    A child that exits 0 (or is stopped) ends the supervision; one that crashes is started again,
    unless it crashed :data:`MAX_QUICK_CRASHES` times in a row within :data:`CRASH_LOOP_S` of
    starting (a broken configuration, not bad luck).
    """
    inputs = [settings.topic_name(spec) for spec in WORKER_INPUTS]
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child.poll() is None:
            child.send_signal(signum)

    quick_crashes = 0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(list(command), env=dict(os.environ), stdin=subprocess.DEVNULL)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        seen: dict[tuple[str, int], tuple[int, float]] = {}
        steps = StepSpans(step_timeout_s)
        joined = False
        while child.poll() is None:
            time.sleep(poll_s)
            if stopping:
                continue
            owned = _assignment(settings, client_id_of(child.pid))
            if owned is None:
                seen.clear()  # between rebalances nothing is owed: the clock starts again
                if not joined and time.monotonic() - started > start_timeout_s:
                    logger.warning(
                        "worker %d has not joined its consumer group %.0f s after starting: restarting",
                        child.pid,
                        start_timeout_s,
                    )
                    _kill(child)
                    break
                continue
            joined = True
            if _recovering(settings, child.pid):
                seen.clear()  # replaying changelogs: nothing is committed until the tables are back
                continue
            progress = _progress(settings, inputs)
            if progress is None:
                continue
            mine = {tp: value for tp, value in progress.items() if tp in owned}
            now = time.monotonic()
            steps.saw(now=now, step_s=_step_seconds(settings, child.pid))
            stuck = stalled(mine, seen, now=now, stall_s=stall_s, steps=steps)
            if stuck:
                waiting = ", ".join(f"{t}[{p}]: {progress[(t, p)][1]}" for t, p in sorted(stuck))
                logger.warning(
                    "worker %d made no progress for %.0f s on partitions with input waiting (%s): restarting",
                    child.pid,
                    stall_s,
                    waiting,
                )
                _kill(child)
                break
        else:
            marker_path(settings, child.pid).unlink(missing_ok=True)  # a crash leaves it behind
            code = int(child.returncode or 0)
            if stopping or code == 0:
                return code
            lived = time.monotonic() - started
            quick_crashes = quick_crashes + 1 if lived < CRASH_LOOP_S else 0
            if quick_crashes >= MAX_QUICK_CRASHES:
                logger.error("worker crashed %d times within %.0f s of starting: giving up", quick_crashes,
                             CRASH_LOOP_S)
                return code
            logger.warning("worker %d exited with %d after %.0f s: restarting", child.pid, code, lived)
            time.sleep(min(2.0 * quick_crashes, 10.0))
            continue
        marker_path(settings, child.pid).unlink(missing_ok=True)  # killed: it wrote its last
        if stopping:
            return 0


def _kill(child: subprocess.Popen[bytes]) -> None:
    """Ask the worker to log its tasks' stacks (SIGUSR1), then kill it."""
    child.send_signal(signal.SIGUSR1)
    time.sleep(2.0)
    child.kill()
    child.wait()


def worker_command(loglevel: str) -> list[str]:
    """The command line of one worker process."""
    return [sys.executable, "-m", "youasked.cli", "worker", "--no-supervise", "--loglevel", loglevel]
