"""The demo stops what it started when it is killed, not only on Ctrl-C."""

from __future__ import annotations

import os
import signal

import pytest

from youasked.demo.runner import _stopped_like_ctrl_c


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_kill_or_a_closed_terminal_stops_the_demo_as_ctrl_c_does(signum: int) -> None:
    before = signal.getsignal(signum)
    with pytest.raises(KeyboardInterrupt), _stopped_like_ctrl_c():
        os.kill(os.getpid(), signum)
    assert signal.getsignal(signum) is before
