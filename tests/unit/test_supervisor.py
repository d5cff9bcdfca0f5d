"""The supervisor restarts a crashed worker, gives up on a crash loop, and ends with a clean exit."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from contracts.settings import Settings
from streams import supervisor
from tests.kafka_support import free_port


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(kafka_bootstrap="127.0.0.1:1", state_dir=tmp_path)


def test_a_crash_loop_is_given_up_with_the_exit_code(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(supervisor.time, "sleep", lambda _s: None)
    monkeypatch.setattr(supervisor, "_progress", lambda *_a: None)
    monkeypatch.setattr(supervisor, "_assignment", lambda *_a: None)
    runs = tmp_path / "runs"
    command = [sys.executable, "-c", f"open({str(runs)!r}, 'a').write('x'); raise SystemExit(3)"]
    assert supervisor.supervise(settings, command, stall_s=60, poll_s=0.01) == 3
    assert runs.read_text() == "x" * supervisor.MAX_QUICK_CRASHES


def test_a_crashed_worker_is_started_again_until_it_exits_cleanly(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(supervisor.time, "sleep", lambda _s: None)
    monkeypatch.setattr(supervisor, "_progress", lambda *_a: None)
    monkeypatch.setattr(supervisor, "_assignment", lambda *_a: None)
    runs = tmp_path / "runs"
    script = (
        f"import os; p = {str(runs)!r}; n = len(open(p).read()) if os.path.exists(p) else 0; "
        "open(p, 'a').write('x'); raise SystemExit(0 if n >= 1 else 137)"
    )
    assert supervisor.supervise(settings, [sys.executable, "-c", script], stall_s=60, poll_s=0.01) == 0
    assert runs.read_text() == "xx"


def test_a_stalled_worker_is_restarted(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(supervisor, "_progress", lambda *_a: {("feedback.suggestions", 0): (10, 5)})
    monkeypatch.setattr(supervisor, "_assignment", lambda *_a: {("feedback.suggestions", 0)})
    runs = tmp_path / "runs"
    script = (
        "import os, signal, time; signal.signal(signal.SIGUSR1, lambda *a: None); "
        f"p = {str(runs)!r}; n = len(open(p).read()) if os.path.exists(p) else 0; "
        "open(p, 'a').write('x'); time.sleep(0 if n >= 1 else 60)"
    )
    started = supervisor.time.monotonic()
    assert supervisor.supervise(settings, [sys.executable, "-c", script], stall_s=0.3, poll_s=0.1) == 0
    assert runs.read_text() == "xx"
    assert supervisor.time.monotonic() - started < 30


def test_one_stuck_partition_is_a_stall_even_while_others_move() -> None:
    seen: dict[tuple[str, int], tuple[int, float]] = {}
    ticks, comments, idle = ("ticks", 0), ("comments", 2), ("comments", 3)

    def check(tick: tuple[int, int], stuck: tuple[int, int], now: float) -> list[tuple[str, int]]:
        return supervisor.stalled({ticks: tick, comments: stuck, idle: (7, 0)}, seen, now=now, stall_s=30)

    assert check((1, 0), (40, 9), 0) == []
    assert check((5, 1), (40, 9), 20) == []
    assert check((9, 0), (40, 12), 31) == [comments]
    # a partition that catches up, or moves, starts its clock again
    assert check((9, 0), (52, 0), 40) == []
    assert check((9, 0), (52, 4), 60) == []


STALLING_CHILD = (
    "import os, signal, time; signal.signal(signal.SIGUSR1, lambda *a: None); "
    "p = {runs!r}; n = len(open(p).read()) if os.path.exists(p) else 0; "
    "open(p, 'a').write('x'); time.sleep(0 if n >= 1 else {sleep})"
)


def test_a_worker_still_starting_is_not_judged_on_partitions_it_does_not_hold(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # input waits and nothing moves, but the child is not in the group yet (still importing),
    # then holds only a partition that moves: no restart
    monkeypatch.setattr(supervisor, "_progress", lambda *_a: {("s", 0): (10, 5), ("s", 1): (0, 0)})
    calls = {"n": 0}

    def assignment(*_a: object) -> set[tuple[str, int]] | None:
        calls["n"] += 1
        return None if calls["n"] < 10 else {("s", 1)}

    monkeypatch.setattr(supervisor, "_assignment", assignment)
    runs = tmp_path / "runs"
    script = STALLING_CHILD.format(runs=str(runs), sleep=2)
    assert supervisor.supervise(
        settings, [sys.executable, "-c", script], stall_s=0.3, start_timeout_s=60, poll_s=0.05
    ) == 0
    assert runs.read_text() == "x"


def test_a_worker_that_never_joins_its_group_is_restarted(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(supervisor, "_progress", lambda *_a: {("s", 0): (10, 5)})
    monkeypatch.setattr(supervisor, "_assignment", lambda *_a: None)
    runs = tmp_path / "runs"
    script = STALLING_CHILD.format(runs=str(runs), sleep=60)
    started = supervisor.time.monotonic()
    assert supervisor.supervise(
        settings, [sys.executable, "-c", script], stall_s=0.3, start_timeout_s=0.5, poll_s=0.05
    ) == 0
    assert runs.read_text() == "xx"
    assert supervisor.time.monotonic() - started < 30



def test_a_worker_replaying_its_changelogs_is_not_taken_for_stalled(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # input waits on a held partition and nothing is committed, but the worker is rebuilding
    # its tables (a large product taken over): no restart, or the replay would start again
    monkeypatch.setattr(supervisor, "_progress", lambda *_a: {("s", 0): (10, 5)})
    monkeypatch.setattr(supervisor, "_assignment", lambda *_a: {("s", 0)})
    monkeypatch.setattr(supervisor, "_recovering", lambda *_a: True)
    runs = tmp_path / "runs"
    script = STALLING_CHILD.format(runs=str(runs), sleep=2)
    assert supervisor.supervise(settings, [sys.executable, "-c", script], stall_s=0.3, poll_s=0.05) == 0
    assert runs.read_text() == "x"


def test_a_worker_running_a_long_step_is_not_restarted(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # input waits on a held partition and nothing is committed for ten stall bounds, but the
    # worker says a step has been running all along (a large re-cluster): no restart
    monkeypatch.setattr(supervisor, "_progress", lambda *_a: {("s", 0): (10, 5)})
    monkeypatch.setattr(supervisor, "_assignment", lambda *_a: {("s", 0)})
    began = supervisor.time.monotonic()
    monkeypatch.setattr(supervisor, "_step_seconds", lambda *_a: supervisor.time.monotonic() - began)
    runs = tmp_path / "runs"
    script = STALLING_CHILD.format(runs=str(runs), sleep=3)
    assert supervisor.supervise(settings, [sys.executable, "-c", script], stall_s=0.3, poll_s=0.05) == 0
    assert runs.read_text() == "x"


def test_the_worker_says_on_its_metrics_endpoint_whether_it_is_recovering(tmp_path: Path) -> None:
    from streams.metrics import WorkerMetrics, start_metrics_server

    metrics = WorkerMetrics()
    port = start_metrics_server(metrics.registry, host="127.0.0.1", port=free_port())
    assert port is not None
    settings = Settings(kafka_bootstrap="127.0.0.1:1", state_dir=tmp_path, worker_metrics_port=port)
    state = {"recovering": True}
    metrics.tables_recovering.labels(pid="4242").set_function(lambda: 1.0 if state["recovering"] else 0.0)
    assert supervisor._recovering(settings, 4242)
    assert not supervisor._recovering(settings, 4243)  # another process's series
    state["recovering"] = False
    assert not supervisor._recovering(settings, 4242)
    closed = settings.model_copy(update={"worker_metrics_port": free_port()})
    assert not supervisor._recovering(closed, 4242)  # nothing answers: judged as before


def test_input_waiting_behind_a_long_step_is_not_a_stall_but_a_step_past_its_timeout_is() -> None:
    # A partition's offset stays put from t=0; the worker runs a re-cluster from t=10 to t=70,
    # seen at each poll; input waits behind it. Stall bound 30 s.
    seen: dict[tuple[str, int], tuple[int, float]] = {}
    part = ("feedback.suggestions", 0)
    steps = supervisor.StepSpans(step_timeout_s=600)

    def check(now: float, step_s: float) -> list[tuple[str, int]]:
        steps.saw(now=now, step_s=step_s)
        return supervisor.stalled({part: (10, 5)}, seen, now=now, stall_s=30, steps=steps)

    assert check(0, 0) == []
    for now in range(15, 70, 5):
        assert check(now, now - 10) == [], now
    # the step ended at 70 and the commit has not come yet: 75 s waited, 55 of them seen behind the step
    assert check(75, 0) == []
    # nothing moves 30 s past the step: stuck
    assert check(101, 0) == [part]

    # without the step's time, the same partition is stuck at 31 s
    assert supervisor.stalled({part: (10, 5)}, {part: (10, 0.0)}, now=31, stall_s=30) == [part]

    # a step that runs past its timeout covers its first step_timeout_s only: a hang is a stall
    seen.clear()
    hung = supervisor.StepSpans(step_timeout_s=40)
    assert supervisor.stalled({part: (10, 5)}, seen, now=0, stall_s=30, steps=hung) == []
    for now in range(5, 70, 5):
        hung.saw(now=now, step_s=now)
        stuck = supervisor.stalled({part: (10, 5)}, seen, now=now, stall_s=30, steps=hung)
        assert stuck == ([part] if now > 70 else []), now
    hung.saw(now=75, step_s=75)
    assert supervisor.stalled({part: (10, 5)}, seen, now=75, stall_s=30, steps=hung) == [part]


def test_the_worker_says_how_long_its_running_step_has_run(tmp_path: Path) -> None:
    # in a file the supervisor reads without asking the worker, and on its metrics endpoint
    from streams.metrics import WorkerMetrics
    from streams.step_marker import StepMarker, marker_path

    settings = Settings(kafka_bootstrap="127.0.0.1:1", state_dir=tmp_path)
    child = 4242
    marker = StepMarker(marker_path(settings, child))
    metrics = WorkerMetrics(marker=marker)
    gauge = ("youasked_step_running_seconds", {"pid": str(os.getpid())})
    assert supervisor._step_seconds(settings, child) == 0.0
    with metrics.steps("themes").running():
        time.sleep(0.3)
        with metrics.steps("classify").running():  # the oldest running step counts
            time.sleep(0.1)
            assert supervisor._step_seconds(settings, child) >= 0.4
        assert supervisor._step_seconds(settings, child) >= 0.4
        assert (metrics.registry.get_sample_value(*gauge) or 0.0) >= 0.4
        assert supervisor._step_seconds(settings, child + 1) == 0.0  # another process's marker
    assert supervisor._step_seconds(settings, child) == 0.0
    assert metrics.registry.get_sample_value(*gauge) == 0.0
    marker.close()
    assert not marker_path(settings, child).exists()
    assert supervisor._step_seconds(settings, child) == 0.0
