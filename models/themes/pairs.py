"""Themes that may be one idea: pairs of a product's live themes a product manager may merge or
keep apart.

The engine merges two themes by itself only on strong evidence: their centres at
``merge_similarity`` (0.85, closer than an ask to its own centre), or a re-cluster finding most of one
theme's members in the other's cluster, or an emerging theme whose every member passes the
founding test with its neighbour. Below that it keeps them apart, precision first: a wrong merge
puts asks of two ideas under one title and one closure. Two themes of one idea worded differently
("battery saver mode", "low power tracking mode") often sit between, their centres at 0.60-0.85.

A centre cosine alone does not find them: neighbouring ideas of one domain sit as close. On the
intent sets (``benchmarks/theme_pairs.py``, 5 shuffled orders) 8% (banking77 test) and 17% (hwu64
test) of the pairs of final themes with centres at 0.60 or more hold one intent twice. What tells
an idea split in two from two neighbouring ideas better is where the askers would go: for a split
idea, most members of each theme have the other theme as their nearest theme besides their own;
for a neighbour of several ideas, its members spread over them. So a pair is listed when its
centres are at :data:`REVIEW_FLOOR` or more (0.60, "possibly the same idea": the paraphrase level
of the duplicate review band, :mod:`models.themes.config`) and its members are mutual neighbours,
:data:`MUTUAL` (a majority) on average over the two themes: then 46% (banking77) and 24% (hwu64)
of the pairs listed hold one intent twice, 54% and 22% of the first ten. Most mutual first, each
pair once, except the pairs a product manager kept apart. Pure: the caller passes vectors and
decisions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.embedding import l2_normalize
from models.themes.alone import theme_centres

REVIEW_FLOOR = 0.60
"""Centre cosine from which two themes may be listed as possibly one idea."""
MUTUAL = 0.5
"""Share of their members, on average over the two themes, whose nearest other theme is the
partner, from which two themes are listed: most of each would go to the other."""
_ROWS = 1_024  # rows compared at a time: a product of 10,000 themes never holds its whole matrix


@dataclass(frozen=True)
class ThemePair:
    """Two live themes that may be one idea: ``into`` is the one a merge keeps (more people, then
    more asks, then the smaller id), ``other`` the one it folds in; ``similarity`` the cosine of
    their centres, ``mutual`` how far their members are each other's neighbours
    (:func:`mutual_shares`, the mean of the two shares).
    """

    into: str
    other: str
    similarity: float
    mutual: float = 0.0


def pair_key(first: str, second: str) -> frozenset[str]:
    """The unordered key of two theme ids (a decision about a pair holds either way round)."""
    return frozenset((first, second))


def close_pairs(
    member_themes: Sequence[str],
    member_vectors: npt.NDArray[np.float32],
    *,
    sizes: Mapping[str, tuple[int, int]],
    apart: Collection[frozenset[str]] = (),
    floor: float = REVIEW_FLOOR,
    mutual: float = MUTUAL,
    limit: int = 20,
) -> list[ThemePair]:
    """The ``limit`` pairs of themes most likely one idea, from their members: ``member_themes``
    names the theme of each row of ``member_vectors`` ``(n, dim)``.

    A pair is listed when its centres are at ``floor`` or more and its members are mutual
    neighbours (:func:`mutual_shares`) at ``mutual`` or more; closest first by that share, then
    by the centres' cosine. Pairs in ``apart`` (:func:`pair_key`) are left out. ``sizes`` gives
    each theme's ``(people, asks)``, which decides which of the two a merge keeps.
    """
    if len(member_themes) != len(member_vectors):
        raise ValueError("one theme id per member vector")
    theme_ids, centres = theme_centres(member_themes, np.asarray(member_vectors, dtype=np.float32))
    if limit <= 0 or len(theme_ids) < 2:
        return []
    candidates: dict[tuple[int, int], float] = {}
    for start in range(0, len(theme_ids), _ROWS):
        block = centres[start : start + _ROWS] @ centres.T
        rows, cols = np.nonzero(block >= floor)
        for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + row
            if col > i and pair_key(theme_ids[i], theme_ids[col]) not in apart:
                candidates[(i, col)] = float(block[row, col])
    if not candidates:
        return []
    shares = mutual_shares(member_themes, member_vectors, theme_ids, centres, set().union(*candidates))
    scored = []
    for (i, j), similarity in candidates.items():
        share = (shares.get((i, j), 0.0) + shares.get((j, i), 0.0)) / 2
        if share >= mutual:
            scored.append((round(share, 4), round(similarity, 4), i, j))
    scored.sort(key=lambda hit: (-hit[0], -hit[1], hit[2], hit[3]))
    pairs = []
    for share, similarity, i, j in scored[:limit]:
        first, second = theme_ids[i], theme_ids[j]
        rank_first = (*(-n for n in sizes.get(first, (0, 0))), first)
        rank_second = (*(-n for n in sizes.get(second, (0, 0))), second)
        into, other = (first, second) if rank_first <= rank_second else (second, first)
        pairs.append(ThemePair(into=into, other=other, similarity=similarity, mutual=share))
    return pairs


def mutual_shares(
    member_themes: Sequence[str],
    member_vectors: npt.NDArray[np.float32],
    theme_ids: Sequence[str],
    centres: npt.NDArray[np.float32],
    themes: Collection[int],
) -> dict[tuple[int, int], float]:
    """For the themes at positions ``themes`` of ``theme_ids``: ``(a, b) -> share`` of theme
    ``a``'s members whose nearest centre other than their own theme's is theme ``b``'s.
    """
    position = {theme_id: k for k, theme_id in enumerate(theme_ids)}
    rows = [n for n, theme_id in enumerate(member_themes) if position[theme_id] in themes]
    vectors = l2_normalize(np.asarray(member_vectors, dtype=np.float32)[rows])
    own = np.array([position[member_themes[n]] for n in rows], dtype=np.int64)
    counts: dict[tuple[int, int], int] = {}
    totals: dict[int, int] = {}
    for start in range(0, len(rows), _ROWS):
        sims = vectors[start : start + _ROWS] @ centres.T
        mine = own[start : start + _ROWS]
        sims[np.arange(len(mine)), mine] = -np.inf
        for theme, nearest in zip(mine.tolist(), sims.argmax(axis=1).tolist(), strict=True):
            counts[(theme, nearest)] = counts.get((theme, nearest), 0) + 1
            totals[theme] = totals.get(theme, 0) + 1
    return {(a, b): n / totals[a] for (a, b), n in counts.items()}


def kept_apart(
    decisions: Sequence[tuple[str, str]], merged_into: Mapping[str, str] | None = None
) -> set[frozenset[str]]:
    """The pairs a product manager kept apart, from ``(theme_id, detail)`` of their history
    entries (``apart_from=t-1,t-2``: the themes this one was kept apart from).

    ``merged_into`` maps a merged theme to the theme that absorbed it: a decision about a theme
    merged away since holds for the theme that holds its asks now, as the engine keeps it
    (a pair whose two sides ended in one theme is no pair).
    """
    moved = merged_into or {}

    def holder(theme_id: str) -> str:
        seen = {theme_id}
        while (nxt := moved.get(theme_id)) is not None and nxt not in seen:
            seen.add(nxt)
            theme_id = nxt
        return theme_id

    pairs: set[frozenset[str]] = set()
    for theme_id, detail in decisions:
        for part in detail.split(", "):
            name, _, value = part.partition("=")
            if name == "apart_from":
                for other in value.split(","):
                    first, second = holder(theme_id), holder(other) if other else ""
                    if second and first != second:
                        pairs.add(pair_key(first, second))
    return pairs
