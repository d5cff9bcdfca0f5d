"""Parameter types of the read routes: every value they admit is one the read model can be asked
about, so a hostile query or path value is a 422 in the error shape, never a 500.

* Text (a product, words, an id) holds no NUL: PostgreSQL text cannot, and its driver raises.
* A platform is one of :class:`~contracts.events.Platform` (it names a JSON key of the
  theme's per-platform counts; an arbitrary string made SQLite's JSON path fail).
* An instant is RFC 3339 with an offset that still falls within years 1 to 9999 once in UTC
  (``0001-01-01T00:00:00+14:00`` does not: its conversion overflows).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator

from api.common import Instant

NO_NUL = r"^[^\x00]*$"
"""Text a read-model column can hold (no NUL)."""


def _in_utc(value: datetime) -> datetime:
    """``value`` in UTC; refused when UTC has no such year (before 1 or after 9999)."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the instant falls outside the years 1 to 9999 in UTC") from None


ProductParam = Annotated[str | None, Query(max_length=256, pattern=NO_NUL)]
"""An optional product filter."""
WordsParam = Annotated[
    str | None, Query(max_length=200, pattern=NO_NUL, description="Words the theme must contain.")
]
"""Words a theme's text must contain."""
UtcInstant = Annotated[Instant, AfterValidator(_in_utc)]
"""An RFC 3339 date-time with an offset, turned to UTC (422 when UTC cannot hold it)."""
ReadThemeId = Annotated[str, Path(min_length=1, max_length=256, pattern=NO_NUL)]
"""A theme id in a read route's path."""
SuggestionId = Annotated[str, Path(min_length=1, max_length=256, pattern=NO_NUL)]
"""A suggestion id in a route's path."""
