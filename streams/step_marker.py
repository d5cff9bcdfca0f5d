"""Since when the worker process has been running its oldest step, in a file its supervisor reads.

The themes stage runs each step in a thread; a long one (a large re-cluster, a process's first
UMAP, which compiles) keeps input waiting, and the supervisor must not take that for a stall. The
worker says it on its metrics endpoint too, but a process busy compiling on a starved machine may
not answer a scrape in time: the supervisor then saw no step, and killed a worker in the middle of
its re-cluster. This file is written by the worker before a step is handed to its thread and read
by the supervisor without asking the worker anything: eight bytes, the wall-clock start of the
oldest running step (0.0 when none runs), rewritten in place (one ``pwrite`` per change).
"""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

from contracts.settings import Settings

_FORMAT = "<d"


def marker_path(settings: Settings, pid: int) -> Path:
    """The marker of the worker process ``pid``."""
    return settings.state_dir / "run" / f"worker-{pid}.step"


class StepMarker:
    """The writing side: one open file, rewritten in place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self.write(0.0)

    def write(self, since: float) -> None:
        """``since``: the wall-clock start of the oldest running step, 0.0 when none runs."""
        os.pwrite(self._fd, struct.pack(_FORMAT, since), 0)

    def close(self) -> None:
        os.close(self._fd)
        self.path.unlink(missing_ok=True)


def step_seconds(path: Path, *, now: float | None = None) -> float:
    """How long the oldest step the marker at ``path`` names has run (0.0 when none runs, or when
    there is no marker).
    """
    try:
        raw = path.read_bytes()
    except OSError:
        return 0.0
    if len(raw) < struct.calcsize(_FORMAT):
        return 0.0
    since = float(struct.unpack_from(_FORMAT, raw)[0])
    if since <= 0.0:
        return 0.0
    return max(0.0, (time.time() if now is None else now) - since)
