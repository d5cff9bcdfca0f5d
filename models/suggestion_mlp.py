"""A small MLP head over the suggestion classifier's features (embedding, cues; word n-grams optional).

One hidden ReLU layer; the forward pass is numpy (``features @ w1 + b1 -> relu -> @ w2 + b2 ->
sigmoid``), the weights live in ``weights.npz`` (float32, loaded with ``allow_pickle=False``)
beside ``model.json`` (vocabulary, cues, settings, threshold, version). Trained with
scikit-learn's ``MLPClassifier`` (Adam, L2 ``alpha``, fixed seed).
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from models.embedding import FloatMatrix
from models.suggestion_features import build_features
from models.suggestions import (
    MODEL_FILE,
    WEIGHTS_FILE,
    WORD_PARAMS,
    TrainingConfig,
    vocabulary_of,
    word_vectorizer,
)

MLP_FORMAT = "youasked-suggestion-mlp/1"


@dataclass
class SuggestionMLP:
    """A trained MLP head; ``threshold`` is the score at or above which a unit is an ask."""

    word_vocabulary: list[str]
    word_idf: npt.NDArray[np.float64]
    cues: tuple[str, ...]
    w1: npt.NDArray[np.float32]
    b1: npt.NDArray[np.float32]
    w2: npt.NDArray[np.float32]
    b2: float
    threshold: float
    config: TrainingConfig = field(default_factory=TrainingConfig)
    metrics: dict[str, Any] = field(default_factory=dict)
    training_data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._word = word_vectorizer(WORD_PARAMS, self.word_vocabulary) if self.word_vocabulary else None
        if self._word is not None:
            self._word.idf_ = self.word_idf
        self._cue_regexes = [re.compile(p, re.IGNORECASE) for p in self.cues]

    @property
    def version(self) -> str:
        """``suggestion-mlp-<12 hex>``: a digest of the weights, vocabulary, cues and threshold."""
        digest = hashlib.sha256()
        for array in (self.w1, self.b1, self.w2):
            digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
        digest.update(np.float64(self.b2).tobytes())
        digest.update(np.float64(self.threshold).tobytes())
        digest.update("\n".join(self.word_vocabulary + list(self.cues)).encode())
        return f"suggestion-mlp-{digest.hexdigest()[:12]}"

    def predict_proba(self, texts: Sequence[str], vectors: FloatMatrix) -> npt.NDArray[np.float64]:
        """Score in [0, 1] per text, shape ``(n,)``."""
        if len(texts) == 0:
            return np.zeros(0, dtype=np.float64)
        design = build_features(texts, vectors, word=self._word, cues=self._cue_regexes, settings=self.config)
        hidden = np.maximum(np.asarray(design @ self.w1, dtype=np.float64) + self.b1, 0.0)
        margin = hidden @ self.w2.astype(np.float64) + self.b2
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(margin, -500.0, 500.0))), dtype=np.float64)

    def save(self, directory: Path | str) -> None:
        """Write ``model.json`` and ``weights.npz`` into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            out / WEIGHTS_FILE, w1=self.w1, b1=self.b1, w2=self.w2, word_idf=self.word_idf.astype(np.float64)
        )
        document = {
            "format": MLP_FORMAT,
            "version": self.version,
            "threshold": self.threshold,
            "b2": self.b2,
            "config": self.config.__dict__,
            "cues": list(self.cues),
            "metrics": self.metrics,
            "training_data": self.training_data,
            "word_vocabulary": self.word_vocabulary,
        }
        (out / MODEL_FILE).write_text(
            json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path | str) -> SuggestionMLP:
        """Read an artifact written by :meth:`save`; ``ValueError`` on another format or a changed file."""
        source = Path(directory)
        document = json.loads((source / MODEL_FILE).read_text(encoding="utf-8"))
        if document.get("format") != MLP_FORMAT:
            raise ValueError(f"{source}: not a {MLP_FORMAT} artifact")
        with np.load(source / WEIGHTS_FILE, allow_pickle=False) as arrays:
            weights = {name: np.asarray(arrays[name]) for name in ("w1", "b1", "w2", "word_idf")}
        model = cls(
            word_vocabulary=list(document["word_vocabulary"]),
            word_idf=weights["word_idf"].astype(np.float64),
            cues=tuple(document["cues"]),
            w1=weights["w1"].astype(np.float32),
            b1=weights["b1"].astype(np.float32),
            w2=weights["w2"].astype(np.float32),
            b2=float(document["b2"]),
            threshold=float(document["threshold"]),
            config=TrainingConfig(**document["config"]),
            metrics=dict(document["metrics"]),
            training_data=dict(document["training_data"]),
        )
        if model.version != document["version"]:
            raise ValueError(f"{source}: version mismatch ({model.version} != {document['version']})")
        return model


@dataclass(frozen=True)
class MLPSettings:
    """``hidden`` units, L2 ``alpha``, Adam ``epochs``, the seed; ``words`` adds the word n-gram
    block to the input (slow to train: tens of thousands of input columns).
    """

    words: bool = False
    hidden: int = 64
    alpha: float = 1e-3
    epochs: int = 30
    seed: int = 0


def fit_mlp(
    texts: Sequence[str],
    labels: npt.NDArray[np.int64],
    vectors: FloatMatrix,
    weights: npt.NDArray[np.float64],
    *,
    config: TrainingConfig,
    settings: MLPSettings,
) -> SuggestionMLP:
    """Fit the head on all rows, class-balanced on top of the row ``weights`` (threshold 0.5)."""
    text_list = list(texts)
    word = word_vectorizer(WORD_PARAMS).fit(text_list) if settings.words else None
    cues = [re.compile(p, re.IGNORECASE) for p in config.cues]
    design = build_features(text_list, vectors, word=word, cues=cues, settings=config)
    y = np.asarray(labels, dtype=np.int64)
    balance = np.where(
        y == 1, len(y) / (2.0 * max(int(y.sum()), 1)), len(y) / (2.0 * max(int((1 - y).sum()), 1))
    )
    network = MLPClassifier(
        hidden_layer_sizes=(settings.hidden,),
        alpha=settings.alpha,
        max_iter=settings.epochs,
        random_state=settings.seed,
        shuffle=True,
    )
    with warnings.catch_warnings():  # a fixed number of epochs is the setting, not a failure
        warnings.simplefilter("ignore", ConvergenceWarning)
        network.fit(design.toarray() if word is None else design, y, sample_weight=weights * balance)
    return SuggestionMLP(
        word_vocabulary=vocabulary_of(word) if word is not None else [],
        word_idf=np.asarray(word.idf_ if word is not None else [], dtype=np.float64),
        cues=config.cues,
        w1=network.coefs_[0].astype(np.float32),
        b1=network.intercepts_[0].astype(np.float32),
        w2=network.coefs_[1][:, 0].astype(np.float32),
        b2=float(network.intercepts_[1][0]),
        threshold=0.5,
        config=config,
    )
