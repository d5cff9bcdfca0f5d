"""Training of the first stage (:mod:`models.first_stage`) on the shared training splits.

:func:`train_first_stage` fits the regression and sets its threshold for recall on k-fold
out-of-fold scores of the training rows; :func:`train_first_stage_from_shared_data` does it on the
CLAP + Maalej training splits (the rows the classifier was trained on), with the protected rows
being the suggestions the classifier it fronts finds: labelled a suggestion and accepted by it.
Those are the rows whose loss would cost the pipeline recall; a row the classifier misses anyway
costs nothing when the first stage rejects it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from models.datasets import concat, load_clap, load_maalej, split_train_holdout
from models.embedding import Embedder
from models.first_stage import (
    FirstStage,
    FirstStageConfig,
    default_cues,
    first_stage_features,
    recall_threshold,
)
from models.suggestions import SuggestionClassifier
from models.text import text_hash

logger = logging.getLogger(__name__)


def _fit(
    texts: Sequence[str], labels: npt.NDArray[np.int64], config: FirstStageConfig, seed: int
) -> FirstStage:
    cues = default_cues()
    design = first_stage_features(texts, config=config, cues=[re.compile(p, re.IGNORECASE) for p in cues])
    regression = LogisticRegression(
        C=config.c, class_weight="balanced", max_iter=config.max_iter, random_state=seed
    ).fit(design, labels)
    return FirstStage(
        coef=np.asarray(regression.coef_[0], dtype=np.float64),
        intercept=float(regression.intercept_[0]),
        threshold=0.5,
        cues=cues,
        config=config,
    )


def first_stage_out_of_fold(
    texts: Sequence[str], labels: npt.NDArray[np.int64], *, config: FirstStageConfig, seed: int = 0
) -> npt.NDArray[np.float64]:
    """Stratified ``config.folds``-fold out-of-fold scores of the first stage, shape ``(n,)``."""
    text_list = list(texts)
    scores = np.zeros(len(labels), dtype=np.float64)
    folds = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=seed)
    for train_rows, test_rows in folds.split(np.zeros(len(labels)), labels):
        model = _fit([text_list[i] for i in train_rows], labels[train_rows], config, seed)
        scores[test_rows] = model.predict_proba([text_list[i] for i in test_rows])
    return scores


def _share(mask: npt.NDArray[np.bool_], of: npt.NDArray[np.bool_] | None = None) -> float:
    base = mask if of is None else mask[of]
    return round(float(base.mean()), 4) if base.size else 0.0


def train_first_stage(
    texts: Sequence[str],
    labels: Sequence[int],
    protected: Sequence[bool],
    *,
    config: FirstStageConfig | None = None,
    seed: int = 0,
) -> FirstStage:
    """Train on ``texts`` with 0/1 ``labels``; the threshold keeps ``config.keep_target`` of ``protected``.

    ``protected[i]`` marks a row the first stage must pass on (a labelled suggestion the second
    stage finds). The threshold is :func:`models.first_stage.recall_threshold` of the
    out-of-fold scores of a stratified k-fold cross-validation on these rows; the final weights
    are then fitted on all rows. ``metrics["cross_validation"]`` holds, at that threshold, the
    share of rows passed on and the share of protected and of labelled rows kept.
    Deterministic for a given ``seed``.
    """
    active = config or FirstStageConfig()
    y = np.asarray(labels, dtype=np.int64)
    keep = np.asarray(protected, dtype=np.bool_)
    if not len(texts) == len(y) == len(keep):
        raise ValueError("texts, labels and protected must have the same length")
    if len(set(y.tolist())) != 2:
        raise ValueError("labels must contain both 0 and 1")
    scores = first_stage_out_of_fold(texts, y, config=active, seed=seed)
    threshold = recall_threshold(scores, keep, active.keep_target)
    passed = scores >= threshold
    model = _fit(texts, y, active, seed)
    model.threshold = threshold
    model.metrics = {
        "cross_validation": {
            "folds": active.folds,
            "n": len(y),
            "pass_rate": _share(passed),
            "protected": int(keep.sum()),
            "protected_kept": _share(passed, keep),
            "positives": int(y.sum()),
            "positives_kept": _share(passed, y.astype(bool)),
        }
    }
    logger.info(
        "trained %s: threshold %.4f, CV %s", model.version, threshold, model.metrics["cross_validation"]
    )
    return model


def train_first_stage_from_shared_data(
    data_dir: Path,
    out_dir: Path,
    embedder: Embedder,
    classifier: SuggestionClassifier,
    *,
    seed: int = 0,
    config: FirstStageConfig | None = None,
    on_step: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Train the first stage on the CLAP + Maalej training splits in front of ``classifier``; save it.

    Each file is embedded in one pass in file order (as the classifier's training does) to know
    which training rows ``classifier`` accepts; the holdout splits are not read by the training.
    Returns the artifact's version, threshold and metrics.
    """
    parts = []
    for data in (load_clap(data_dir), load_maalej(data_dir)):
        vectors = dict(zip(map(text_hash, data.texts), embedder.embed(list(data.texts)), strict=True))
        train = split_train_holdout(data)[0]
        accepted = classifier.decide(train.texts, np.stack([vectors[text_hash(t)] for t in train.texts]))
        parts.append((train, accepted))
        if on_step is not None:
            on_step()
    data = concat([part for part, _ in parts], name="clap-train+maalej-train")
    accepted_all = np.concatenate([accepted for _, accepted in parts])
    protected = accepted_all & np.asarray(data.labels, dtype=np.bool_)
    model = train_first_stage(data.texts, data.labels, protected.tolist(), config=config, seed=seed)
    if on_step is not None:
        on_step()
    model.training_data = {
        **data.describe(),
        "sha256_of_ids": hashlib.sha256("\n".join(data.ids).encode()).hexdigest(),
        "protected": "labelled a suggestion and accepted by " + classifier.version,
        "sources": {
            "clap": "CLAP Google Play reviews (Scalabrino et al. 2017), category FEATURE; licence not stated",
            "maalej": "Maalej et al. 2016 app reviews, category FR, suspect_label rows dropped; "
            "licence not stated",
        },
    }
    model.save(out_dir)
    logger.info("wrote %s to %s", model.version, out_dir)
    return {"version": model.version, "threshold": model.threshold, **model.metrics}
