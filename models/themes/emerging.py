"""The long tail: small groups of pool items that agree become emerging themes.

HDBSCAN founds a theme only from ``min_cluster_size`` rows of one dense region; two or three
people asking the same thing in different words never reach that, and would wait in the pool
for ever. :func:`emerging_groups` finds them: complete-linkage groups of pool items whose
every pair has cosine at least ``emerging_threshold``, asked by at least
``emerging_min_authors`` distinct people. Such a group becomes a theme whose status reads
``emerging`` until it holds ``min_cluster_size`` suggestions (:func:`is_emerging`).

Pure: arrays in, row indices out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist

from models.themes.config import ThemeConfig
from models.themes.records import ThemeRecord


def emerging_groups(
    vectors: npt.NDArray[np.float32],
    authors: Sequence[Sequence[str]],
    *,
    threshold: float,
    min_authors: int,
) -> list[list[int]]:
    """Row groups of ``(n, dim)`` unit ``vectors`` whose every pair has cosine >= ``threshold``.

    Complete linkage cut at cosine distance ``1 - threshold``, so no member of a group is
    further than that from any other (a chain of neighbours does not make a group). A group
    needs at least two rows and ``min_authors`` distinct authors (``authors[i]``: the hashed
    authors of row ``i``, duplicates included). Groups come sorted by their first row.
    """
    out = []
    for rows in complete_linkage_groups(vectors, threshold):
        people = {author for row in rows for author in authors[row]}
        if len(rows) >= 2 and len(people) >= min_authors:
            out.append(rows)
    return out


def complete_linkage_groups(vectors: npt.NDArray[np.float32], threshold: float) -> list[list[int]]:
    """Every row of ``(n, dim)`` unit ``vectors`` in one group, each group's every pair at cosine
    >= ``threshold`` (complete linkage cut at cosine distance ``1 - threshold``); singletons
    included, rows ascending, groups sorted by their first row.
    """
    if len(vectors) < 2:
        return [[row] for row in range(len(vectors))]
    distances = np.clip(pdist(vectors.astype(np.float64), metric="cosine"), 0.0, 2.0)
    labels = fcluster(linkage(distances, method="complete"), t=1.0 - threshold, criterion="distance")
    groups: dict[int, list[int]] = {}
    for row, label in enumerate(labels):
        groups.setdefault(int(label), []).append(row)
    return sorted(groups.values())


def is_emerging(theme: ThemeRecord, config: ThemeConfig) -> bool:
    """Whether a live theme is still emerging: fewer than ``min_cluster_size`` suggestions."""
    return theme.member_count < config.min_cluster_size

