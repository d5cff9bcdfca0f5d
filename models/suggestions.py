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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from models.datasets import (
    LabelledTexts,
    concat,
    load_clap,
    load_labelled_csv,
    load_maalej,
    split_train_holdout,
)
from models.embedding import Embedder, FloatMatrix
from models.moderation import ModerationPolicy
from models.suggestion_features import SENTENCE_FEATURES, build_features, cue_patterns, feature_count
from models.text import text_hash
from youasked.contracts.events import Verdict

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


def _vectorizer(params: dict[str, Any], vocabulary: Sequence[str] | None = None) -> TfidfVectorizer:
    kwargs = {k: (tuple(v) if k == "ngram_range" else v) for k, v in params.items()}
    if vocabulary is not None:
        kwargs.pop("min_df", None)
        kwargs.pop("max_features", None)
        kwargs["vocabulary"] = {term: index for index, term in enumerate(vocabulary)}
    return TfidfVectorizer(dtype=np.float64, **kwargs)


def _vocabulary(vectorizer: TfidfVectorizer) -> list[str]:
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
        self._word = _vectorizer(self.word_params, self.word_vocabulary)
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


def source_weights(groups: Sequence[str] | None, n: int) -> npt.NDArray[np.float64] | None:
    """Per-row weights giving every source (``groups`` value) the same total weight, mean 1."""
    if groups is None:
        return None
    if len(groups) != n:
        raise ValueError("groups must have one value per row")
    counts = Counter(groups)
    return np.array([n / (len(counts) * counts[g]) for g in groups], dtype=np.float64)


def _fit(
    texts: Sequence[str],
    labels: npt.NDArray[np.int64],
    vectors: FloatMatrix,
    config: TrainingConfig,
    seed: int,
    weights: npt.NDArray[np.float64] | None = None,
) -> SuggestionClassifier:
    text_list = list(texts)
    word = _vectorizer(WORD_PARAMS).fit(text_list)
    patterns = config.cues
    cues = [re.compile(p, re.IGNORECASE) for p in patterns]
    design = build_features(text_list, vectors, word=word, cues=cues, settings=config)
    regression = LogisticRegression(
        C=config.c, class_weight="balanced", max_iter=config.max_iter, random_state=seed
    ).fit(design, labels, sample_weight=weights)
    return SuggestionClassifier(
        word_vocabulary=_vocabulary(word),
        word_idf=np.asarray(word.idf_, dtype=np.float64),
        cues=patterns,
        coef=np.asarray(regression.coef_[0], dtype=np.float64),
        intercept=float(regression.intercept_[0]),
        threshold=0.5,
        embedding_dim=int(np.asarray(vectors).shape[1]),
        config=config,
    )


def best_f1_threshold(scores: npt.NDArray[np.float64], gold: npt.NDArray[np.int64]) -> tuple[float, float]:
    """The threshold in a 0.01 grid over [0.05, 0.95] maximizing F1 of ``scores >= t``; returns ``(t, f1)``.

    Ties go to the threshold closest to 0.5, so the choice is stable.
    """
    best = (0.5, -1.0)
    for cut in sorted(np.round(np.arange(0.05, 0.951, 0.01), 2), key=lambda t: (abs(t - 0.5), t)):
        f1 = float(evaluate_binary(list(scores >= cut), list(gold.astype(bool)))["f1"])
        if f1 > best[1] + 1e-12:
            best = (float(cut), f1)
    return best


