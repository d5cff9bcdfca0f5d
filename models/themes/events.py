"""Outputs of the theme engine: plain frozen dataclasses (mapped to Kafka contracts elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SuggestionPlaced:
    """A suggestion now lives in ``theme_id`` (``None`` = the pool), coming from ``previous_theme_id``.

    ``similarity`` is the cosine to the theme centroid when it joined by nearest centroid,
    ``None`` when placed by a re-cluster or into the pool.
    """

    product: str
    suggestion_id: str
    theme_id: str | None
    previous_theme_id: str | None
    similarity: float | None
    at: datetime


@dataclass(frozen=True)
class ThemeCreated:
    """A new theme was born from pool items (a re-cluster) or split off another theme."""

    product: str
    theme_id: str
    label: str
    keywords: tuple[str, ...]
    member_ids: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class ThemeUpdated:
    """A theme's counts, label or representative changed; ``suggestion_id`` triggered it if any."""

    product: str
    theme_id: str
    member_count: int
    mention_count: int
    author_count: int
    label: str
    representative_id: str | None
    suggestion_id: str | None
    at: datetime


@dataclass(frozen=True)
class ThemeMerged:
    """Themes ``old_ids`` were folded into ``new_id``.

    Whoever asked under an old id now follows ``new_id``.
    """

    product: str
    old_ids: tuple[str, ...]
    new_id: str
    at: datetime


@dataclass(frozen=True)
class ThemeSplit:
    """Theme ``old_id`` split: it keeps its id for the largest part, ``new_ids`` are the parts split off.

    ``moved_ids`` maps each new id to the suggestion ids (among the theme's sampled members)
    that moved to it; members not listed stay under ``old_id``.
    """

    product: str
    old_id: str
    new_ids: tuple[str, ...]
    moved_ids: tuple[tuple[str, tuple[str, ...]], ...]
    at: datetime


ThemeEvent = SuggestionPlaced | ThemeCreated | ThemeUpdated | ThemeMerged | ThemeSplit
