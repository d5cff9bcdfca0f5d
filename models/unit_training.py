"""Training a suggestion judge on units (sentences and clauses) rather than whole comments.

Training comments come in three shapes, all turned into labelled units by a unit splitter:

* **span-labelled** (the review labels' train split, the project's written posts): a unit that
  overlaps a labelled ask span is an ask (1), every other unit is not (0);
* **comment-labelled** (CLAP and Maalej training splits): every unit of a negative comment is 0;
  a positive comment with one unit gives a 1; a positive comment with several units is a *bag*
  (multiple-instance learning): after a first fit on the decided units, its best-scoring unit
  becomes the 1 and its other units are left out (they may or may not ask);
* **sentences** (the Tizard training split): each sentence is one unit.

The threshold is chosen on training data only: grouped k-fold out-of-fold unit scores, a
comment's score is its best unit's, and the threshold maximizes comment-level F1 over the
training comments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import GroupKFold

from models.datasets import LabelledTexts
from models.embedding import FloatMatrix
from models.judge_eval import UnitSplitter
from models.suggestion_training import best_f1_threshold

logger = logging.getLogger(__name__)

UNDECIDED = -1
Span = tuple[int, int]


@dataclass
class TrainingUnits:
    """Parallel lists: unit ``texts``, ``labels`` (1, 0 or :data:`UNDECIDED` inside a bag),
    the ``owners`` (comment index) and ``sources`` of each unit; ``comment_labels`` per comment.
    """

    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    comment_labels: list[int] = field(default_factory=list)

    def add_comment(self, source: str, label: int, units: Sequence[tuple[str, int]]) -> None:
        """Append one comment with its ``(unit text, unit label)`` pairs."""
        owner = len(self.comment_labels)
        self.comment_labels.append(label)
        for text, unit_label in units:
            self.texts.append(text)
            self.labels.append(unit_label)
            self.owners.append(owner)
            self.sources.append(source)

    def add_spanned(
        self, source: str, texts: Sequence[str], spans: Sequence[Sequence[Span]], splitter: UnitSplitter
    ) -> None:
        """Comments with ask spans: a unit overlapping a span is 1, any other unit 0."""
        for text, asks in zip(texts, spans, strict=True):
            units = [
                (unit, int(any(s < end and start < e for s, e in asks)))
                for start, end, unit in splitter(text)
            ]
            self.add_comment(source, int(bool(asks)), units)

    def add_labelled(self, data: LabelledTexts, splitter: UnitSplitter, *, as_units: bool = False) -> None:
        """Comment-labelled texts (bags when positive with several units), or sentences as units."""
        for text, label in zip(data.texts, data.labels, strict=True):
            pieces = [text] if as_units else [unit for _, _, unit in splitter(text)]
            unit_label = label if len(pieces) == 1 or label == 0 else UNDECIDED
            self.add_comment(data.name, label, [(piece, unit_label) for piece in pieces])


class UnitModel(Protocol):
    """What a unit fitter returns: scores per text from text and embedding."""

    threshold: float
    metrics: dict[str, Any]

    def predict_proba(self, texts: Sequence[str], vectors: FloatMatrix) -> npt.NDArray[np.float64]:
        """Scores, shape ``(n,)``."""
        ...


Fitter = Callable[[list[str], npt.NDArray[np.int64], FloatMatrix, npt.NDArray[np.float64]], UnitModel]


def source_weights(sources: Sequence[str]) -> npt.NDArray[np.float64]:
    """Per-unit weights giving each source the same total weight (mean 1)."""
    names, inverse, counts = np.unique(np.asarray(sources), return_inverse=True, return_counts=True)
    return np.asarray(len(sources) / (len(names) * counts[inverse]), dtype=np.float64)


def resolve_bags(
    units: TrainingUnits, scores: npt.NDArray[np.float64]
) -> tuple[TrainingUnits, npt.NDArray[np.intp]]:
    """Each bag's best-scoring unit becomes 1, the bag's other units are dropped; returns the
    resolved units and the rows of ``units`` they come from.
    """
    labels = np.asarray(units.labels)
    keep = labels != UNDECIDED
    best: dict[int, int] = {}
    for row in np.flatnonzero(~keep):
        owner = units.owners[row]
        if owner not in best or scores[row] > scores[best[owner]]:
            best[owner] = int(row)
    new_labels = list(units.labels)
    for chosen in best.values():
        keep[chosen] = True
        new_labels[chosen] = 1
    rows = np.flatnonzero(keep)
    return _subset(replace(units, labels=new_labels), rows), rows


def _decided(units: TrainingUnits) -> npt.NDArray[np.intp]:
    return np.flatnonzero(np.asarray(units.labels) != UNDECIDED)


def fit_units(units: TrainingUnits, vectors: FloatMatrix, fitter: Fitter) -> tuple[UnitModel, TrainingUnits]:
    """Fit on the decided units, resolve the bags with that model, fit again on all; returns the
    model and the resolved units (``vectors`` row ``i`` belongs to ``units.texts[i]``). When no
    unit is decided positive, the first fit takes every bag unit as positive.
    """
    seed = units
    rows = _decided(units)
    if len({units.labels[i] for i in rows}) < 2:  # no decided ask yet: every bag unit counts as one
        seed = replace(units, labels=[1 if label == UNDECIDED else label for label in units.labels])
        rows = np.arange(len(units.labels))
    weights = source_weights([seed.sources[i] for i in rows])
    first = fitter([seed.texts[i] for i in rows], np.asarray(seed.labels)[rows], vectors[rows], weights)
    resolved, kept = resolve_bags(units, first.predict_proba(units.texts, vectors))
    model = fitter(
        resolved.texts, np.asarray(resolved.labels), vectors[kept], source_weights(resolved.sources)
    )
    return model, resolved


def out_of_fold_comment_scores(
    units: TrainingUnits, vectors: FloatMatrix, fitter: Fitter, *, folds: int = 5
) -> npt.NDArray[np.float64]:
    """Grouped out-of-fold comment scores, shape ``(comments,)``: each comment's best unit score
    from a model fitted (bags resolved) on the other folds' comments.
    """
    owners = np.asarray(units.owners)
    unit_scores = np.zeros(len(units.texts), dtype=np.float64)
    for train_rows, test_rows in GroupKFold(n_splits=folds).split(owners, groups=owners):
        part = _subset(units, train_rows)
        model, _ = fit_units(part, vectors[train_rows], fitter)
        unit_scores[test_rows] = model.predict_proba([units.texts[i] for i in test_rows], vectors[test_rows])
    best = np.zeros(len(units.comment_labels), dtype=np.float64)
    np.maximum.at(best, owners, unit_scores)
    return best


def comment_sources(units: TrainingUnits) -> list[str]:
    """Each comment's source (the source of its units)."""
    sources = [""] * len(units.comment_labels)
    for owner, source in zip(units.owners, units.sources, strict=True):
        sources[owner] = source
    return sources


