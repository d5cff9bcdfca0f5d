"""Named crash points for crash-recovery tests: ``YOUASKED_FAILPOINTS=name[,name...]``.

:func:`hit` sends the process SIGKILL when its name is listed: no cleanup, no flush, no offset
commit, exactly as a crash. Unset in production, it costs one lookup.
"""

from __future__ import annotations

import logging
import os
import signal

logger = logging.getLogger(__name__)

ENV = "YOUASKED_FAILPOINTS"


def hit(name: str) -> None:
    """Crash here if ``name`` is an armed failpoint."""
    armed = os.environ.get(ENV)
    if armed and name in {item.strip() for item in armed.split(",")}:
        logger.warning("failpoint %s: crashing", name)
        logging.shutdown()
        os.kill(os.getpid(), signal.SIGKILL)
