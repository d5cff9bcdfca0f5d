"""Working time between two instants under a :class:`~contracts.dialogue.ServiceLevel`.

Working time is the part of ``[start, end)`` that falls inside the working hours: from
``work_start`` to ``work_end`` local clock time in the level's time zone, on its ISO weekdays.
Local times go through :mod:`zoneinfo`, so a working day on which the clocks change is as long
as the wall clock says (an hour shorter or longer only when the change falls inside the hours).
A span of many weeks is counted by whole local weeks (each worth :func:`weekly_seconds`) plus
the days left over, so the cost is bounded whatever the span.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from contracts.dialogue import ServiceLevel

WHOLE_WEEKS_AFTER = timedelta(days=14)
"""Spans longer than this skip whole local weeks at a time."""


@lru_cache(maxsize=64)
def zone_of(name: str) -> zoneinfo.ZoneInfo:
    """The time zone named ``name`` (an IANA name), loaded once."""
    return zoneinfo.ZoneInfo(name)


def _window(day: date, level: ServiceLevel, zone: zoneinfo.ZoneInfo) -> tuple[datetime, datetime] | None:
    """The working hours of local ``day`` in UTC, or None on a day off."""
    if day.isoweekday() not in level.workdays:
        return None
    opens = datetime.combine(day, level.work_start, tzinfo=zone).astimezone(UTC)
    closes = datetime.combine(day, level.work_end, tzinfo=zone).astimezone(UTC)
    return opens, closes


def weekly_seconds(level: ServiceLevel) -> float:
    """Working seconds in a week without clock changes."""
    start = level.work_start.hour * 3600 + level.work_start.minute * 60 + level.work_start.second
    end = level.work_end.hour * 3600 + level.work_end.minute * 60 + level.work_end.second
    return float(len(level.workdays) * (end - start))


def working_seconds(start: datetime, end: datetime, *, level: ServiceLevel) -> float:
    """Seconds of working time in ``[start, end)`` (aware datetimes); 0 when ``end <= start``."""
    if end <= start:
        return 0.0
    zone = zone_of(level.timezone)
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    total = 0.0
    if end_utc - start_utc > WHOLE_WEEKS_AFTER:
        weeks = (end_utc - start_utc).days // 7 - 1
        local = start_utc.astimezone(zone)
        moved = (local.replace(tzinfo=None) + timedelta(weeks=weeks)).replace(tzinfo=zone)
        total += weeks * weekly_seconds(level)
        start_utc = moved.astimezone(UTC)
    day = start_utc.astimezone(zone).date() - timedelta(days=1)  # a window may open the local day before
    last = end_utc.astimezone(zone).date()
    while day <= last:
        window = _window(day, level, zone)
        if window is not None:
            opens, closes = max(window[0], start_utc), min(window[1], end_utc)
            if closes > opens:
                total += (closes - opens).total_seconds()
        day += timedelta(days=1)
    return total

