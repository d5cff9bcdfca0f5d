"""A product's weekly dialogue measures per platform: the threads of a week and their aggregate.

A week's state holds one entry per thread whose first customer message falls in it, replaced
whenever the thread's measures change, so the aggregate is exact (percentiles too) and a
thread counted twice is impossible. Percentiles use the nearest rank: the smallest value with
at least p % of the values at or below it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.dialogue import DialogueThreadMeasured, DialogueWeekMeasured, ServiceLevel
from contracts.events import Platform


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank ``p``-th percentile (0 < p <= 100) of ``values``; None when empty."""
    if not values:
        return None
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p} is not in (0, 100]")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def week_key_of(product: str, platform: Platform, week: str) -> str:
    """``product:platform:week``: the key of a week in the tables and on ``feedback.dialogue-weeks``."""
    return f"{product}:{platform.value}:{week}"


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    """What a week keeps of one thread."""

    response_s: float | None
    working_response_s: float | None
    within: bool
    escalated: bool

    @classmethod
    def of(cls, measured: DialogueThreadMeasured) -> ThreadEntry:
        return cls(
            response_s=measured.response_s,
            working_response_s=measured.working_response_s,
            within=bool(measured.within_service_level),
            escalated=measured.escalated,
        )

    @property
    def answered(self) -> bool:
        return self.response_s is not None

    def to_list(self) -> list[Any]:
        return [self.response_s, self.working_response_s, self.within, self.escalated]

    @classmethod
    def from_list(cls, data: list[Any]) -> ThreadEntry:
        response, working, within, escalated = data
        return cls(
            response_s=None if response is None else float(response),
            working_response_s=None if working is None else float(working),
            within=bool(within),
            escalated=bool(escalated),
        )


def with_thread(
    week: dict[str, ThreadEntry], thread_key: str, entry: ThreadEntry | None
) -> dict[str, ThreadEntry]:
    """``week`` with the thread's entry set (None: the thread left this week)."""
    changed = dict(week)
    if entry is None:
        changed.pop(thread_key, None)
    else:
        changed[thread_key] = entry
    return changed


def aggregate_week(
    entries: dict[str, ThreadEntry],
    *,
    product: str,
    platform: Platform,
    week: str,
    level: ServiceLevel,
    now: datetime,
) -> DialogueWeekMeasured:
    """The week's measures from its threads' entries."""
    values = list(entries.values())
    answered = [e for e in values if e.answered]
    responses = [e.response_s for e in answered if e.response_s is not None]
    working = [e.working_response_s for e in answered if e.working_response_s is not None]
    within = sum(1 for e in answered if e.within)
    escalated = sum(1 for e in answered if e.escalated)
    closed = len(answered) - escalated
    return DialogueWeekMeasured(
        key=week_key_of(product, platform, week),
        product=product,
        platform=platform,
        week=week,
        threads=len(values),
        answered=len(answered),
        within_service_level=within,
        escalated=escalated,
        closed_without_escalation=closed,
        share_within_service_level=within / len(values) if values else None,
        share_closed_without_escalation=closed / len(answered) if answered else None,
        response_p50_s=percentile(responses, 50),
        response_p90_s=percentile(responses, 90),
        working_response_p50_s=percentile(working, 50),
        working_response_p90_s=percentile(working, 90),
        service_level=level,
        measured_at=now,
    )


def week_to_dict(entries: dict[str, ThreadEntry]) -> dict[str, list[Any]]:
    """A JSON-able form for a table."""
    return {key: entry.to_list() for key, entry in entries.items()}


def week_from_dict(data: dict[str, Any] | None) -> dict[str, ThreadEntry]:
    """Read :func:`week_to_dict`'s form back (None: an empty week)."""
    return {key: ThreadEntry.from_list(value) for key, value in (data or {}).items()}
