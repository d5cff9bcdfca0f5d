"""The unit-judge options: which training data, which head; and training one end to end.

Training reads only training splits, and only of the sources the training-source policy
allows (:mod:`models.training_sources`; by default the permissive ones): the Tizard training
split (:func:`models.judge_eval.tizard_split`), the project's written posts and the BANKING77
training queries (every one a non-ask); in a research
run also the CLAP and Maalej training splits (:func:`models.datasets.split_train_holdout`) and
the review labels' ``train`` rows. Never the tweet labels (non-commercial licence: evaluation
only), never a test split, never the demo sample.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import numpy.typing as npt

from models.datasets import LabelledTexts, load_clap, load_labelled_csv, load_maalej, split_train_holdout
from models.embedding import Embedder, FloatMatrix
from models.factories import load_scorer
from models.first_stage import FirstStage
from models.first_stage_training import train_first_stage
from models.judge_eval import UnitSplitter, comment_units, labelled_comments, load_tizard
from models.suggestion_mlp import MLPSettings, SuggestionMLP, fit_mlp
from models.suggestion_training import fit_classifier
from models.suggestions import SuggestionClassifier, TrainingConfig
from models.training_sources import PERMISSIVE_SOURCES, TrainingSourceError, check_sources, sources_manifest
from models.unit_training import Fitter, TrainingUnits, UnitModel, comment_thresholds, fit_units
from models.written import read_written

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnitOption:
    """``head`` is ``lr`` or ``mlp``; ``hard`` adds span-labelled and forum data (hard negatives) to
    the comment-labelled reviews; ``threshold_rule`` one of
    :func:`models.unit_training.comment_thresholds`.
    """

    head: str
    hard: bool
    threshold_rule: str = "pooled"
    folds: int = 5
    seed: int = 0


OPTIONS: dict[str, UnitOption] = {
    "lr-units": UnitOption(head="lr", hard=False),
    "lr-units+hard": UnitOption(head="lr", hard=True),
    "mlp-units+hard": UnitOption(head="mlp", hard=True),
    "mlp-units": UnitOption(head="mlp", hard=False),
}
SHIPPED_OPTION = "lr-units+hard"
"""The option ``youasked train suggestions`` ships: the best mean F1 over the test splits."""


COMMENT_LABELLED = ("clap", "maalej")
"""Sources labelled per comment (a positive review is a bag of units); the others are hard data."""


def training_units(
    data_dir: Path | str,
    option: UnitOption,
    *,
    sources: Sequence[str] = PERMISSIVE_SOURCES,
    research: bool = False,
    splitter: UnitSplitter = comment_units,
) -> TrainingUnits:
    """The labelled training units of ``option`` from the ``sources`` the policy allows (see
    :mod:`models.unit_training` for the rules and :func:`models.training_sources.check_sources`
    for the policy); raises :class:`~models.training_sources.TrainingSourceError` when the policy
    refuses a source or the option leaves no source to train on.
    """
    used = used_sources(option, check_sources(sources, research=research))
    units = TrainingUnits()
    if "clap" in used:
        units.add_labelled(split_train_holdout(load_clap(data_dir))[0], splitter)
    if "maalej" in used:
        units.add_labelled(split_train_holdout(load_maalej(data_dir))[0], splitter)
    if "tizard" in used:
        units.add_labelled(load_tizard(data_dir, "train"), splitter, as_units=True)
    if "reviews" in used:
        reviews = [c for c in labelled_comments(data_dir, "review_asks.csv") if c.split == "train"]
        units.add_spanned("reviews-train", [c.text for c in reviews], [c.asks for c in reviews], splitter)
    if "written" in used:
        posts = read_written()
        units.add_spanned("written", [p.text for p in posts], [p.asks for p in posts], splitter)
    if "banking77" in used:
        units.add_labelled(load_banking_queries(data_dir), splitter)
    return units


BANKING_FILE = Path("themes") / "banking77_train.csv"


def load_banking_queries(data_dir: Path | str) -> LabelledTexts:
    """The BANKING77 training queries, every one a non-ask (label 0): customers asking about their
    own card, transfer or account, and how-to questions.
    """
    return load_labelled_csv(Path(data_dir) / BANKING_FILE, "text", "label", (), name="banking77-train")


def used_sources(option: UnitOption, allowed: Sequence[str]) -> tuple[str, ...]:
    """The ``allowed`` sources ``option`` trains on (without ``hard``: the comment-labelled ones);
    raises :class:`~models.training_sources.TrainingSourceError` when none is left.
    """
    used = tuple(name for name in allowed if option.hard or name in COMMENT_LABELLED)
    if not used:
        raise TrainingSourceError(f"option {option} trains on none of the sources {list(allowed)}")
    return used


def fitter_of(option: UnitOption) -> Fitter:
    """The head's fit function ``(texts, labels, vectors, weights) -> model``."""
    config = TrainingConfig()
    if option.head == "mlp":
        return partial(_mlp, config=config, settings=MLPSettings(seed=option.seed))
    if option.head == "lr":
        return partial(_lr, config=config, seed=option.seed)
    raise ValueError(f"unknown head {option.head!r}")


