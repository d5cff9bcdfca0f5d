"""Valid-suggestion detection: does a comment ask for a product change.

A *valid suggestion* asks for a new feature, an option or an improvement; bug reports,
questions, praise, complaints without an ask, spam and abuse are not.

Model: one logistic regression (class-balanced, L2) over the concatenation of

* the sentence embedding of the text (``(n, 384)`` L2-normalized rows, times ``embedding_weight``),
* word 1-2-gram TF-IDF (sublinear, L2-normalized rows),
* binary "request cue" features (``please add``, ``would be nice``, ``wish``, ``option to``...),
  times ``cue_weight``.

``predict_proba`` is the regression's probability; with balanced class weights it
over-states the positive rate, so it is *not* calibrated to any base rate. ``threshold``
turns it into a decision; it is chosen to maximize F1 on 5-fold out-of-fold probabilities of
the training data only.

Artifacts are a directory with ``weights.npz`` (numpy arrays, loaded with
``allow_pickle=False``) and ``model.json`` (vocabulary, vectorizer settings, cue patterns,
threshold, version, metrics, training description). No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from contracts.events import Verdict
from models.embedding import Embedder, FloatMatrix
from models.judge import (
    CLASSIFIER_REASON,
    FirstStageScorer,
    JudgeInput,
    Judgement,
    SuggestionJudge,
    SuggestionScorer,
)
from models.moderation import ModerationPolicy
from models.suggestion_features import SENTENCE_FEATURES, build_features, cue_patterns, feature_count

logger = logging.getLogger(__name__)

FORMAT = "youasked-suggestion-classifier/2"
LEGACY_FORMATS = ("youasked-suggestion-classifier/1",)
MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"

# Settings an artifact of an older format was trained with, where its config does not say.
LEGACY_CONFIG: dict[str, Any] = {
    "drop_bug_cues": False,
    "extra_cues": False,
    "sentence_features": False,
    "source_balance": False,
}

WORD_PARAMS: dict[str, Any] = {
    "analyzer": "word",
    "ngram_range": [1, 2],
    "lowercase": True,
    "strip_accents": "unicode",
    "sublinear_tf": True,
    "min_df": 2,
}


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters: ``c`` is the inverse L2 strength; weights scale feature blocks."""

    c: float = 1.0
    embedding_weight: float = 0.75
    cue_weight: float = 1.0
    folds: int = 5
    max_iter: int = 5000
    drop_bug_cues: bool = True
    extra_cues: bool = True
    sentence_features: bool = True
    source_balance: bool = True

    @property
    def cues(self) -> tuple[str, ...]:
        """The request-cue regexes this configuration trains with."""
        return cue_patterns(drop_bug_cues=self.drop_bug_cues, extra_cues=self.extra_cues)


def word_vectorizer(params: dict[str, Any], vocabulary: Sequence[str] | None = None) -> TfidfVectorizer:
    """The word TF-IDF vectorizer of ``params`` (fixed to ``vocabulary`` when given, as loaded)."""
    kwargs = {k: (tuple(v) if k == "ngram_range" else v) for k, v in params.items()}
    if vocabulary is not None:
        kwargs.pop("min_df", None)
        kwargs.pop("max_features", None)
        kwargs["vocabulary"] = {term: index for index, term in enumerate(vocabulary)}
    return TfidfVectorizer(dtype=np.float64, **kwargs)


def vocabulary_of(vectorizer: TfidfVectorizer) -> list[str]:
    """A fitted vectorizer's terms in column order."""
    terms = [""] * len(vectorizer.vocabulary_)
    for term, index in vectorizer.vocabulary_.items():
        terms[index] = term
    return terms


