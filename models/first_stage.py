"""The cheap first stage of suggestion detection: a linear model over hashed n-grams, no transformer.

Most comments are not asks (about 85% of app reviews), and the embedding model is the cost of
judging one. The first stage scores every comment that passes moderation from its text alone
and passes on only the candidates; the embedding model and the classifier
(:mod:`models.suggestions`) judge those. A comment it rejects is not a suggestion (reason
``first_stage``).

Model: one logistic regression (class-balanced, L2) over the concatenation of

* word 1-2-grams, hashed into ``2**word_bits`` columns (binary, rows L2-normalized),
* character 2-5-grams inside word boundaries, hashed into ``2**char_bits`` columns (likewise),
* the classifier's binary request-cue columns (:func:`models.suggestion_features.cue_patterns`).

Hashing needs no vocabulary, so the artifact is the weights alone. ``threshold`` is set for
recall, not F1: on stratified k-fold out-of-fold scores of the training rows, it keeps at least
``keep_target`` of the *protected* rows (those labelled a suggestion or accepted by the
classifier it fronts). It is chosen on the training data only.

Artifacts are a directory with ``weights.npz`` (the non-zero coefficients as ``indices`` and
``values``, loaded with ``allow_pickle=False``) and ``model.json`` (settings, cues, threshold,
version, metrics, training description). No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from models.suggestion_features import cue_patterns

FORMAT = "youasked-first-stage/1"
MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"


@dataclass(frozen=True)
class FirstStageConfig:
    """Hyper-parameters: ``c`` is the inverse L2 strength; ``keep_target`` the recall the threshold keeps."""

    c: float = 1.0
    word_bits: int = 18
    char_bits: int = 18
    char_ngram_max: int = 5
    cue_weight: float = 1.0
    folds: int = 5
    max_iter: int = 5000
    keep_target: float = 0.995


def hashing_vectorizers(config: FirstStageConfig) -> tuple[HashingVectorizer, HashingVectorizer]:
    """The word and character vectorizers of ``config`` (stateless: nothing to fit or store)."""
    common: dict[str, Any] = {
        "lowercase": True,
        "strip_accents": "unicode",
        "alternate_sign": False,
        "binary": True,
        "norm": "l2",
        "dtype": np.float64,
    }
    word = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=2**config.word_bits, **common)
    char = HashingVectorizer(
        analyzer="char_wb", ngram_range=(2, config.char_ngram_max), n_features=2**config.char_bits, **common
    )
    return word, char


def default_cues() -> tuple[str, ...]:
    """The request cues of the classifier's default configuration (bug cues dropped, extra cues on)."""
    return cue_patterns(drop_bug_cues=True, extra_cues=True)


def first_stage_features(
    texts: Sequence[str], *, config: FirstStageConfig, cues: Sequence[re.Pattern[str]]
) -> sparse.csr_matrix:
    """The ``(n, 2**word_bits + 2**char_bits + len(cues))`` sparse design matrix of ``texts``."""
    text_list = list(texts)
    word, char = hashing_vectorizers(config)
    cue_rows = np.array([[1.0 if rx.search(t) else 0.0 for rx in cues] for t in text_list]).reshape(
        len(text_list), len(cues)
    )
    return sparse.hstack(
        [
            word.transform(text_list),
            char.transform(text_list),
            sparse.csr_matrix(cue_rows * config.cue_weight),
        ],
        format="csr",
    )


