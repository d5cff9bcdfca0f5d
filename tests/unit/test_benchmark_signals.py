"""A benchmark killed with SIGTERM or SIGHUP runs its ``finally`` blocks (where it stops its workers)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import os, signal, sys, time
sys.path.insert(0, {root!r})
from tests.kafka_support import exit_on_termination
exit_on_termination()
try:
    print("ready", flush=True)
    time.sleep(60)
finally:
    open({marker!r}, "w").write("stopped")
"""


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminated_benchmark_runs_its_finally_blocks(number: int, tmp_path: Path) -> None:
    marker = tmp_path / "stopped"
    script = SCRIPT.format(root=str(ROOT), marker=str(marker))
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    process.send_signal(number)
    assert process.wait(timeout=30) == 128 + number
    assert marker.read_text() == "stopped"


def test_without_it_the_finally_blocks_are_skipped(tmp_path: Path) -> None:
    marker = tmp_path / "stopped"
    script = SCRIPT.format(root=str(ROOT), marker=str(marker)).replace("exit_on_termination()\n", "")
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == -signal.SIGTERM
    assert not marker.exists()