def out_of_fold_scores(
    texts: Sequence[str],
    labels: Sequence[int] | npt.NDArray[np.int64],
    vectors: FloatMatrix,
    *,
    config: TrainingConfig,
    seed: int = 0,
    groups: Sequence[str] | None = None,
    on_step: Callable[[], None] | None = None,
) -> npt.NDArray[np.float64]:
    """Stratified ``config.folds``-fold out-of-fold probabilities, shape ``(n,)``.

    ``groups`` (the source of each row) is used only when ``config.source_balance``.
    ``on_step()`` hears after each fold.
    """
    y = np.asarray(labels, dtype=np.int64)
    text_array = list(texts)
    scores = np.zeros(len(y), dtype=np.float64)
    folds = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=seed)
    group_list = list(groups) if groups is not None and config.source_balance else None
    for train_rows, test_rows in folds.split(np.zeros(len(y)), y):
        weights = source_weights([group_list[i] for i in train_rows], len(train_rows)) if group_list else None
        model = _fit(
            [text_array[i] for i in train_rows], y[train_rows], vectors[train_rows], config, seed, weights
        )
        scores[test_rows] = model.predict_proba([text_array[i] for i in test_rows], vectors[test_rows])
        if on_step is not None:
            on_step()
    return scores


def train_suggestion_classifier(
    texts: Sequence[str],
    labels: Sequence[int],
    vectors: FloatMatrix,
    *,
    seed: int = 0,
    config: TrainingConfig | None = None,
    groups: Sequence[str] | None = None,
    on_step: Callable[[], None] | None = None,
) -> SuggestionClassifier:
    """Train on ``texts`` with 0/1 ``labels`` and their ``(n, dim)`` embeddings ``vectors``.

    The threshold maximizes F1 of the out-of-fold probabilities of a stratified k-fold
    cross-validation on these same rows (no other data is looked at); the final weights are
    then fitted on all rows. ``metrics`` holds the cross-validated precision/recall/F1 at
    that threshold. Deterministic for a given ``seed``. ``groups`` names each row's source;
    with ``config.source_balance`` every source gets the same total training weight.
    ``on_step()`` hears after each fold and after the final fit (``config.folds + 1`` steps).
    """
    active = config or TrainingConfig()
    y = np.asarray(labels, dtype=np.int64)
    if len(texts) != len(y) or np.asarray(vectors).shape[0] != len(y):
        raise ValueError("texts, labels and vectors must have the same length")
    if len(set(y.tolist())) != 2:
        raise ValueError("labels must contain both 0 and 1")
    scores = out_of_fold_scores(texts, y, vectors, config=active, seed=seed, groups=groups, on_step=on_step)
    threshold, _ = best_f1_threshold(scores, y)
    weights = source_weights(groups, len(y)) if active.source_balance else None
    model = _fit(texts, y, vectors, active, seed, weights)
    if on_step is not None:
        on_step()
    model.threshold = threshold
    model.metrics = {"cross_validation": evaluate_binary(list(scores >= threshold), list(y.astype(bool)))}
    model.metrics["cross_validation"]["folds"] = active.folds
    logger.info(
        "trained %s: threshold %.2f, CV %s", model.version, threshold, model.metrics["cross_validation"]
    )
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


def classify_with_moderation(
    texts: Sequence[str],
    *,
    classifier: SuggestionClassifier,
    embedder: Embedder,
    policy: ModerationPolicy | None,
) -> tuple[list[bool], Counter[str]]:
    """The production path (:class:`models.judge.SuggestionJudge`) without a rate limit:
    moderation first (rejected = not a suggestion), then the classifier.

    Returns the decisions (one per text) and a count of moderation reason codes.
    """
    from models.judge import JudgeInput, SuggestionJudge

    judge = SuggestionJudge(embedder=embedder, scorer=classifier, policy=policy)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    inputs = [JudgeInput(text, f"row:{index}", epoch) for index, text in enumerate(texts)]
    _, judgements, _ = judge.judge(inputs, None)
    reasons: Counter[str] = Counter(j.reason for j in judgements if j.verdict is Verdict.MODERATED)
    return [j.verdict is Verdict.SUGGESTION for j in judgements], reasons


