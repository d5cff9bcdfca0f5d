"""A benchmark killed with SIGTERM or SIGHUP stops as Ctrl-C stops it: its ``finally`` blocks (where
it stops the workers it started) run."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys, time
sys.path.insert(0, {root!r})
from youasked.interrupts import stopped_like_ctrl_c
def main():
    try:
        print("ready", flush=True)
        time.sleep(60)
    finally:
        open({marker!r}, "w").write("stopped")
{call}
"""
GUARDED = "with stopped_like_ctrl_c():\n    main()"


def signalled(number: int, marker: Path, call: str) -> int:
    """Run the script (``call`` runs its ``main``), send it ``number`` once it is ready; its exit status."""
    script = SCRIPT.format(root=str(ROOT), marker=str(marker), call=call)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    process.send_signal(number)
    return process.wait(timeout=30)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminated_benchmark_runs_its_finally_blocks(number: int, tmp_path: Path) -> None:
    marker = tmp_path / "stopped"
    assert signalled(number, marker, GUARDED) == -signal.SIGINT  # ended as Ctrl-C ends it
    assert marker.read_text() == "stopped"


def test_without_it_the_finally_blocks_are_skipped(tmp_path: Path) -> None:
    marker = tmp_path / "stopped"
    assert signalled(signal.SIGTERM, marker, "main()") == -signal.SIGTERM
    assert not marker.exists()


def test_every_benchmark_that_starts_workers_runs_under_it() -> None:
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "WorkerProcess" in text or "replay_worker" in text:
            assert "with stopped_like_ctrl_c():" in text, path.name
