"""Re-cluster planning: UMAP + HDBSCAN over pool items and sampled theme members (complete
linkage for small inputs), then a mapping of clusters to existing theme ids by member overlap
(Hungarian matching).

:func:`plan_recluster` is pure: arrays in, a :class:`ReclusterPlan` out; the engine applies it.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import hdbscan
import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import PCA

from models.themes.agreement import catch_all_split, disagreement
from models.themes.config import ThemeConfig
from models.themes.emerging import complete_linkage_groups

logger = logging.getLogger(__name__)

_PCA_FIT_ROWS = 5_000


@dataclass
class ReclusterPlan:
    """What a re-cluster decided, in indices of the input rows.

    - ``joins``: pool row -> existing theme id it joins.
    - ``merges``: theme id -> theme id it is folded into (never chained).
    - ``new_themes``: rows of each new theme; ``new_origins[i]`` is the theme it splits off
      (its sampled members among the rows move) or ``None`` for a theme born in the pool.
    - ``moves``: sampled member rows of one theme that move to another existing theme
      (at least ``min_cluster_size`` of them landed in that theme's cluster).
    - ``guarded``: themes split by the catch-all guard (their split is among ``new_themes``).
    """

    joins: dict[int, str] = field(default_factory=dict)
    merges: dict[str, str] = field(default_factory=dict)
    new_themes: list[list[int]] = field(default_factory=list)
    moves: list[tuple[list[int], str]] = field(default_factory=list)
    new_origins: list[str | None] = field(default_factory=list)
    guarded: list[str] = field(default_factory=list)
    n_clusters: int = 0


def reduce_dimensions(vectors: npt.NDArray[np.float32], config: ThemeConfig) -> npt.NDArray[np.float64]:
    """The space HDBSCAN clusters ``(n, dim)`` unit rows in: UMAP's (``config.reduction ==
    "umap"`` and at least ``config.umap_min_rows`` rows), else :func:`pca_reduce`'s.
    """
    if config.reduction == "umap" and len(vectors) >= config.umap_min_rows:
        return umap_reduce(vectors, config)
    return pca_reduce(vectors, config)


def nearest_neighbours(
    vectors: npt.NDArray[np.float32], k: int, *, block: int = 2048
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Exact ``k`` nearest rows of each ``(n, dim)`` unit row by cosine (itself first), as indices
    and cosine distances ``1 - cos``, nearest first; blocks of ``block`` rows bound the memory.
    """
    n = len(vectors)
    k = min(k, n)
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block):
        sims = vectors[start : start + block] @ vectors.T
        rows = np.arange(len(sims))
        sims[rows, start + rows] = np.inf  # a row is its own nearest neighbour, whatever the rounding
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        part_sims = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-part_sims, axis=1, kind="stable")
        indices[start : start + block] = np.take_along_axis(part, order, axis=1)
        nearest = np.minimum(np.take_along_axis(part_sims, order, axis=1), 1.0)
        distances[start : start + block] = np.maximum(0.0, 1.0 - nearest)
    return indices, distances


def umap_reduce(vectors: npt.NDArray[np.float32], config: ThemeConfig) -> npt.NDArray[np.float64]:
    """UMAP of ``(n, dim)`` unit rows to ``config.umap_dims`` dimensions (cosine, seeded).

    UMAP keeps each row's neighbourhood (``config.umap_neighbors`` nearest rows) and lets the
    dense regions of the product's own asks pull apart, which is what HDBSCAN's density
    estimate needs. The neighbours are computed exactly here (a few seconds for 10,000 rows)
    rather than by UMAP's approximate search, whose compilation costs half a minute in each new
    process. Imported on first use: the worker does not load numba until a re-cluster needs it.
    """
    import umap  # noqa: PLC0415 (numba loads only when a re-cluster is large enough to need it)

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    neighbours = min(config.umap_neighbors, len(vectors) - 1)
    indices, distances = nearest_neighbours(vectors, neighbours)
    reducer = umap.UMAP(
        n_neighbors=neighbours,
        n_components=config.umap_dims,
        metric="cosine",
        min_dist=0.0,
        random_state=config.seed,
        precomputed_knn=(indices, distances, None),
    )
    with warnings.catch_warnings():
        # "n_jobs overridden by random_state" and the like: seeded means one thread, by design.
        warnings.simplefilter("ignore")
        reduced = reducer.fit_transform(vectors)
    return np.asarray(reduced, dtype=np.float64)


