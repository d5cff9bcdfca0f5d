"""Waiting for something another process does: poll until it is true, or give up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T], *, timeout: float, every: float = 1.0) -> T:
    """The first truthy value of ``probe()`` within ``timeout`` seconds (or its last value)."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not value and time.monotonic() < deadline:
        time.sleep(every)
        value = probe()
    return value