def evaluate_file(
    path: Path | str,
    text_col: str,
    label_col: str,
    positive: str | Sequence[str],
    *,
    classifier: SuggestionClassifier,
    embedder: Embedder,
    policy: ModerationPolicy | None,
    title_col: str | None = None,
    drop_if_true: str | None = None,
) -> dict[str, Any]:
    """Run moderation + classifier over a labelled CSV; see :func:`models.datasets.load_labelled_csv`.

    Returns :func:`evaluate_binary` figures plus ``moderated`` (rejection counts by reason).
    ``policy=None`` skips moderation.
    """
    data = load_labelled_csv(
        path, text_col, label_col, positive, title_col=title_col, drop_if_true=drop_if_true
    )
    return _evaluate(data, classifier=classifier, embedder=embedder, policy=policy)


def _evaluate(
    data: LabelledTexts,
    *,
    classifier: SuggestionClassifier,
    embedder: Embedder,
    policy: ModerationPolicy | None,
) -> dict[str, Any]:
    decisions, reasons = classify_with_moderation(
        data.texts, classifier=classifier, embedder=embedder, policy=policy
    )
    result = evaluate_binary(decisions, [bool(label) for label in data.labels])
    result["moderated"] = dict(sorted(reasons.items()))
    return result


def source_groups(data: LabelledTexts) -> list[str]:
    """Each row's source: the part name of a :func:`models.datasets.concat` id (``"<part>:<id>"``)."""
    return [row_id.split(":", 1)[0] if ":" in row_id else data.name for row_id in data.ids]


def _train_on(
    data: LabelledTexts,
    embedder: Embedder,
    *,
    seed: int,
    config: TrainingConfig | None = None,
    on_step: Callable[[], None] | None = None,
) -> SuggestionClassifier:
    model = train_suggestion_classifier(
        data.texts,
        data.labels,
        embedder.embed(data.texts),
        seed=seed,
        config=config,
        groups=source_groups(data),
        on_step=on_step,
    )
    model.training_data = {
        **data.describe(),
        "sha256_of_ids": hashlib.sha256("\n".join(data.ids).encode()).hexdigest(),
    }
    return model


class _FixedVectors:
    """Vectors embedded once per whole file (file order, the embedder's own batching), looked up by text.

    MiniLM output depends slightly on batch composition (padding), so embedding each file in
    one fixed pass, whatever the split, makes training runs bit-for-bit reproducible.
    """

    def __init__(
        self, embedder: Embedder, parts: Sequence[LabelledTexts], on_step: Callable[[], None] | None = None
    ) -> None:
        self.dim = embedder.dim
        self._inner = embedder
        self._vectors: dict[str, FloatMatrix] = {}
        for part in parts:
            self._vectors.update(
                zip(map(text_hash, part.texts), embedder.embed(list(part.texts)), strict=True)
            )
            if on_step is not None:
                on_step()

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        keys = [text_hash(t) for t in texts]
        if not all(key in self._vectors for key in keys):
            return self._inner.embed(texts)
        return np.stack([self._vectors[key] for key in keys]) if keys else self._inner.embed(texts)


def _shared_splits(
    data_dir: Path, embedder: Embedder, on_step: Callable[[], None] | None = None
) -> tuple[dict[str, tuple[LabelledTexts, LabelledTexts]], Embedder]:
    full = {"clap": load_clap(data_dir), "maalej": load_maalej(data_dir)}
    fixed = _FixedVectors(embedder, list(full.values()), on_step)
    return {name: split_train_holdout(data) for name, data in full.items()}, fixed


