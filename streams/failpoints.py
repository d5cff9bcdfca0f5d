"""Named crash points for crash-recovery tests: ``YOUASKED_FAILPOINTS=name[,name...]``.

:func:`hit` sends the process SIGKILL when its name is listed: no cleanup, no flush, no offset
commit, exactly as a crash. Unset in production, it costs one lookup. With
``YOUASKED_FAILPOINTS_FIRED=<directory>`` each failpoint crashes once: it leaves a file of its
name there, and a restarted process (same environment) passes it by.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

logger = logging.getLogger(__name__)

ENV = "YOUASKED_FAILPOINTS"
FIRED_ENV = "YOUASKED_FAILPOINTS_FIRED"


def armed(name: str) -> bool:
    """Whether ``name`` is listed (and, with a directory of fired failpoints, has not fired)."""
    listed = os.environ.get(ENV)
    if not listed or name not in {item.strip() for item in listed.split(",")}:
        return False
    fired = os.environ.get(FIRED_ENV)
    return not fired or not (Path(fired) / name).exists()


def hit(name: str) -> None:
    """Crash here if ``name`` is an armed failpoint."""
    if armed(name):
        fired = os.environ.get(FIRED_ENV)
        if fired:
            Path(fired).mkdir(parents=True, exist_ok=True)
            (Path(fired) / name).touch()
        logger.warning("failpoint %s: crashing", name)
        logging.shutdown()
        os.kill(os.getpid(), signal.SIGKILL)
