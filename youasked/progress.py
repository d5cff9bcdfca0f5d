"""Progress of long commands (replay, training, evaluation) on standard error.

Standard output stays machine-readable: the evaluation commands print their JSON there. Bars are
drawn only when standard error is a terminal; elsewhere (CI logs, pipes) they are left out and
only the final summary line is written. The pure ``models`` package knows nothing of this: its
long functions take an ``on_progress(done, total)`` callback, which :func:`progress_bar` gives.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Advance(Protocol):
    """``advance(n=1)``: ``n`` more units of work are finished."""

    def __call__(self, n: int = 1) -> None: ...


def quiet_library_bars() -> None:
    """Turn off the model libraries' own progress bars (weights loading, downloads) when standard
    error is not a terminal, unless ``HF_HUB_DISABLE_PROGRESS_BARS`` says otherwise. Call it
    before the model stack is imported.
    """
    if not sys.stderr.isatty():
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def stderr_console() -> Console:
    """A rich console on standard error (a terminal or not; rich finds out)."""
    return Console(stderr=True)


@dataclass
class Tally:
    """What a bar counted: units done of the last known total, and when it started."""

    description: str
    unit: str
    done: int = 0
    total: int | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def summary(self) -> str:
        """One line: what was done, how much, in how long, how fast."""
        seconds = self.seconds
        rate = f", {self.done / seconds:,.0f} {self.unit}/s" if seconds > 0 and self.done else ""
        return f"{self.description}: {self.done:,} {self.unit} in {seconds:.1f} s{rate}"


@contextmanager
def progress_bar(
    description: str,
    *,
    total: int | None = None,
    unit: str = "items",
    console: Console | None = None,
    enabled: bool = True,
    summary: bool = True,
) -> Iterator[Callable[[int, int | None], None]]:
    """A bar on standard error, yielding its ``on_progress(done, total)`` callback (a total of
    None keeps the one known).

    The bar is drawn only when ``enabled`` and the console is a terminal, and disappears when
    the block ends; then, with ``summary``, one line says what was done (always, terminal or
    not).
    """
    console = console or stderr_console()
    tally = Tally(description, unit, total=total)
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not (enabled and console.is_terminal),
    )
    with bar:
        task = bar.add_task(description, total=total)

        def on_progress(done: int, total: int | None) -> None:
            tally.done = done
            tally.total = total if total is not None else tally.total
            bar.update(task, completed=done, total=tally.total)

        yield on_progress
    if summary:
        console.print(tally.summary(), highlight=False, soft_wrap=True)


@contextmanager
def counting_bar(
    description: str,
    *,
    total: int | None = None,
    unit: str = "items",
    console: Console | None = None,
    enabled: bool = True,
    summary: bool = True,
) -> Iterator[Advance]:
    """Like :func:`progress_bar`, yielding ``advance(n=1)`` for loops that count as they go."""
    with progress_bar(
        description, total=total, unit=unit, console=console, enabled=enabled, summary=summary
    ) as on_progress:
        done = 0

        def advance(n: int = 1) -> None:
            nonlocal done
            done += n
            on_progress(done, total)

        yield advance