def train_from_shared_data(
    data_dir: Path,
    out_dir: Path,
    embedder: Embedder,
    *,
    seed: int = 0,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Train on the CLAP + Maalej *training* splits, write the artifact to ``out_dir``, return metrics.

    The holdout splits (:func:`models.datasets.split_train_holdout`, 20% per file) are only
    scored after training, with the classifier alone and with moderation in front;
    these figures are stored in the artifact's ``metrics``. Deterministic for a given
    ``seed`` and embedder (each file is embedded in one pass, in file order).

    ``on_progress(done, total)`` hears after each step: embedding each of the two files, each
    cross-validation fold, the final fit, and each of the four holdout scores.
    """
    total = 2 + TrainingConfig().folds + 1 + 4
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done, total)

    splits, embedder = _shared_splits(data_dir, embedder, step)
    (clap_train, clap_holdout), (maalej_train, maalej_holdout) = splits["clap"], splits["maalej"]
    model = _train_on(
        concat([clap_train, maalej_train], name="clap-train+maalej-train"), embedder, seed=seed, on_step=step
    )
    holdout: dict[str, Any] = {}
    for data in (clap_holdout, maalej_holdout):
        holdout[data.name] = _evaluate(data, classifier=model, embedder=embedder, policy=None)
        step()
        holdout[f"{data.name}+moderation"] = _evaluate(
            data, classifier=model, embedder=embedder, policy=ModerationPolicy()
        )
        step()
    model.metrics["holdout"] = holdout
    model.save(out_dir)
    logger.info("wrote %s to %s", model.version, out_dir)
    return {"version": model.version, "threshold": model.threshold, **model.metrics}


def cross_dataset_report(data_dir: Path, embedder: Embedder, *, seed: int = 0) -> dict[str, Any]:
    """Train on one file's training split, score the other file's holdout and whole file, and vice versa."""
    splits, embedder = _shared_splits(data_dir, embedder)
    report: dict[str, Any] = {}
    for source, target in (("clap", "maalej"), ("maalej", "clap")):
        model = _train_on(splits[source][0], embedder, seed=seed)
        own = _evaluate(splits[source][1], classifier=model, embedder=embedder, policy=None)
        other_holdout = _evaluate(splits[target][1], classifier=model, embedder=embedder, policy=None)
        other_all = _evaluate(
            concat(splits[target], name=target), classifier=model, embedder=embedder, policy=None
        )
        report[f"{source}-train"] = {
            "threshold": model.threshold,
            "cross_validation": model.metrics["cross_validation"],
            f"{source}-holdout": own,
            f"{target}-holdout": other_holdout,
            f"{target}-all": other_all,
        }
    return report


class NpzCachedEmbedder:
    """An :class:`Embedder` that keeps every vector in one ``.npz`` file (keys: folded-text SHA-256).

    For offline training and evaluation runs only: embeddings of the shared data are then
    computed once. The file holds ``hashes`` (str) and ``vectors`` (float32) arrays.
    """

    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.path = path
        self._vectors: dict[str, FloatMatrix] = {}
        if path.exists():
            with np.load(path, allow_pickle=False) as arrays:
                self._vectors = dict(zip(arrays["hashes"].tolist(), arrays["vectors"], strict=True))

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        keys = [text_hash(t) for t in texts]
        missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in self._vectors}
        if missing:
            fresh = self.inner.embed(list(missing.values()))
            self._vectors.update(zip(missing, fresh, strict=True))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(
                self.path,
                hashes=np.array(list(self._vectors)),
                vectors=np.stack(list(self._vectors.values())),
            )
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, key in enumerate(keys):
            out[row] = self._vectors[key]
        return out


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m models.suggestions [--data D] [--out O] [--cache F] [--cross]``: train, report JSON."""
    import argparse
    import sys

    from models.embedding import MiniLMEmbedder

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("models/artifacts/suggestion_classifier"))
    parser.add_argument("--cache", type=Path, default=None, help="npz file caching embeddings between runs")
    parser.add_argument(
        "--cross", action="store_true", help="also train on each file alone and cross-evaluate"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    embedder: Embedder = MiniLMEmbedder()
    if args.cache is not None:
        embedder = NpzCachedEmbedder(embedder, args.cache)
    report: dict[str, Any] = {"artifact": train_from_shared_data(args.data, args.out, embedder)}
    if args.cross:
        report["cross_dataset"] = cross_dataset_report(args.data, embedder)
    sys.stdout.write(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
