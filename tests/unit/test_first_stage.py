import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from contracts.events import Verdict
from contracts.settings import Settings
from models.datasets import load_clap, load_maalej, split_train_holdout
from models.embedding import FloatMatrix
from models.factories import DEFAULT_FIRST_STAGE_DIR, first_stage
from models.first_stage import FirstStage, FirstStageConfig, recall_threshold
from models.first_stage_training import train_first_stage
from models.judge import JudgeInput, SuggestionJudge
from models.moderation import ModerationPolicy
from tests.fakes import HashingEmbedder

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        self.seen.extend(texts)
        return super().embed(texts)


class KeywordScorer:
    """The second stage: 0.9 when the text says 'add', else 0.1."""

    threshold = 0.5
    version = "keyword-test"

    def predict_proba(self, texts: Sequence[str], vectors: FloatMatrix) -> np.ndarray:
        return np.array([0.9 if "add" in t else 0.1 for t in texts])


class WishFirstStage:
    """The first stage: 0.8 when the text says 'add' or 'wish', else 0.02."""

    threshold = 0.3
    version = "first-test"

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([0.8 if ("add" in t or "wish" in t) else 0.02 for t in texts])


T0 = datetime(2026, 1, 1, tzinfo=UTC)

REQUESTS = [
    "please add a dark mode",
    "would be nice to have an export option",
    "i wish you could add offline maps",
    "add support for tablets please",
    "it would be great if we could change the font size",
    "please let us sort by date",
    "could you add a widget",
    "i would love an option to mute replies",
]
OTHERS = [
    "the app crashes when i open it",
    "love it, five stars",
    "terrible update, everything is slow",
    "how do i log out",
    "works fine on my phone",
    "great game, my kids play it every day",
    "login fails since yesterday",
    "too many ads",
]


def small_training_set() -> tuple[list[str], list[int]]:
    texts = [f"{t} {suffix}" for suffix in ("", "today", "thanks") for t in REQUESTS + OTHERS]
    labels = [1 if t.split(" today")[0].split(" thanks")[0].strip() in REQUESTS else 0 for t in texts]
    return texts, labels


def test_a_rejected_comment_is_classified_with_the_first_stage_reason_and_never_embedded() -> None:
    embedder = CountingEmbedder()
    judge = SuggestionJudge(
        embedder=embedder, scorer=KeywordScorer(), policy=ModerationPolicy(), first_stage=WishFirstStage()
    )
    items = [
        JudgeInput(text, "x:a", T0)
        for text in ("please add a dark mode", "the map is slow today", "🔥🔥🔥", "i wish it had tabs")
    ]
    _, judgements, vectors = judge.judge(items, None)
    assert [j.verdict for j in judgements] == [
        Verdict.SUGGESTION,
        Verdict.NOT_SUGGESTION,
        Verdict.MODERATED,
        Verdict.NOT_SUGGESTION,
    ]
    assert [j.reason for j in judgements] == ["classifier", "first_stage", "no_letters", "classifier"]
    rejected = judgements[1]
    assert rejected.score == pytest.approx(0.02) and "first-stage score 0.020 < 0.300" in rejected.detail
    assert embedder.seen == ["please add a dark mode", "i wish it had tabs"]
    assert vectors.shape == (1, embedder.dim) and vectors[0].any()  # one row per ask


def test_without_a_first_stage_every_moderated_pass_is_embedded() -> None:
    embedder = CountingEmbedder()
    judge = SuggestionJudge(embedder=embedder, scorer=KeywordScorer(), policy=ModerationPolicy())
    _, judgements, _ = judge.judge([JudgeInput("the map is slow today", "x:a", T0)], None)
    assert judgements[0].reason == "classifier" and embedder.seen == ["the map is slow today"]


def test_the_setting_turns_the_first_stage_off() -> None:
    assert first_stage(Settings(first_stage=False)) is None
    assert isinstance(first_stage(Settings()), FirstStage)


