"""The catch-all guard: a theme whose members stop agreeing is split at the next re-cluster.

A theme grows by online joins and provisional joins, each judged against its centroid at the
time; a run of joins can drag the centroid between two ideas until the theme holds both (a
catch-all). Its *disagreement* is the share of its sampled members whose cosine to the
sample's mean direction is below ``found_threshold`` (the level a theme is founded at: "probably
the same idea"). A theme fails when more than ``max_disagreement`` of its members disagree AND
its sample falls into two parts (2-means) that each agree on their own (disagreement at most
``max_disagreement``), each hold ``min_cluster_size`` members, and whose centres are further
apart than ``merge_similarity`` (so the next re-cluster would not merge them back). A loose but
single idea has no such two parts; its members are far from the centre in every direction.

Pure: arrays in, row indices out.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from models.themes.config import ThemeConfig


def _unit(vector: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return out


def disagreement(vectors: npt.NDArray[np.float32], floor: float) -> float:
    """Share of ``(n, dim)`` unit rows whose cosine to the rows' mean direction is below ``floor``."""
    if len(vectors) == 0:
        return 0.0
    centre = _unit(vectors.astype(np.float64).sum(axis=0))
    return float(np.mean(vectors.astype(np.float64) @ centre < floor))


def two_means(vectors: npt.NDArray[np.float32], *, seed: int, rounds: int = 20) -> npt.NDArray[np.int64]:
    """Spherical 2-means labels (0/1) of ``(n, dim)`` unit rows, seeded by the two rows furthest
    apart from a seeded start (deterministic).
    """
    data = vectors.astype(np.float64)
    start = int(np.random.default_rng(seed).integers(len(data)))
    first = int(np.argmin(data @ data[start]))
    second = int(np.argmin(data @ data[first]))
    centres = np.stack([data[first], data[second]])
    labels = np.zeros(len(data), dtype=np.int64)
    for _ in range(rounds):
        new = np.asarray(np.argmax(data @ centres.T, axis=1), dtype=np.int64)
        if np.array_equal(new, labels) and _ > 0:
            break
        labels = new
        for k in (0, 1):
            if np.any(labels == k):
                centres[k] = _unit(data[labels == k].sum(axis=0))
    return labels


def catch_all_split(vectors: npt.NDArray[np.float32], config: ThemeConfig) -> list[int] | None:
    """Rows of ``(n, dim)`` unit sampled members of one theme to split off, or ``None`` if the
    theme passes the guard (see the module docstring). The part split off is the smaller one
    (the theme keeps its id with the larger).
    """
    floor = config.found_threshold
    if len(vectors) < 2 * config.min_cluster_size or disagreement(vectors, floor) <= config.max_disagreement:
        return None
    labels = two_means(vectors, seed=config.seed)
    parts = [np.flatnonzero(labels == k) for k in (0, 1)]
    if min(len(p) for p in parts) < config.min_cluster_size:
        return None
    if any(disagreement(vectors[p], floor) > config.max_disagreement for p in parts):
        return None
    centres = [_unit(vectors[p].astype(np.float64).sum(axis=0)) for p in parts]
    if float(centres[0] @ centres[1]) >= config.merge_similarity:
        return None
    smaller = min(parts, key=len)
    return [int(i) for i in smaller]
