"""Suggestion classifier: training, threshold, safe artifact round trip, evaluation, data split."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from models.datasets import load_labelled_csv, split_indices, split_train_holdout
from models.moderation import ModerationPolicy
from models.suggestion_training import evaluate_file, train_suggestion_classifier
from models.suggestions import (
    MODEL_FILE,
    WEIGHTS_FILE,
    SuggestionClassifier,
    TrainingConfig,
    evaluate_binary,
)
from tests.fakes import HashingEmbedder

ARTIFACT = Path(__file__).resolve().parents[2] / "models" / "artifacts" / "suggestion_classifier"

FEATURES = [
    "dark mode",
    "an export to pdf",
    "a widget",
    "offline maps",
    "more themes",
    "a search bar",
    "landscape support",
    "a sleep timer",
]
ASKS = [
    "please add {}",
    "it would be nice to have {}",
    "I wish there was {}",
    "you should add {} option",
    "could you add {} in the next update",
]
OTHERS = [
    "the app crashes when I open {}",
    "love it, best app ever",
    "why does {} not load?",
    "terrible, waste of money",
    "works fine on my phone",
    "five stars, great job with {}",
    "it keeps freezing after the update",
    "how do I turn on {}?",
]


def _toy_data() -> tuple[list[str], list[int]]:
    texts: list[str] = []
    labels: list[int] = []
    for i, feature in enumerate(FEATURES):
        for j, ask in enumerate(ASKS):
            if (i + j) % 2 == 0:
                texts.append(ask.format(feature))
                labels.append(1)
        for j, other in enumerate(OTHERS):
            if (i + j) % 2 == 0:
                texts.append(other.format(feature))
                labels.append(0)
    return texts, labels


@pytest.fixture(scope="module")
def toy_model() -> SuggestionClassifier:
    texts, labels = _toy_data()
    vectors = HashingEmbedder().embed(texts)
    return train_suggestion_classifier(texts, labels, vectors, seed=0, config=TrainingConfig(folds=3))


def test_evaluate_binary_counts() -> None:
    result = evaluate_binary([True, True, False, False], [True, False, True, False])
    assert result["n"] == 4 and result["positives"] == 2 and result["true_positives"] == 1
    assert result["precision"] == 0.5 and result["recall"] == 0.5 and result["f1"] == 0.5


def test_evaluate_binary_degenerate() -> None:
    assert evaluate_binary([], [])["f1"] == 0.0
    assert evaluate_binary([False, False], [False, False])["precision"] == 0.0
    with pytest.raises(ValueError):
        evaluate_binary([True], [])


def test_training_separates_toy_data(toy_model: SuggestionClassifier) -> None:
    embedder = HashingEmbedder()
    probe = ["please add a dark theme", "the app crashes all the time"]
    decisions = toy_model.decide(probe, embedder.embed(probe))
    assert decisions.tolist() == [True, False]
    assert 0.05 <= toy_model.threshold <= 0.95
    assert toy_model.metrics["cross_validation"]["n"] == len(_toy_data()[0])


def test_probabilities_shape_and_range(toy_model: SuggestionClassifier) -> None:
    texts = ["please add it", "", "🙂", "x" * 5000]
    proba = toy_model.predict_proba(texts, HashingEmbedder().embed(texts))
    assert proba.shape == (4,) and proba.dtype == np.float64
    assert np.all((proba >= 0.0) & (proba <= 1.0))
    empty = toy_model.predict_proba([], np.zeros((0, 384), dtype=np.float32))
    assert empty.shape == (0,)


def test_threshold_is_honoured(toy_model: SuggestionClassifier) -> None:
    texts, _ = _toy_data()
    vectors = HashingEmbedder().embed(texts)
    proba = toy_model.predict_proba(texts, vectors)
    assert toy_model.decide(texts, vectors).tolist() == (proba >= toy_model.threshold).tolist()
    assert toy_model.decide(texts, vectors, threshold=0.0).all()
    assert not toy_model.decide(texts, vectors, threshold=1.01).any()


def test_save_load_round_trip(toy_model: SuggestionClassifier, tmp_path: Path) -> None:
    toy_model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MODEL_FILE, WEIGHTS_FILE])
    with np.load(tmp_path / WEIGHTS_FILE, allow_pickle=False) as arrays:
        assert all(arrays[name].dtype == np.float64 for name in arrays.files)
    document = json.loads((tmp_path / MODEL_FILE).read_text(encoding="utf-8"))
    assert document["threshold"] == toy_model.threshold and document["version"] == toy_model.version
    loaded = SuggestionClassifier.load(tmp_path)
    texts = ["please add offline maps", "it crashes", "would be nice to export to pdf", "meh"]
    vectors = HashingEmbedder().embed(texts)
    assert np.array_equal(loaded.predict_proba(texts, vectors), toy_model.predict_proba(texts, vectors))
    assert loaded.threshold == toy_model.threshold and loaded.version == toy_model.version
    assert loaded.metrics == toy_model.metrics


def test_training_is_deterministic() -> None:
    texts, labels = _toy_data()
    vectors = HashingEmbedder().embed(texts)
    first = train_suggestion_classifier(texts, labels, vectors, seed=0, config=TrainingConfig(folds=3))
    second = train_suggestion_classifier(texts, labels, vectors, seed=0, config=TrainingConfig(folds=3))
    assert first.version == second.version and first.threshold == second.threshold


def test_load_rejects_foreign_or_tampered_artifact(toy_model: SuggestionClassifier, tmp_path: Path) -> None:
    toy_model.save(tmp_path)
    document = json.loads((tmp_path / MODEL_FILE).read_text(encoding="utf-8"))
    document["threshold"] = 0.01
    (tmp_path / MODEL_FILE).write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError):
        SuggestionClassifier.load(tmp_path)
    document["format"] = "something-else"
    (tmp_path / MODEL_FILE).write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError):
        SuggestionClassifier.load(tmp_path)


def test_training_rejects_bad_input() -> None:
    vectors = HashingEmbedder().embed(["a", "b"])
    with pytest.raises(ValueError):
        train_suggestion_classifier(["a", "b"], [1, 1], vectors)
    with pytest.raises(ValueError):
        train_suggestion_classifier(["a"], [1, 0], vectors)


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_load_labelled_csv_and_split(tmp_path: Path) -> None:
    path = tmp_path / "labelled.csv"
    rows = [
        {
            "id": str(i),
            "title": "Idea" if i % 3 == 0 else "",
            "body": f"comment number {i}",
            "kind": "ASK" if i % 4 == 0 else "OTHER",
            "suspect": "True" if i == 5 else "False",
        }
        for i in range(100)
    ]
    rows.append({"id": "100", "title": "", "body": "  ", "kind": "ASK", "suspect": "False"})
    _write_csv(path, rows)
    data = load_labelled_csv(
        path, "body", "kind", "ASK", id_col="id", title_col="title", drop_if_true="suspect"
    )
    assert len(data) == 99 and "5" not in data.ids
    assert data.texts[0] == "Idea. comment number 0"
    assert data.positives == 25
    train, holdout = split_train_holdout(data)
    assert len(holdout) == 20 and holdout.positives == 5
    assert not set(train.ids) & set(holdout.ids)
    # Stable: row order does not change the split.
    order = list(reversed(range(len(data))))
    _, again = split_indices(
        [data.ids[i] for i in order], [data.labels[i] for i in order], salt="youasked-suggestions-v1:labelled"
    )
    assert sorted(data.ids[order[i]] for i in again) == sorted(holdout.ids)
    assert data.ratings == ()  # no rating column named: none read


def test_load_labelled_csv_keeps_store_ratings_through_a_split(tmp_path: Path) -> None:
    path = tmp_path / "rated.csv"
    stars = ["5", "1", "", "9", "4.0"]  # empty and out of range read as no rating
    rows = [{"id": str(i), "text": f"review {i}", "label": "FR", "rating": r} for i, r in enumerate(stars)]
    _write_csv(path, rows)
    data = load_labelled_csv(path, "text", "label", "FR", id_col="id", rating_col="rating")
    assert data.ratings == (5, 1, None, None, 4)
    part = data.subset([4, 0])
    assert part.ratings == (4, 5)


def test_evaluate_file_runs_moderation_first(toy_model: SuggestionClassifier, tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    _write_csv(
        path,
        [
            {"text": "please add dark mode", "label": "yes"},
            {"text": "please add a widget, use promo code WIN50", "label": "yes"},
            {"text": "🔥🔥🔥", "label": "no"},
            {"text": "the app crashes when I open a widget", "label": "no"},
        ],
    )
    result = evaluate_file(
        path,
        "text",
        "label",
        "yes",
        classifier=toy_model,
        embedder=HashingEmbedder(),
        policy=ModerationPolicy(),
    )
    assert result["n"] == 4 and result["positives"] == 2
    assert result["moderated"] == {"no_letters": 1, "promo_spam": 1}
    assert result["recall"] == 0.5 and result["precision"] == 1.0


def test_committed_artifact_is_small_and_loads() -> None:
    size = sum(p.stat().st_size for p in ARTIFACT.iterdir())
    assert size < 5_000_000
    model = SuggestionClassifier.load(ARTIFACT)
    assert model.embedding_dim == 384 and 0.0 < model.threshold < 1.0
    assert model.training_data["name"] == "clap-train+maalej-train"


@pytest.mark.model
def test_committed_artifact_with_minilm() -> None:
    # The shipped encoder (ONNX Runtime; its vectors match PyTorch's: tests/unit/test_onnx_embedder.py).
    from contracts.settings import Settings
    from models.factories import base_embedder

    encoder = base_embedder(Settings(cache_dir=ARTIFACT.parents[2] / ".cache"))
    model = SuggestionClassifier.load(ARTIFACT)
    suggestions = [
        "Love the app, but please add a dark mode for night reading.",
        "It would be great if I could export my notes to PDF.",
        "I wish there was an option to turn off the sound effects.",
        "You should let us sort the playlist by date added.",
    ]
    others = [
        "Best app ever, thank you so much!",
        "The app crashes every time I open the camera.",
        "Worst purchase I have made this year.",
        "How do I change my password?",
    ]
    texts = suggestions + others
    decisions = model.decide(texts, encoder.embed(texts))
    assert decisions.tolist() == [True] * len(suggestions) + [False] * len(others)
