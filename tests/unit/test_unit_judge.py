"""Unit judges: the provisional splitter, comment-level scoring, bag resolution, the MLP head."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from models.datasets import LabelledTexts
from models.embedding import FloatMatrix
from models.judge_eval import (
    Contender,
    EvalSplit,
    ask_overlap,
    comment_scores,
    comment_units,
    evaluate,
    extracted_asks,
)
from models.suggestion_mlp import MLPSettings, SuggestionMLP, fit_mlp
from models.suggestions import SuggestionClassifier, TrainingConfig
from models.unit_judge import UnitOption, fitter_of, load_unit_judge, train_option
from models.unit_training import UNDECIDED, TrainingUnits, comment_thresholds, fit_units, resolve_bags
from tests.fakes import HashingEmbedder


class KeywordScorer:
    """Scores 0.9 for a text holding ``add``, else 0.1."""

    threshold = 0.5

    def predict_proba(self, texts: Sequence[str], vectors: FloatMatrix) -> npt.NDArray[np.float64]:
        assert len(texts) == vectors.shape[0]
        return np.array([0.9 if "add" in t else 0.1 for t in texts], dtype=np.float64)


def test_units_keep_honest_offsets_on_social_text() -> None:
    text = "Love it!! pls add dark mode\nalso sync is slow. why can't I export?? thx"
    units = comment_units(text)
    assert len(units) >= 3
    assert "pls add dark mode" in [u for _, _, u in units]
    for start, end, unit in units:
        assert text[start:end] == unit


def test_a_comment_is_as_ask_like_as_its_best_unit() -> None:
    embedder = HashingEmbedder()
    texts = ["Great app. Please add a widget.", "Great app. Works well."]
    scored = comment_scores(texts, KeywordScorer(), embedder.embed, comment_units)
    assert scored.scores.tolist() == [0.9, 0.1]
    assert (scored.judged, scored.texts) == (4, 4)
    whole = comment_scores(["add it", "no"], KeywordScorer(), embedder.embed, None)
    assert whole.scores.tolist() == [0.9, 0.1]


class PleaseGate:
    """Passes on texts holding ``please``."""

    threshold = 0.5

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        return np.array([1.0 if "please" in t.lower() else 0.0 for t in texts])


def test_a_gate_keeps_units_from_the_judge() -> None:
    texts = ["Great app. Please add a widget.", "Nice. add tabs."]
    scored = comment_scores(texts, KeywordScorer(), HashingEmbedder().embed, comment_units, PleaseGate())
    assert scored.scores.tolist() == [0.9, 0.0]
    assert scored.judged == 1
    assert scored.texts == sum(len(comment_units(t)) for t in texts)


def test_evaluate_reports_every_split_and_the_mean() -> None:
    split = EvalSplit(name="demo", texts=("Nice. pls add a timer.", "Nice.", "Crashes."), labels=(1, 0, 1))
    report = evaluate([Contender("kw", KeywordScorer())], [split], vectors=HashingEmbedder().embed)
    assert report["kw"]["demo"]["precision"] == 1.0
    assert report["kw"]["demo"]["recall"] == 0.5
    assert report["kw"]["mean_f1"] == report["kw"]["demo"]["f1"]


def test_spans_label_units_and_bags_wait_for_a_score() -> None:
    units = TrainingUnits()
    units.add_spanned("s", ["It crashes. Please add a timer."], [((12, 31),)], comment_units)
    data = LabelledTexts("c", ("a", "b"), ("Nice app. Add tabs please.", "Slow."), (1, 0))
    units.add_labelled(data, comment_units)
    assert units.labels == [0, 1, UNDECIDED, UNDECIDED, 0]
    assert units.comment_labels == [1, 1, 0]
    resolved, rows = resolve_bags(units, np.array([0.0, 0.0, 0.2, 0.7, 0.0]))
    assert resolved.texts == ["It crashes.", "Please add a timer.", "Add tabs please.", "Slow."]
    assert resolved.labels == [0, 1, 1, 0]
    assert rows.tolist() == [0, 1, 3, 4]


def _toy_units() -> TrainingUnits:
    units = TrainingUnits()
    features = ["dark mode", "a widget", "offline maps", "tabs", "a timer", "export", "search", "themes"]
    for i, feature in enumerate(features * 3):
        units.add_labelled(
            LabelledTexts("toy", (str(i),), (f"Good app. Please add {feature}.",), (1,)), comment_units
        )
        units.add_labelled(
            LabelledTexts("toy", (f"n{i}",), (f"The {feature} screen crashes. Love it otherwise.",), (0,)),
            comment_units,
        )
    return units


@pytest.mark.parametrize("head", ["lr", "mlp"])
def test_unit_training_learns_and_picks_a_threshold_on_training_data(head: str) -> None:
    units = _toy_units()
    vectors = HashingEmbedder().embed(units.texts)
    fitter = fitter_of(UnitOption(head=head, hard=False, folds=3))
    thresholds = comment_thresholds(units, vectors, fitter, folds=3)
    threshold, f1 = thresholds["pooled"]
    assert thresholds["source-mean"][1] > 0.8
    model, resolved = fit_units(units, vectors, fitter)
    assert 0.05 <= threshold <= 0.95 and f1 > 0.8
    asks = [t for t, label in zip(resolved.texts, resolved.labels, strict=True) if label == 1]
    assert asks and all(t.startswith("Please add") for t in asks)
    scores = model.predict_proba(
        ["Please add a calendar.", "The calendar crashes."],
        HashingEmbedder().embed(["Please add a calendar.", "The calendar crashes."]),
    )
    assert scores[0] > scores[1]


def test_mlp_training_is_reproducible_and_round_trips(tmp_path: Path) -> None:
    units = _toy_units()
    vectors = HashingEmbedder().embed(units.texts)
    labels = np.array([max(label, 0) for label in units.labels], dtype=np.int64)
    weights = np.ones(len(labels))

    def train() -> SuggestionMLP:
        return fit_mlp(
            units.texts, labels, vectors, weights, config=TrainingConfig(), settings=MLPSettings(epochs=10)
        )

    first, second = train(), train()
    assert first.version == second.version
    first.save(tmp_path / "mlp")
    loaded = SuggestionMLP.load(tmp_path / "mlp")
    assert loaded.version == first.version
    np.testing.assert_allclose(
        loaded.predict_proba(units.texts, vectors), first.predict_proba(units.texts, vectors), rtol=1e-6
    )
    (tmp_path / "mlp" / "model.json").write_text(
        (tmp_path / "mlp" / "model.json").read_text().replace('"threshold": 0.5', '"threshold": 0.25')
    )
    with pytest.raises(ValueError, match="version mismatch"):
        SuggestionMLP.load(tmp_path / "mlp")


def test_ask_overlap_counts_extracted_and_labelled_asks() -> None:
    text = "Great app. pls add a timer. It crashes. Also add tabs."
    split = EvalSplit(name="s", texts=(text,), labels=(1,), spans=(((11, 27),),))
    figures = ask_overlap(split, KeywordScorer(), vectors=HashingEmbedder().embed)
    assert figures["extracted_asks"] == 2 and figures["labelled_asks"] == 1
    assert figures["span_precision"] == 0.5 and figures["span_recall"] == 1.0


def test_a_reason_after_an_ask_is_not_extracted_as_an_ask() -> None:
    text = "pls add a timer. It would make add-ons so much nicer. Would make adding trips easy."
    split = EvalSplit(name="s", texts=(text,), labels=(1,), spans=(((0, 16),),))
    figures = ask_overlap(split, KeywordScorer(), vectors=HashingEmbedder().embed)
    # the scorer takes all three for asks; the two reasons after the ask are not extracted
    assert figures["extracted_asks"] == 1 and figures["span_precision"] == 1.0


def test_a_reason_after_a_unit_that_is_no_ask_is_extracted_with_that_unit() -> None:
    text = "Photo markers pls. Would make adding trips easy."
    split = EvalSplit(name="s", texts=(text,), labels=(1,), spans=(((0, 18),),))
    assert extracted_asks(split.texts, KeywordScorer(), HashingEmbedder().embed, comment_units) == [[(0, 48)]]
    figures = ask_overlap(split, KeywordScorer(), vectors=HashingEmbedder().embed)
    assert figures["extracted_asks"] == 1 and figures["span_precision"] == 1.0


def test_unit_judge_training_twice_gives_the_same_artifact(tmp_path: Path) -> None:
    units = _toy_units()
    vectors = HashingEmbedder().embed(units.texts)
    option = UnitOption(head="lr", hard=True, folds=3)
    versions = []
    for run in ("a", "b"):
        model, _ = train_option(units, vectors, option)
        assert isinstance(model, SuggestionClassifier)
        model.save(tmp_path / run)
        versions.append(load_unit_judge(tmp_path / run).version)
    assert versions[0] == versions[1]
    assert (tmp_path / "a" / "weights.npz").read_bytes() == (tmp_path / "b" / "weights.npz").read_bytes()


def test_a_gate_keeps_asks_from_being_extracted() -> None:
    text = "Great app. please add a timer. Also add tabs."
    split = EvalSplit(name="s", texts=(text,), labels=(1,), spans=(((11, 30),),))
    figures = ask_overlap(split, KeywordScorer(), vectors=HashingEmbedder().embed, gate=PleaseGate())
    assert figures["extracted_asks"] == 1 and figures["span_precision"] == 1.0
