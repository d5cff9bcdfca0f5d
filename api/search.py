"""Semantic search over themes: the query's embedding against each theme's representative.

The representative is the theme's most central suggestion (chosen by the themes agent); its
embedding came with the suggestion (``feedback.suggestions``) and sits in the read model, so
nothing is embedded again but the query. The index keeps the active themes' vectors in memory
as one matrix and reloads it when the read model's themes changed (their count or newest
``changed_at``), at most every ``refresh_s`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api.readmodel.schema import LIVE_STATUSES, SuggestionVectorRow, ThemeRow
from models.embedding import EMBEDDING_DIM, Embedder

LIVE = LIVE_STATUSES


@dataclass
class _Snapshot:
    version: tuple[int, str] = (0, "")
    theme_ids: list[str] = field(default_factory=list)
    products: npt.NDArray[np.str_] = field(default_factory=lambda: np.array([], dtype=str))
    matrix: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    loaded_at: float = 0.0


class SemanticIndex:
    """Themes ranked by cosine between a query and their representative suggestion.

    ``embedder`` is called on first use (loading the model takes seconds).
    """

    def __init__(self, engine: Engine, embedder: Callable[[], Embedder], *, refresh_s: float = 2.0) -> None:
        self.engine = engine
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self.refresh_s = refresh_s
        self._snapshot = _Snapshot()
        self._lock = threading.Lock()

    def search(self, query: str, *, product: str | None, limit: int) -> list[tuple[str, float]]:
        """The ``limit`` best ``(theme_id, cosine)`` for ``query``, best first."""
        snapshot = self._current()
        if not snapshot.theme_ids:
            return []
        vector = self._embed(query)
        scores = snapshot.matrix @ vector
        if product is not None:
            scores = np.where(snapshot.products == product, scores, -np.inf)
        count = min(limit, int(np.isfinite(scores).sum()))
        if count <= 0:
            return []
        best = np.argpartition(-scores, count - 1)[:count]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(snapshot.theme_ids[i], round(float(scores[i]), 4)) for i in best]

    def _embed(self, query: str) -> npt.NDArray[np.float32]:
        vector: npt.NDArray[np.float32] = self.embed([query])[0]
        return vector

    def _model(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = self._embedder_factory()
            return self._embedder

    @property
    def dim(self) -> int:
        """The model's vector size (loads the model on first use)."""
        return self._model().dim

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """``texts`` embedded with the pipeline's model, ``(n, dim)`` unit rows."""
        embedder = self._model()
        if not texts:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.asarray(embedder.embed(texts), dtype=np.float32)

    def _current(self) -> _Snapshot:
        snapshot = self._snapshot
        if time.monotonic() - snapshot.loaded_at < self.refresh_s:
            return snapshot
        with Session(self.engine) as session:
            count, newest = session.execute(
                select(func.count(), func.max(ThemeRow.changed_at)).where(ThemeRow.status.in_(LIVE))
            ).one()
            version = (int(count or 0), str(newest))
            if version == snapshot.version:
                snapshot.loaded_at = time.monotonic()
                return snapshot
            rows = session.execute(
                select(ThemeRow.theme_id, ThemeRow.product, SuggestionVectorRow.vector)
                .join(SuggestionVectorRow, SuggestionVectorRow.suggestion_id == ThemeRow.representative_id)
                .where(ThemeRow.status.in_(LIVE))
                .order_by(ThemeRow.theme_id)
            ).all()
        rows = [row for row in rows if len(row.vector) == 4 * EMBEDDING_DIM]  # one model's vectors
        if rows:
            matrix = np.vstack([np.frombuffer(row.vector, dtype=np.float32) for row in rows])
        else:
            matrix = np.zeros((0, 0), dtype=np.float32)
        fresh = _Snapshot(
            version=version,
            theme_ids=[row.theme_id for row in rows],
            products=np.array([row.product for row in rows], dtype=str),
            matrix=matrix,
            loaded_at=time.monotonic(),
        )
        self._snapshot = fresh
        return fresh