def test_the_shipped_artifact_loads_without_pickle(tmp_path: Path) -> None:
    with zipfile.ZipFile(DEFAULT_FIRST_STAGE_DIR / "weights.npz") as archive:
        assert sorted(archive.namelist()) == ["indices.npy", "values.npy"]
    with np.load(DEFAULT_FIRST_STAGE_DIR / "weights.npz", allow_pickle=False) as arrays:
        assert arrays["indices"].dtype == np.int64 and arrays["values"].dtype == np.float64
    model = FirstStage.load(DEFAULT_FIRST_STAGE_DIR)
    assert 0.0 < model.threshold < 1.0 and model.version.startswith("first-stage-")
    model.save(tmp_path)
    again = FirstStage.load(tmp_path)
    texts = ["please add a dark mode", "crashes on start"]
    assert again.version == model.version
    assert np.array_equal(again.predict_proba(texts), model.predict_proba(texts))


def test_a_tampered_artifact_is_refused(tmp_path: Path) -> None:
    FirstStage.load(DEFAULT_FIRST_STAGE_DIR).save(tmp_path)
    document = (tmp_path / "model.json").read_text(encoding="utf-8")
    (tmp_path / "model.json").write_text(
        document.replace('"threshold": 0.', '"threshold": 0.0'), encoding="utf-8"
    )
    with pytest.raises(ValueError, match="version mismatch"):
        FirstStage.load(tmp_path)


def test_training_is_reproducible_and_keeps_the_protected_rows_out_of_fold() -> None:
    texts, labels = small_training_set()
    config = FirstStageConfig(folds=3, word_bits=12, char_bits=12, keep_target=1.0)
    first = train_first_stage(texts, labels, [bool(y) for y in labels], config=config)
    second = train_first_stage(texts, labels, [bool(y) for y in labels], config=config)
    assert first.version == second.version
    assert np.array_equal(first.coef, second.coef) and first.threshold == second.threshold
    assert first.metrics["cross_validation"]["protected_kept"] == 1.0
    assert first.passes([t for t, y in zip(texts, labels, strict=True) if y]).all()


def test_the_recall_threshold_lets_only_the_allowed_share_of_protected_rows_fall_below() -> None:
    rng = np.random.default_rng(0)
    scores = rng.random(1000)
    protected = rng.random(1000) < 0.2
    for keep in (0.9, 0.99, 0.995, 1.0):
        cut = recall_threshold(scores, protected, keep)
        kept = (scores[protected] >= cut).mean()
        assert kept >= keep
        # the highest such cut: one step higher loses one more protected row
        assert (scores[protected] > cut).mean() < keep
    assert recall_threshold(scores, np.zeros(1000, dtype=bool), 0.995) == 0.0


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="needs ../shared/data")
def test_the_shipped_first_stage_passes_on_the_training_suggestions() -> None:
    """The recall guard: of the labelled suggestions of the training splits (a superset of the
    ones the classifier finds), the shipped first stage passes on at least 99%."""
    model = FirstStage.load(DEFAULT_FIRST_STAGE_DIR)
    for data in (load_clap(SHARED_DATA), load_maalej(SHARED_DATA)):
        train = split_train_holdout(data)[0]
        positives = [t for t, y in zip(train.texts, train.labels, strict=True) if y]
        assert model.passes(positives).mean() >= 0.99, data.name
        negatives = [t for t, y in zip(train.texts, train.labels, strict=True) if not y]
        assert model.passes(negatives).mean() < 0.6, data.name  # it does reject most non-asks


def test_a_unit_the_first_stage_rejects_is_still_the_neighbour_an_ask_is_quoted_with() -> None:
    embedder = CountingEmbedder()
    judge = SuggestionJudge(
        embedder=embedder, scorer=KeywordScorer(), policy=ModerationPolicy(), first_stage=WishFirstStage()
    )
    text = "Any way to get the GPX of a recorded hike? If not, please add it!"
    _, judgements, vectors = judge.judge([JudgeInput(text, "x:a", T0)], None)
    (ask,) = judgements[0].asks
    assert ask.text == text and (ask.start, ask.end) == (0, len(text)) and ask.score == pytest.approx(0.9)
    assert "1 ask of 1 units scored" in judgements[0].detail  # the question was never embedded to judge
    assert embedder.seen[0] == "If not, please add it!" and vectors.shape == (1, embedder.dim)
