"""Themes that may be one idea: pairs of a product's live themes whose centres are close, for a
product manager to merge or to keep apart.

The engine merges two themes by itself only on strong evidence: their centres at
``merge_similarity`` (0.80, each would join the other online), or a re-cluster finding most of one
theme's members in the other's cluster, or an emerging theme whose every member passes the
founding test with its neighbour. Below that it keeps them apart, precision first: a wrong merge
puts asks of two ideas under one title and one closure. Two themes of one idea worded differently
("battery saver mode", "low power tracking mode") often sit between, their centres at 0.60-0.80,
as close as neighbouring ideas of one screen do ("trail condition reports", "trail filters"); a
cosine does not tell them apart, a person reading both does.

So the pairs at :data:`REVIEW_FLOOR` or more (0.60, "possibly the same idea": the paraphrase
level of the duplicate review band, :mod:`models.themes.config`) are listed closest first, each
once, except the pairs a product manager kept apart. Pure: the caller passes centres and decisions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

REVIEW_FLOOR = 0.60
"""Centre cosine from which two themes are listed as possibly one idea."""
_ROWS = 1_024  # centres compared at a time: a product of 10,000 themes never holds its whole matrix


@dataclass(frozen=True)
class ThemePair:
    """Two live themes that may be one idea: ``into`` is the one a merge keeps (more people, then
    more asks, then the smaller id), ``other`` the one it folds in; ``similarity`` the cosine of
    their centres.
    """

    into: str
    other: str
    similarity: float


def pair_key(first: str, second: str) -> frozenset[str]:
    """The unordered key of two theme ids (a decision about a pair holds either way round)."""
    return frozenset((first, second))


def close_pairs(
    theme_ids: Sequence[str],
    centres: npt.NDArray[np.float32],
    *,
    sizes: Mapping[str, tuple[int, int]],
    apart: Collection[frozenset[str]] = (),
    floor: float = REVIEW_FLOOR,
    limit: int = 20,
) -> list[ThemePair]:
    """The ``limit`` closest pairs of ``theme_ids`` whose unit ``centres`` ``(n, dim)`` are at
    ``floor`` or more, closest first, leaving out the pairs in ``apart`` (:func:`pair_key`).

    ``sizes`` gives each theme's ``(people, asks)``, which decides which of the two a merge keeps.
    """
    if len(theme_ids) != len(centres):
        raise ValueError("one centre per theme id")
    if limit <= 0 or len(theme_ids) < 2:
        return []
    matrix = np.asarray(centres, dtype=np.float32)
    found: list[tuple[float, int, int]] = []
    for start in range(0, len(theme_ids), _ROWS):
        block = matrix[start : start + _ROWS] @ matrix.T
        rows, cols = np.nonzero(block >= floor)
        for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + row
            if col <= i or pair_key(theme_ids[i], theme_ids[col]) in apart:
                continue
            found.append((float(block[row, col]), i, col))
        if len(found) > 4 * limit:  # keep the closest: a product of many near themes stays cheap
            found.sort(key=lambda hit: (-hit[0], hit[1], hit[2]))
            del found[limit:]
    found.sort(key=lambda hit: (-hit[0], hit[1], hit[2]))
    pairs = []
    for similarity, i, j in found[:limit]:
        first, second = theme_ids[i], theme_ids[j]
        rank_first = (*(-n for n in sizes.get(first, (0, 0))), first)
        rank_second = (*(-n for n in sizes.get(second, (0, 0))), second)
        into, other = (first, second) if rank_first <= rank_second else (second, first)
        pairs.append(ThemePair(into=into, other=other, similarity=round(similarity, 4)))
    return pairs


def kept_apart(decisions: Sequence[tuple[str, str]]) -> set[frozenset[str]]:
    """The pairs a product manager kept apart, from ``(theme_id, detail)`` of their history
    entries (``apart_from=t-1,t-2``: the themes this one was kept apart from).
    """
    pairs: set[frozenset[str]] = set()
    for theme_id, detail in decisions:
        for part in detail.split(", "):
            name, _, value = part.partition("=")
            if name == "apart_from":
                others = (other for other in value.split(",") if other and other != theme_id)
                pairs.update(pair_key(theme_id, other) for other in others)
    return pairs
