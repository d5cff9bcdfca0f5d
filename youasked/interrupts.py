"""Stop a command that starts processes on a kill or a closed terminal as Ctrl-C stops it.

The worker, the API and the broker a command starts run in sessions of their own, so a signal to
the command never reaches them: only the command's own ``finally`` blocks stop them. Ctrl-C runs
those blocks (``KeyboardInterrupt``); SIGTERM and SIGHUP, by default, end the command without
them and leave what it started running. :func:`stopped_like_ctrl_c` makes them run the blocks too.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def stopped_like_ctrl_c() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP (a ``kill``, a closed terminal) raise
    ``KeyboardInterrupt`` as Ctrl-C does; the previous handlers come back after it. Use it in the
    main thread (Python delivers signals there).
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, interrupt) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
