"""Date arithmetic that holds for every valid ISO date, year 1 to year 9999 at any offset.

A comment's ``created_at`` is as sent: ``0001-01-01T00:00:00+14:00`` is a valid aware datetime
whose UTC form, or whose value minus a day, is outside Python's calendar. Ingest refuses such
dates, but a record produced straight to a later topic must not stop a stage either.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def minus(when: datetime, delta: timedelta) -> datetime:
    """``when - delta``, clamped to the calendar's first or last instant (in ``when``'s zone, or UTC)."""
    try:
        return when - delta
    except OverflowError:
        return EARLIEST if delta > timedelta(0) else LATEST


def as_utc(when: datetime) -> datetime:
    """``when`` in UTC, clamped to the first or last instant Python can hold (naive = UTC)."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:
        return EARLIEST if when.year == datetime.min.year else LATEST


def iso_week(moment: datetime) -> str:
    """ISO week label like ``2026-W48`` (a four-digit year, ``0001-W01`` too) of an aware datetime."""
    year, week, _ = moment.isocalendar()
    return f"{year:04d}-W{week:02d}"


def month_label(moment: datetime) -> str:
    """``YYYY-MM`` of ``moment`` in UTC (``0001-01`` too; ``strftime`` gives ``1-01`` on Linux)."""
    utc = as_utc(moment)
    return f"{utc.year:04d}-{utc.month:02d}"