@dataclass
class FirstStage:
    """A trained first stage; see the module docstring.

    ``coef`` has one weight per design-matrix column; a comment passes on when
    :meth:`predict_proba` is at or above ``threshold``.
    """

    coef: npt.NDArray[np.float64]
    intercept: float
    threshold: float
    cues: tuple[str, ...]
    config: FirstStageConfig = field(default_factory=FirstStageConfig)
    metrics: dict[str, Any] = field(default_factory=dict)
    training_data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._cue_regexes = [re.compile(p, re.IGNORECASE) for p in self.cues]
        expected = 2**self.config.word_bits + 2**self.config.char_bits + len(self.cues)
        if self.coef.shape != (expected,):
            raise ValueError(f"coef has shape {self.coef.shape}, expected ({expected},)")

    @property
    def version(self) -> str:
        """``first-stage-<12 hex>``: a digest of the weights, settings, cues and threshold."""
        digest = hashlib.sha256()
        digest.update(self.coef.tobytes())
        digest.update(np.float64(self.intercept).tobytes())
        digest.update(np.float64(self.threshold).tobytes())
        digest.update(json.dumps(asdict(self.config), sort_keys=True).encode())
        digest.update("\n".join(self.cues).encode())
        return f"first-stage-{digest.hexdigest()[:12]}"

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Probability-like score in [0, 1] per text, shape ``(n,)``; compare with ``threshold``."""
        if len(texts) == 0:
            return np.zeros(0, dtype=np.float64)
        design = first_stage_features(texts, config=self.config, cues=self._cue_regexes)
        margin = design @ self.coef + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(margin, -500.0, 500.0))), dtype=np.float64)

    def passes(self, texts: Sequence[str]) -> npt.NDArray[np.bool_]:
        """``True`` where a text goes on to the embedding model; shape ``(n,)``."""
        return np.asarray(self.predict_proba(texts) >= self.threshold, dtype=np.bool_)

    def save(self, directory: Path | str) -> None:
        """Write ``model.json`` and ``weights.npz`` into ``directory`` (created if needed)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        indices = np.flatnonzero(self.coef).astype(np.int64)
        np.savez_compressed(out / WEIGHTS_FILE, indices=indices, values=self.coef[indices].astype(np.float64))
        document = {
            "format": FORMAT,
            "version": self.version,
            "threshold": self.threshold,
            "intercept": self.intercept,
            "config": asdict(self.config),
            "feature_blocks": ["word_1_2_hashed", "char_wb_hashed", "cues"],
            "cues": list(self.cues),
            "metrics": self.metrics,
            "training_data": self.training_data,
        }
        (out / MODEL_FILE).write_text(
            json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path | str) -> FirstStage:
        """Read an artifact written by :meth:`save`; raises ``ValueError`` on a foreign format or digest."""
        source = Path(directory)
        document = json.loads((source / MODEL_FILE).read_text(encoding="utf-8"))
        if document.get("format") != FORMAT:
            raise ValueError(f"{source}: not a {FORMAT} artifact")
        config = FirstStageConfig(**document["config"])
        cues = tuple(document["cues"])
        coef = np.zeros(2**config.word_bits + 2**config.char_bits + len(cues), dtype=np.float64)
        with np.load(source / WEIGHTS_FILE, allow_pickle=False) as arrays:
            coef[np.asarray(arrays["indices"], dtype=np.int64)] = np.asarray(
                arrays["values"], dtype=np.float64
            )
        model = cls(
            coef=coef,
            intercept=float(document["intercept"]),
            threshold=float(document["threshold"]),
            cues=cues,
            config=config,
            metrics=dict(document["metrics"]),
            training_data=dict(document["training_data"]),
        )
        if model.version != document["version"]:
            raise ValueError(f"{source}: version mismatch ({model.version} != {document['version']})")
        return model


def recall_threshold(scores: npt.NDArray[np.float64], protected: npt.NDArray[np.bool_], keep: float) -> float:
    """The highest cut whose ``scores >= cut`` keeps at least ``keep`` of the ``protected`` rows.

    ``scores`` and ``protected`` have shape ``(n,)``; at most ``floor((1 - keep) * n_protected)``
    protected rows fall below the cut. Returns 0.0 when nothing is protected.
    """
    kept = np.sort(np.asarray(scores, dtype=np.float64)[np.asarray(protected, dtype=np.bool_)])
    if kept.size == 0:
        return 0.0
    allowed_misses = int(np.floor((1.0 - keep) * kept.size + 1e-9))
    return float(kept[min(allowed_misses, kept.size - 1)])
