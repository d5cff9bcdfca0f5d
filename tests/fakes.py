"""In-memory stand-ins of our own interfaces, for tests only."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from contracts.events import AskSpan
from models.duplicates import DuplicateConfig
from models.embedding import EMBEDDING_DIM, FloatMatrix, l2_normalize
from models.text import fold_text, text_hash
from models.themes.tables import MappingThemeTables


class HashingEmbedder:
    """A deterministic :class:`~models.embedding.Embedder`: bag of hashed word tokens, L2-normalized.

    Texts sharing words get similar vectors, so it exercises similarity code without
    loading a model.
    """

    def __init__(self, dim: int = EMBEDDING_DIM) -> None:
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in fold_text(text).split():
                digest = int(text_hash(token)[:8], 16)
                out[row, digest % self.dim] += 1.0 if digest & 1 << 31 else -1.0
        return l2_normalize(out)


class MemoryThemeTables(MappingThemeTables):
    """The themes service's tables in memory (plain dicts): the service without a broker."""

    def __init__(self, *, dim: int = 384, duplicates: DuplicateConfig | None = None) -> None:
        super().__init__({}, {}, dim=dim, duplicates=duplicates or DuplicateConfig())


def whole_ask(text: str) -> AskSpan:
    """A comment that is one ask from its first character to its last."""
    return AskSpan(text=text, start=0, end=len(text))