def source_mean_threshold(
    scores: npt.NDArray[np.float64], labels: Sequence[int], sources: Sequence[str]
) -> tuple[float, float]:
    """The threshold in a 0.01 grid over [0.05, 0.95] maximizing the mean over sources (those with
    an ask) of comment-level F1; ties go to the cut closest to 0.5. Returns ``(t, mean F1)``.
    """
    gold = np.asarray(labels, dtype=np.bool_)
    names = np.asarray(sources)
    groups = [names == name for name in sorted(set(sources)) if gold[names == name].any()]
    best = (0.5, -1.0)
    for cut in sorted(np.round(np.arange(0.05, 0.951, 0.01), 2), key=lambda t: (abs(t - 0.5), t)):
        said = scores >= cut
        f1s = [2 * (said & gold & g).sum() / max(said[g].sum() + gold[g].sum(), 1) for g in groups]
        if float(np.mean(f1s)) > best[1] + 1e-12:
            best = (float(cut), float(np.mean(f1s)))
    return best


def comment_thresholds(
    units: TrainingUnits, vectors: FloatMatrix, fitter: Fitter, *, folds: int = 5
) -> dict[str, tuple[float, float]]:
    """Both threshold rules on the same out-of-fold comment scores: ``pooled`` (F1 over all
    training comments) and ``source-mean`` (mean F1 over training sources); ``(t, F1)`` each.
    """
    scores = out_of_fold_comment_scores(units, vectors, fitter, folds=folds)
    labels = np.asarray(units.comment_labels, dtype=np.int64)
    return {
        "pooled": best_f1_threshold(scores, labels),
        "source-mean": source_mean_threshold(scores, units.comment_labels, comment_sources(units)),
    }


def _subset(units: TrainingUnits, rows: npt.NDArray[np.intp]) -> TrainingUnits:
    return replace(
        units,
        texts=[units.texts[i] for i in rows],
        labels=[units.labels[i] for i in rows],
        owners=[units.owners[i] for i in rows],
        sources=[units.sources[i] for i in rows],
    )