def pca_reduce(vectors: npt.NDArray[np.float32], config: ThemeConfig) -> npt.NDArray[np.float64]:
    """Center, PCA to ``config.pca_dims`` (whitened if set) and L2-normalize ``(n, dim)`` rows.

    Euclidean distance between unit rows is monotone in their cosine, so HDBSCAN's default
    metric then behaves like a cosine one.
    """
    n, dim = vectors.shape
    # About 20 rows per kept dimension keep the covariance (and whitening) estimate stable.
    k = max(2, min(config.pca_dims, n // 20, dim))
    data = vectors.astype(np.float64)
    # The top components are estimated well from a few thousand rows: fit on an even subsample.
    fit_rows = data[:: max(1, n // _PCA_FIT_ROWS)]
    pca = PCA(n_components=k, whiten=config.pca_whiten, random_state=config.seed).fit(fit_rows)
    reduced = pca.transform(data)
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: npt.NDArray[np.float64] = reduced / norms
    return out


def cluster_labels(vectors: npt.NDArray[np.float32], config: ThemeConfig) -> npt.NDArray[np.int64]:
    """Cluster labels (``-1`` = noise) of ``(n, dim)`` unit rows: HDBSCAN in
    :func:`reduce_dimensions`' space, or for a small re-cluster (fewer than ``umap_min_rows``
    rows, ``small_clustering == "linkage"``) :func:`linkage_labels` in the rows' own space.
    """
    n = len(vectors)
    if n < 2 * config.min_cluster_size:
        return np.full(n, -1, dtype=np.int64)
    if config.reduction == "umap" and n < config.umap_min_rows and config.small_clustering == "linkage":
        return linkage_labels(vectors, config)
    reduced = reduce_dimensions(vectors, config)
    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=config.min_cluster_size,
        min_samples=min(config.min_samples, n - 1),
        cluster_selection_method=config.cluster_selection,
        core_dist_n_jobs=1,
    )
    return np.asarray(clusterer.fit_predict(reduced), dtype=np.int64)


def linkage_labels(vectors: npt.NDArray[np.float32], config: ThemeConfig) -> npt.NDArray[np.int64]:
    """Complete-linkage groups of ``(n, dim)`` unit rows whose every pair has cosine at least
    ``config.linkage_level``, labelled ``0, 1, ...`` in order of their first row when they hold
    ``min_cluster_size`` rows, ``-1`` otherwise.

    A small product's re-cluster: HDBSCAN's density estimate needs few dimensions, and PCA keeps
    about one per 20 rows, where a small product's many small ideas collapse onto what all its
    asks share (the demo sample's hiking app: asks for trail-condition reports, kid-friendly
    filters, geotagged photos and live tracking founded one theme of 20 asks). Complete linkage
    needs no projection, and no row of a group is far from any other, so a chain of neighbours
    never founds a theme (docs/benchmarks.md, "Small products").
    """
    labels = np.full(len(vectors), -1, dtype=np.int64)
    groups = complete_linkage_groups(vectors, config.linkage_level)
    for label, rows in enumerate(rows for rows in groups if len(rows) >= config.min_cluster_size):
        labels[rows] = label
    return labels


def coherent_rows(vectors: npt.NDArray[np.float32], rows: list[int], threshold: float) -> list[int]:
    """Rows of a candidate theme whose cosine to the rows' mean direction is >= ``threshold``.

    A theme born in the pool keeps only rows that are "probably the same idea" as its
    centre (``found_threshold``), so a loose low-density cluster of different ideas does
    not become a theme.
    """
    if not rows:
        return rows
    block = vectors[rows]
    centre = block.sum(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-12)
    sims = block @ centre
    return [r for r, s in zip(rows, sims, strict=True) if s >= threshold]


def plan_recluster(
    *,
    vectors: npt.NDArray[np.float32],
    owners: list[str | None],
    config: ThemeConfig,
) -> ReclusterPlan:
    """Cluster ``(n, dim)`` unit ``vectors`` and map clusters to themes.

    ``owners[i]`` is the theme id of row ``i`` (a sampled member) or ``None`` (a pool item).
    Rules: clusters and themes are matched one-to-one maximizing shared members (Hungarian);
    a matched cluster keeps its theme's id and its pool rows join it; an unmatched theme
    with at least ``merge_fraction`` of its rows in a matched cluster merges into that
    cluster's theme; an unmatched cluster holding at least ``min_cluster_size`` of a matched
    theme's rows splits off as a new theme (with the cluster's pool rows); ``min_cluster_size``
    rows of a theme in a cluster matched to another theme move there (both only for a theme
    whose members disagree, with ``split_disagreeing_only``); an unmatched cluster with
    ``min_cluster_size`` coherent pool rows becomes a new theme of those rows. Last, the
    catch-all guard: a theme untouched by these rules whose sampled rows stop agreeing
    (:func:`models.themes.agreement.catch_all_split`) splits off its smaller part.
    """
    labels = cluster_labels(vectors, config)
    plan = ReclusterPlan(n_clusters=int(labels.max()) + 1 if len(labels) else 0)
    if plan.n_clusters == 0:
        _guard_catch_alls(plan, vectors=vectors, owners=owners, config=config)
        return plan
    theme_ids = sorted({o for o in owners if o is not None})
    column = {tid: j for j, tid in enumerate(theme_ids)}
    overlap = np.zeros((plan.n_clusters, len(theme_ids)), dtype=np.int64)
    theme_size = np.zeros(len(theme_ids), dtype=np.int64)
    for label, owner in zip(labels, owners, strict=True):
        if owner is not None:
            theme_size[column[owner]] += 1
            if label >= 0:
                overlap[label, column[owner]] += 1
    cluster_theme: dict[int, str] = {}
    if theme_ids:
        rows, cols = linear_sum_assignment(-overlap)
        for r, c in zip(rows, cols, strict=True):
            if overlap[r, c] > 0:
                cluster_theme[int(r)] = theme_ids[int(c)]
    matched_themes = set(cluster_theme.values())
    for j, tid in enumerate(theme_ids):
        if tid in matched_themes or theme_size[j] == 0:
            continue
        best = int(np.argmax(overlap[:, j]))
        if best in cluster_theme and overlap[best, j] >= config.merge_fraction * theme_size[j]:
            plan.merges[tid] = cluster_theme[best]
    pool_rows: dict[int, list[int]] = {}
    theme_rows: dict[tuple[int, str], list[int]] = {}
    for i, (label, owner) in enumerate(zip(labels, owners, strict=True)):
        if label < 0:
            continue
        if owner is None:
            pool_rows.setdefault(int(label), []).append(i)
        else:
            theme_rows.setdefault((int(label), owner), []).append(i)
    splittable = _splittable(vectors, owners, theme_ids, config)
    for cluster in range(plan.n_clusters):
        if cluster in cluster_theme:
            target = cluster_theme[cluster]
            for i in pool_rows.get(cluster, []):
                plan.joins[i] = target
            for tid in theme_ids:
                moved = theme_rows.get((cluster, tid), [])
                if (
                    tid != target
                    and tid in matched_themes
                    and tid in splittable
                    and len(moved) >= config.min_cluster_size
                ):
                    plan.moves.append((moved, target))
            continue
        origin: str | None = None
        if theme_ids:
            j = int(np.argmax(overlap[cluster]))
            share = overlap[cluster, j]
            tid = theme_ids[j]
            if share >= config.min_cluster_size and tid in matched_themes and tid in splittable:
                origin = tid
        rows_of = list(pool_rows.get(cluster, []))
        if origin is not None:
            rows_of += theme_rows.get((cluster, origin), [])
            plan.new_themes.append(sorted(rows_of))
            plan.new_origins.append(origin)
        else:
            rows_of = coherent_rows(vectors, rows_of, config.found_threshold)
            if len(rows_of) >= config.min_cluster_size:
                plan.new_themes.append(rows_of)
                plan.new_origins.append(None)
    _guard_catch_alls(plan, vectors=vectors, owners=owners, config=config)
    logger.debug(
        "recluster: %d rows, %d clusters, %d joins, %d merges, %d new",
        len(labels),
        plan.n_clusters,
        len(plan.joins),
        len(plan.merges),
        len(plan.new_themes),
    )
    return plan


def _splittable(
    vectors: npt.NDArray[np.float32], owners: list[str | None], theme_ids: list[str], config: ThemeConfig
) -> set[str]:
    """Themes whose sampled rows a cluster may split off or move: every theme, or with
    ``config.split_disagreeing_only`` those whose members disagree (the catch-all guard's measure,
    :func:`models.themes.agreement.disagreement`).
    """
    if not config.split_disagreeing_only:
        return set(theme_ids)
    return {
        theme_id
        for theme_id, rows in _rows_by_theme(owners).items()
        if disagreement(vectors[rows], config.found_threshold) > config.max_disagreement
    }


def _rows_by_theme(owners: list[str | None]) -> dict[str, list[int]]:
    """Row indices of each theme's sampled members (pool rows, owner ``None``, left out)."""
    rows_of: dict[str, list[int]] = {}
    for i, owner in enumerate(owners):
        if owner is not None:
            rows_of.setdefault(owner, []).append(i)
    return rows_of


def _guard_catch_alls(
    plan: ReclusterPlan, *, vectors: npt.NDArray[np.float32], owners: list[str | None], config: ThemeConfig
) -> None:
    """Add a split to ``plan`` for each theme that fails the catch-all guard and that no other
    rule of this re-cluster touches (merged, split or losing members).
    """
    busy = set(plan.merges) | set(plan.merges.values()) | {o for o in plan.new_origins if o is not None}
    for rows, _ in plan.moves:
        busy.update(owner for owner in (owners[i] for i in rows) if owner is not None)
    idle = {theme_id: rows for theme_id, rows in _rows_by_theme(owners).items() if theme_id not in busy}
    for theme_id, rows in sorted(idle.items()):
        part = catch_all_split(vectors[rows], config)
        if part is not None:
            plan.new_themes.append(sorted(rows[i] for i in part))
            plan.new_origins.append(theme_id)
            plan.guarded.append(theme_id)