@dataclass
class SuggestionClassifier:
    """A trained suggestion detector; see the module docstring for the features.

    ``coef`` has one weight per feature column (embedding dims, then word, cue
    columns); ``threshold`` is the probability at or above which :meth:`decide` says yes.
    """

    word_vocabulary: list[str]
    word_idf: npt.NDArray[np.float64]
    cues: tuple[str, ...]
    coef: npt.NDArray[np.float64]
    intercept: float
    threshold: float
    embedding_dim: int
    config: TrainingConfig = field(default_factory=TrainingConfig)
    word_params: dict[str, Any] = field(default_factory=lambda: dict(WORD_PARAMS))
    metrics: dict[str, Any] = field(default_factory=dict)
    training_data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._word = word_vectorizer(self.word_params, self.word_vocabulary)
        self._word.idf_ = self.word_idf
        self._cue_regexes = [re.compile(p, re.IGNORECASE) for p in self.cues]
        expected = feature_count(
            self.embedding_dim, len(self.word_vocabulary), len(self.cues), self.config.sentence_features
        )
        if self.coef.shape != (expected,):
            raise ValueError(f"coef has shape {self.coef.shape}, expected ({expected},)")

    @property
    def version(self) -> str:
        """``suggestion-lr-<12 hex>``: a digest of the weights, vocabularies and threshold."""
        digest = hashlib.sha256()
        digest.update(self.coef.tobytes())
        digest.update(np.float64(self.intercept).tobytes())
        digest.update(np.float64(self.threshold).tobytes())
        digest.update("\n".join(self.word_vocabulary + list(self.cues)).encode())
        return f"suggestion-lr-{digest.hexdigest()[:12]}"

    def features(self, texts: Sequence[str], vectors: FloatMatrix) -> sparse.csr_matrix:
        """The ``(n, n_features)`` sparse design matrix for ``texts`` and their ``(n, dim)`` embeddings."""
        return build_features(texts, vectors, word=self._word, cues=self._cue_regexes, settings=self.config)

    def predict_proba(self, texts: Sequence[str], vectors: FloatMatrix) -> npt.NDArray[np.float64]:
        """Probability-like score in [0, 1] per text, shape ``(n,)``; compare with ``threshold``."""
        if len(texts) == 0:
            return np.zeros(0, dtype=np.float64)
        margin = self.features(texts, vectors) @ self.coef + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(margin, -500.0, 500.0))), dtype=np.float64)

    def decide(
        self, texts: Sequence[str], vectors: FloatMatrix, *, threshold: float | None = None
    ) -> npt.NDArray[np.bool_]:
        """``True`` where ``predict_proba >= threshold`` (trained one when ``None``); shape ``(n,)``."""
        cut = self.threshold if threshold is None else threshold
        return np.asarray(self.predict_proba(texts, vectors) >= cut, dtype=np.bool_)

    def save(self, directory: Path | str) -> None:
        """Write ``model.json`` and ``weights.npz`` into ``directory`` (created if needed)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            out / WEIGHTS_FILE,
            coef=self.coef.astype(np.float64),
            word_idf=self.word_idf.astype(np.float64),
        )
        document = {
            "format": FORMAT,
            "version": self.version,
            "threshold": self.threshold,
            "intercept": self.intercept,
            "embedding_dim": self.embedding_dim,
            "config": self.config.__dict__,
            "word_params": self.word_params,
            "cues": list(self.cues),
            "feature_blocks": ["embedding", "word_tfidf", "cues"]
            + (["sentence_cues"] if self.config.sentence_features else []),
            "sentence_features": list(SENTENCE_FEATURES) if self.config.sentence_features else [],
            "metrics": self.metrics,
            "training_data": self.training_data,
            "word_vocabulary": self.word_vocabulary,
        }
        (out / MODEL_FILE).write_text(
            json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path | str) -> SuggestionClassifier:
        """Read an artifact written by :meth:`save`; raises ``ValueError`` on a foreign format."""
        source = Path(directory)
        document = json.loads((source / MODEL_FILE).read_text(encoding="utf-8"))
        if document.get("format") not in (FORMAT, *LEGACY_FORMATS):
            raise ValueError(f"{source}: not a {FORMAT} artifact")
        with np.load(source / WEIGHTS_FILE, allow_pickle=False) as arrays:
            coef, word_idf = arrays["coef"], arrays["word_idf"]
        model = cls(
            word_vocabulary=list(document["word_vocabulary"]),
            word_idf=np.asarray(word_idf, dtype=np.float64),
            cues=tuple(document["cues"]),
            coef=np.asarray(coef, dtype=np.float64),
            intercept=float(document["intercept"]),
            threshold=float(document["threshold"]),
            embedding_dim=int(document["embedding_dim"]),
            config=TrainingConfig(**{**LEGACY_CONFIG, **document["config"]}),
            word_params=dict(document["word_params"]),
            metrics=dict(document["metrics"]),
            training_data=dict(document["training_data"]),
        )
        if model.version != document["version"]:
            raise ValueError(f"{source}: version mismatch ({model.version} != {document['version']})")
        return model


def evaluate_binary(predicted: Sequence[bool], gold: Sequence[bool]) -> dict[str, Any]:
    """Precision, recall and F1 of the positive class; 0.0 where a ratio is undefined.

    Returns ``n``, ``positives`` (gold), ``predicted_positives``, ``true_positives``,
    ``precision``, ``recall``, ``f1`` (floats rounded to 4 places).
    """
    if len(predicted) != len(gold):
        raise ValueError("predicted and gold differ in length")
    pairs = list(zip((bool(p) for p in predicted), (bool(g) for g in gold), strict=True))
    tp = sum(1 for p, g in pairs if p and g)
    predicted_pos = sum(1 for p, _ in pairs if p)
    positives = sum(1 for _, g in pairs if g)
    precision = tp / predicted_pos if predicted_pos else 0.0
    recall = tp / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": len(pairs),
        "positives": positives,
        "predicted_positives": predicted_pos,
        "true_positives": tp,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


def judge_texts(
    texts: Sequence[str],
    *,
    classifier: SuggestionScorer,
    embedder: Embedder,
    policy: ModerationPolicy | None,
    first_stage: FirstStageScorer | None = None,
    non_ask_rules: bool = True,
    ratings: Sequence[int | None] | None = None,
) -> list[Judgement]:
    """The production path (:class:`models.judge.SuggestionJudge`) without a rate limit, one
    :class:`models.judge.Judgement` per text (its verdict, reason and asks with their spans):
    moderation first (rejected = not a suggestion), then the non-ask rules (``non_ask_rules``),
    the first stage when given, then the classifier. ``ratings`` (one per text, or None) are the
    store ratings the worker reads from review comments.
    """
    judge = SuggestionJudge(
        embedder=embedder,
        scorer=classifier,
        policy=policy,
        first_stage=first_stage,
        non_ask_rules=non_ask_rules,
    )
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    stars = list(ratings) if ratings else [None] * len(texts)
    inputs = [
        JudgeInput(text, f"row:{index}", epoch, rating=rating)
        for index, (text, rating) in enumerate(zip(texts, stars, strict=True))
    ]
    return judge.judge(inputs, None)[1]


def decisions_and_reasons(judgements: Sequence[Judgement]) -> tuple[list[bool], Counter[str]]:
    """The decisions (one per judgement) and a count of the reasons of every comment the
    classifier did not judge (moderation codes, ``praise``, ``service_request``, ``fix_request``,
    ``instruction`` and ``first_stage``).
    """
    reasons: Counter[str] = Counter(j.reason for j in judgements if j.reason != CLASSIFIER_REASON)
    return [j.verdict is Verdict.SUGGESTION for j in judgements], reasons

