"""Training and evaluation of the suggestion classifier (:mod:`models.suggestions`).

:func:`train_suggestion_classifier` fits the regression on labelled texts and picks its
threshold on 5-fold out-of-fold probabilities (training data only);
:func:`train_from_shared_data` trains the shipped artifact on the CLAP and Maalej training
splits and scores their held-out splits; :func:`cross_dataset_report` trains on each file alone
and scores the other. ``python -m models.suggestion_training`` runs them and prints JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
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
from models.embedding import Embedder, FloatMatrix, MiniLMEmbedder
from models.moderation import ModerationPolicy
from models.suggestion_features import build_features
from models.suggestions import (
    WORD_PARAMS,
    SuggestionClassifier,
    TrainingConfig,
    decisions_and_reasons,
    evaluate_binary,
    judge_texts,
    vocabulary_of,
    word_vectorizer,
)
from models.text import text_hash

logger = logging.getLogger(__name__)


def source_weights(groups: Sequence[str] | None, n: int) -> npt.NDArray[np.float64] | None:
    """Per-row weights giving every source (``groups`` value) the same total weight, mean 1."""
    if groups is None:
        return None
    if len(groups) != n:
        raise ValueError("groups must have one value per row")
    counts = Counter(groups)
    return np.array([n / (len(counts) * counts[g]) for g in groups], dtype=np.float64)


def fit_classifier(
    texts: Sequence[str],
    labels: npt.NDArray[np.int64],
    vectors: FloatMatrix,
    config: TrainingConfig,
    seed: int,
    weights: npt.NDArray[np.float64] | None = None,
) -> SuggestionClassifier:
    """The regression of ``config`` fitted on all rows (threshold 0.5; callers set their own)."""
    text_list = list(texts)
    word = word_vectorizer(WORD_PARAMS).fit(text_list)
    patterns = config.cues
    cues = [re.compile(p, re.IGNORECASE) for p in patterns]
    design = build_features(text_list, vectors, word=word, cues=cues, settings=config)
    regression = LogisticRegression(
        C=config.c, class_weight="balanced", max_iter=config.max_iter, random_state=seed
    ).fit(design, labels, sample_weight=weights)
    return SuggestionClassifier(
        word_vocabulary=vocabulary_of(word),
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
        model = fit_classifier(
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
    model = fit_classifier(texts, y, vectors, active, seed, weights)
    if on_step is not None:
        on_step()
    model.threshold = threshold
    model.metrics = {"cross_validation": evaluate_binary(list(scores >= threshold), list(y.astype(bool)))}
    model.metrics["cross_validation"]["folds"] = active.folds
    logger.info(
        "trained %s: threshold %.2f, CV %s", model.version, threshold, model.metrics["cross_validation"]
    )
    return model


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
    decisions, reasons = decisions_and_reasons(
        judge_texts(data.texts, classifier=classifier, embedder=embedder, policy=policy)
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
    """``python -m models.suggestion_training [--data D] [--out O] [--cache F] [--cross]``: train; JSON."""
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
