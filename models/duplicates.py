"""Exact repeats and near-duplicates among a product's recent suggestions.

A new suggestion is compared with a bounded window of the product's recent suggestions:

- same :func:`models.text.fold_text` and vectors at least ``auto_merge_threshold`` apart
  -> ``"exact"`` (merged automatically; the vector check keeps apart two asks of the same words
  placed by different contexts, :mod:`models.ask_context`);
- cosine ``>= auto_merge_threshold`` -> ``"auto"`` (merged automatically);
- ``review_threshold <= cosine < auto_merge_threshold`` -> ``"review"`` (a possible duplicate
  a person confirms);
- otherwise ``"new"``.

A duplicate is not a new idea: it adds a mention and its author to what it duplicates
(see :meth:`models.themes.engine.ThemeEngine.add_mention`).

Defaults (not tuned on any test file): ``review_threshold = 0.60`` is the F1-best cosine
on mrpc_train.csv (F1 0.825); ``auto_merge_threshold = 0.90`` keeps automatic merges to
near-verbatim restatements (precision 0.88 on mrpc_train, recall 0.35): a wrong automatic
merge silently loses an idea, a missed one only costs a reviewer a click. For evaluation a
pair counts as a predicted duplicate when it falls in EITHER band (cosine >= review_threshold),
because both bands mean "this is the same idea" and the review band only adds a human check.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from models.dates import minus
from models.text import fold_text, text_hash
from models.themes.records import decode_vector, encode_vector

logger = logging.getLogger(__name__)

DuplicateBand = Literal["exact", "auto", "review", "new"]


@dataclass(frozen=True)
class DuplicateConfig:
    """Thresholds are cosines between L2-normalized embeddings; the window bounds memory.

    ``window_size`` most recent suggestions per product, none older than ``window_age``.
    """

    auto_merge_threshold: float = 0.90
    review_threshold: float = 0.60
    window_size: int = 5_000
    window_age: timedelta = timedelta(days=90)


@dataclass(frozen=True)
class DuplicateMatch:
    """The band one suggestion falls in (``band``) and, unless ``"new"``, the suggestion it duplicates."""

    band: DuplicateBand
    duplicate_of: str | None
    similarity: float


@dataclass
class _Recent:
    suggestion_id: str
    fold_key: str
    vector: npt.NDArray[np.float32]
    created_at: datetime


@dataclass
class RecentWindow:
    """The bounded window of one product's recent original suggestions (duplicates are not added)."""

    product: str
    items: deque[_Recent] = field(default_factory=deque)
    _matrix: npt.NDArray[np.float32] | None = field(default=None, repr=False)
    """The items' vectors, one row each: a view of ``_rows`` from row ``_start`` (None: not built)."""
    _rows: npt.NDArray[np.float32] | None = field(default=None, repr=False)
    _start: int = field(default=0, repr=False)

    def _index(self) -> npt.NDArray[np.float32]:
        if self._matrix is None or len(self._matrix) != len(self.items):
            dim = len(self.items[0].vector) if self.items else 0
            self._rows = (
                np.stack([item.vector for item in self.items])
                if self.items
                else np.zeros((0, dim), np.float32)
            )
            self._start = 0
            self._matrix = self._rows
        return self._matrix

    def _drop_oldest(self, count: int) -> None:
        """The matrix after ``count`` items left the front (the view moves; nothing is copied)."""
        if self._matrix is not None and count:
            self._start += count
            self._matrix = self._matrix[count:]

    def _append_row(self, vector: npt.NDArray[np.float32]) -> None:
        """The matrix after one item joined the back: written into spare rows, or into a new
        buffer of twice the rows when there are none (amortized O(1) rows copied per item).
        """
        if self._matrix is None or self._rows is None:
            return  # built on the next look-up
        size = len(self._matrix)
        if self._start + size >= len(self._rows):
            grown = np.empty((max(16, 2 * size + 1), self._rows.shape[1]), np.float32)
            grown[:size] = self._matrix
            self._rows, self._start = grown, 0
        self._rows[self._start + size] = vector
        self._matrix = self._rows[self._start : self._start + size + 1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "product": self.product,
            "items": [
                {
                    "id": i.suggestion_id,
                    "fold": i.fold_key,
                    "vector": encode_vector(i.vector),
                    "at": i.created_at.isoformat(),
                }
                for i in self.items
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecentWindow:
        """Inverse of :meth:`to_dict`."""
        items = deque(
            _Recent(
                str(i["id"]),
                str(i["fold"]),
                decode_vector(i["vector"]).astype(np.float32),
                datetime.fromisoformat(i["at"]),
            )
            for i in data["items"]
        )
        return cls(product=str(data["product"]), items=items)


def classify_similarity(similarity: float, config: DuplicateConfig) -> DuplicateBand:
    """Band of a cosine: ``"auto"`` >= auto_merge_threshold > ``"review"`` >= review_threshold > ``"new"``."""
    if similarity >= config.auto_merge_threshold:
        return "auto"
    if similarity >= config.review_threshold:
        return "review"
    return "new"


def check_duplicate(
    window: RecentWindow,
    *,
    suggestion_id: str,
    text: str,
    vector: npt.NDArray[np.float32],
    created_at: datetime,
    config: DuplicateConfig,
) -> tuple[RecentWindow, DuplicateMatch]:
    """Compare one suggestion (``(dim,)`` unit ``vector``) with the window; add it if it is new.

    Items older than ``created_at - window_age`` are dropped first. Only ``"new"`` and
    ``"review"`` suggestions enter the window (a confirmed duplicate is represented by its
    original). Returns the (mutated) window and the match.
    """
    if created_at.tzinfo is None:
        raise ValueError("created_at must be timezone-aware")
    horizon = minus(created_at, config.window_age)
    aged = 0
    while window.items and window.items[0].created_at < horizon:
        window.items.popleft()
        aged += 1
    window._drop_oldest(aged)
    key = text_hash(text)
    match = DuplicateMatch("new", None, 0.0)
    own = np.asarray(vector, dtype=np.float32)
    itself: list[int] = []
    for back, item in enumerate(reversed(window.items)):
        if item.suggestion_id == suggestion_id:
            itself.append(len(window.items) - 1 - back)
            continue  # delivered again: a suggestion is never a repeat of itself
        # The same words placed alike: an ask read with its comment's words ("Please put it
        # back!" after two different complaints) repeats another only if it means the same.
        if item.fold_key != key or not fold_text(text):
            continue
        if float(item.vector @ own) >= config.auto_merge_threshold:
            match = DuplicateMatch("exact", item.suggestion_id, 1.0)
            break
    if match.band == "new" and window.items:
        sims = window._index() @ own
        sims[itself] = -2.0
        best = int(np.argmax(sims))
        band = classify_similarity(float(sims[best]), config)
        if band != "new":
            match = DuplicateMatch(band, window.items[best].suggestion_id, float(sims[best]))
    if match.band in ("new", "review"):
        window.items.append(_Recent(suggestion_id, key, np.asarray(vector, dtype=np.float32), created_at))
        window._append_row(own)
        over = max(0, len(window.items) - config.window_size)
        for _ in range(over):
            window.items.popleft()
        window._drop_oldest(over)
    logger.debug("duplicate check %s: %s", suggestion_id, match)
    return window, match


def evaluate_duplicates(
    *,
    pairs: Sequence[tuple[str, str]],
    labels: Sequence[int],
    embedder_vectors: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
    config: DuplicateConfig | None = None,
) -> dict[str, Any]:
    """Precision, recall and F1 of "duplicate" = exact fold match or cosine >= ``review_threshold``.

    ``pairs[i]`` are two texts, ``labels[i]`` is 1 for a duplicate (paraphrase) else 0,
    ``embedder_vectors`` their ``(n, dim)`` unit vectors (side a, side b). Also reports the
    counts per band.
    """
    config = config or DuplicateConfig()
    vec_a, vec_b = embedder_vectors
    sims = np.einsum("ij,ij->i", vec_a, vec_b)
    bands: dict[str, int] = {"exact": 0, "auto": 0, "review": 0, "new": 0}
    predicted: list[bool] = []
    for (text_a, text_b), sim in zip(pairs, sims, strict=True):
        band: DuplicateBand = (
            "exact" if fold_text(text_a) == fold_text(text_b) else classify_similarity(float(sim), config)
        )
        bands[band] += 1
        predicted.append(band != "new")
    gold = [bool(label) for label in labels]
    tp = sum(p and g for p, g in zip(predicted, gold, strict=True))
    precision = tp / max(sum(predicted), 1)
    recall = tp / max(sum(gold), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    auto_pred = [
        p and b
        for p, b in zip(predicted, (float(s) >= config.auto_merge_threshold for s in sims), strict=True)
    ]
    auto_tp = sum(p and g for p, g in zip(auto_pred, gold, strict=True))
    return {
        "n": len(gold),
        "positive_prediction": "exact or cosine >= review_threshold (review or auto band)",
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "auto_band_precision": round(auto_tp / max(sum(auto_pred), 1), 4),
        "bands": bands,
        "auto_merge_threshold": config.auto_merge_threshold,
        "review_threshold": config.review_threshold,
    }