def _lr(
    texts: list[str],
    labels: npt.NDArray[np.int64],
    vectors: FloatMatrix,
    weights: npt.NDArray[np.float64],
    *,
    config: TrainingConfig,
    seed: int,
) -> UnitModel:
    return fit_classifier(texts, labels, vectors, config, seed, weights)


def _mlp(
    texts: list[str],
    labels: npt.NDArray[np.int64],
    vectors: FloatMatrix,
    weights: npt.NDArray[np.float64],
    *,
    config: TrainingConfig,
    settings: MLPSettings,
) -> UnitModel:
    return fit_mlp(texts, labels, vectors, weights, config=config, settings=settings)


def train_option(
    units: TrainingUnits, vectors: FloatMatrix, option: UnitOption
) -> tuple[UnitModel, TrainingUnits]:
    """Fit ``option`` on ``units`` (``vectors`` row per unit) with its cross-validated threshold;
    returns the model and the units it was fitted on (bags resolved).
    """
    fitter = fitter_of(option)
    thresholds = comment_thresholds(units, vectors, fitter, folds=option.folds)
    threshold = thresholds[option.threshold_rule][0]
    model, resolved = fit_units(units, vectors, fitter)
    model.threshold = threshold
    model.metrics["cross_validation"] = {
        "folds": option.folds,
        "rule": option.threshold_rule,
        **{rule: {"threshold": cut, "f1": round(f1, 4)} for rule, (cut, f1) in thresholds.items()},
    }
    logger.info(
        "trained %s: thresholds (cut, cross-validated F1) %s, %d units (%d positive)",
        option,
        thresholds,
        len(resolved.texts),
        sum(resolved.labels),
    )
    return model, resolved


def train_unit_first_stage(
    units: TrainingUnits, vectors: FloatMatrix, judge: UnitModel, *, seed: int = 0
) -> FirstStage:
    """The first stage for units, in front of ``judge``, trained on the resolved training ``units``:
    the protected units (that the threshold keeps ``keep_target`` of, out of fold) are the
    labelled asks the judge accepts.
    """
    labels = np.asarray(units.labels, dtype=np.int64)
    accepted = judge.predict_proba(units.texts, vectors) >= judge.threshold
    protected = (accepted & (labels == 1)).tolist()
    return train_first_stage(units.texts, labels.tolist(), protected, seed=seed)


def load_unit_judge(directory: Path | str) -> SuggestionClassifier | SuggestionMLP:
    """The unit judge artifact in ``directory``: an MLP head or a regression, by its format."""
    return load_scorer(directory)


def train_unit_judge(
    data_dir: Path,
    out_dir: Path,
    embedder: Embedder,
    *,
    first_stage_dir: Path | None = None,
    option_name: str = SHIPPED_OPTION,
    sources: Sequence[str] = PERMISSIVE_SOURCES,
    research: bool = False,
) -> dict[str, object]:
    """Train the option ``option_name`` on the training units of ``sources`` and save it to
    ``out_dir``; with ``first_stage_dir``, also the first stage for units in front of it. Both
    manifests record the sources, their licences and whether the artifact may be shipped
    (evaluation-only sources need ``research``). Returns a summary.
    """
    option = OPTIONS[option_name]
    allowed = check_sources(sources, research=research)
    provenance = sources_manifest(used_sources(option, allowed), research=research)
    started = time.perf_counter()
    units = training_units(data_dir, option, sources=allowed, research=research)
    vectors = embedder.embed(units.texts)
    model, resolved = train_option(units, vectors, option)
    if not isinstance(model, SuggestionClassifier | SuggestionMLP):
        raise TypeError(f"{option_name} trained a {type(model).__name__}, which cannot be saved")
    model.training_data = {
        "option": option_name,
        "units": len(units.texts),
        "comments": len(units.comment_labels),
        "positive_comments": sum(units.comment_labels),
        "sha256_of_units": hashlib.sha256("\n".join(units.texts).encode()).hexdigest(),
        **provenance,
    }
    model.save(out_dir)
    summary: dict[str, object] = {
        "version": model.version,
        "threshold": model.threshold,
        **model.training_data,
    }
    if first_stage_dir is not None:
        by_text = dict(zip(units.texts, vectors, strict=True))
        stage = train_unit_first_stage(resolved, np.stack([by_text[t] for t in resolved.texts]), model)
        stage.training_data = {"units": len(resolved.texts), "in_front_of": model.version, **provenance}
        stage.save(first_stage_dir)
        summary["first_stage"] = {"version": stage.version, "threshold": stage.threshold, **stage.metrics}
    summary["seconds"] = round(time.perf_counter() - started, 1)
    logger.info("wrote %s to %s in %.0f s", model.version, out_dir, summary["seconds"])
    return summary
