"""Per-product state of the theme engine: theme records, pool items and in-memory indexes.

The persisted form is a collection of small records (one per theme, one per pool item,
one ``meta``) so a table layer can key them by product and theme id; the numpy centroid
index is rebuilt from them on load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from models.themes.records import Member, ThemeRecord


@dataclass
class ProductThemes:
    """Themes and pool of one product.

    ``seen`` counts suggestions ever added, ``added_since_recluster`` those since the last
    re-cluster, ``seen_at_recluster`` the value of ``seen`` at the last re-cluster, and
    ``waiting_since_recluster`` the pool items the last re-cluster left waiting their turn (one
    run while suggestions kept arriving does not place the newest asks yet).
    """

    product: str
    dim: int
    themes: dict[str, ThemeRecord] = field(default_factory=dict)
    pool: dict[str, Member] = field(default_factory=dict)
    seen: int = 0
    added_since_recluster: int = 0
    seen_at_recluster: int = 0
    last_recluster_at: datetime | None = None
    waiting_since_recluster: int = 0
    _ids: list[str] = field(default_factory=list, repr=False)
    _row: dict[str, int] = field(default_factory=dict, repr=False)
    _matrix: npt.NDArray[np.float32] | None = field(default=None, repr=False)

    # -- index ---------------------------------------------------------------------------
    def invalidate(self) -> None:
        """Drop the centroid index (rebuilt on next use) after themes were added or removed."""
        self._matrix = None

    def centroid_index(self) -> tuple[list[str], npt.NDArray[np.float32]]:
        """Theme ids and their ``(n_themes, dim)`` float32 unit centroids, rebuilt when stale."""
        if self._matrix is None:
            self._ids = list(self.themes)
            self._row = {theme_id: row for row, theme_id in enumerate(self._ids)}
            matrix = np.zeros((len(self._ids), self.dim), dtype=np.float32)
            for row, theme_id in enumerate(self._ids):
                matrix[row] = self.themes[theme_id].centroid()
            self._matrix = matrix
        return self._ids, self._matrix

    def refresh_centroid(self, theme_id: str) -> None:
        """Update one row of the index after ``theme_id`` gained or lost members (O(dim))."""
        if self._matrix is not None and theme_id in self._row:
            self._matrix[self._row[theme_id]] = self.themes[theme_id].centroid()
        else:
            self._matrix = None

    def nearest(self, vector: npt.NDArray[np.float32]) -> tuple[str | None, float]:
        """Nearest theme id by centroid cosine and that cosine (``(None, -1.0)`` without themes)."""
        ids, matrix = self.centroid_index()
        if not ids:
            return None, -1.0
        sims = matrix @ vector
        best = int(np.argmax(sims))
        return ids[best], float(sims[best])

    def locate(self, suggestion_id: str) -> str | None:
        """Theme id holding ``suggestion_id`` in its sample, ``"pool"`` if pooled, else ``None``.

        Members that aged out of a theme's bounded sample are not found here: the caller
        keeps the suggestion-to-theme map from :class:`SuggestionPlaced` events.
        """
        if suggestion_id in self.pool:
            return "pool"
        for theme_id, theme in self.themes.items():
            if theme.holds(suggestion_id):
                return theme_id
        return None

    @property
    def unsettled(self) -> bool:
        """Whether a re-cluster at a pause has asks to settle: suggestions added since the last
        re-cluster, or asks it left waiting (else such asks would stay alone until a re-cluster
        that is due only when new suggestions come).
        """
        return self.added_since_recluster > 0 or self.waiting_since_recluster > 0

    # -- persistence ---------------------------------------------------------------------
    def meta_dict(self) -> dict[str, Any]:
        """The small per-product record (counters and clock of the last re-cluster)."""
        return {
            "product": self.product,
            "dim": self.dim,
            "seen": self.seen,
            "added_since_recluster": self.added_since_recluster,
            "seen_at_recluster": self.seen_at_recluster,
            "last_recluster_at": self.last_recluster_at.isoformat() if self.last_recluster_at else None,
            "waiting_since_recluster": self.waiting_since_recluster,
            "theme_ids": list(self.themes),
            "pool_ids": list(self.pool),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: ``{"meta": ..., "themes": {id: record}, "pool": {id: item}}``."""
        return {
            "meta": self.meta_dict(),
            "themes": {theme_id: theme.to_dict() for theme_id, theme in self.themes.items()},
            "pool": {item_id: item.to_dict() for item_id, item in self.pool.items()},
        }

    @classmethod
    def from_records(
        cls,
        meta: dict[str, Any],
        themes: dict[str, dict[str, Any]],
        pool: dict[str, dict[str, Any]],
    ) -> ProductThemes:
        """Rebuild from the separate records (order of themes and pool taken from ``meta``)."""
        last = meta.get("last_recluster_at")
        return cls(
            product=str(meta["product"]),
            dim=int(meta["dim"]),
            themes={tid: ThemeRecord.from_dict(themes[tid]) for tid in meta["theme_ids"]},
            pool={pid: Member.from_dict(pool[pid]) for pid in meta["pool_ids"]},
            seen=int(meta["seen"]),
            added_since_recluster=int(meta["added_since_recluster"]),
            seen_at_recluster=int(meta["seen_at_recluster"]),
            last_recluster_at=datetime.fromisoformat(last) if last else None,
            waiting_since_recluster=int(meta.get("waiting_since_recluster", 0)),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProductThemes:
        """Inverse of :meth:`to_dict`."""
        return cls.from_records(data["meta"], data["themes"], data["pool"])
