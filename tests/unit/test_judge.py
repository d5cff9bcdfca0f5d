from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from contracts.events import Verdict
from models.embedding import FloatMatrix
from models.judge import JudgeInput, SuggestionJudge
from models.moderation import ModerationPolicy, RateLimitState
from tests.fakes import HashingEmbedder


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        self.seen.extend(texts)
        return super().embed(texts)


class KeywordScorer:
    """Scores 0.9 when the text says 'add', else 0.1."""

    threshold = 0.5
    version = "keyword-test"

    def predict_proba(self, texts: Sequence[str], vectors: FloatMatrix) -> np.ndarray:
        assert len(texts) == len(vectors)
        return np.array([0.9 if "add" in t else 0.1 for t in texts])


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def item(text: str, author: str = "x:a", minutes: int = 0) -> JudgeInput:
    return JudgeInput(text, author, T0 + timedelta(minutes=minutes))


def test_moderated_comments_are_not_embedded_and_the_threshold_decides() -> None:
    embedder = CountingEmbedder()
    judge = SuggestionJudge(embedder=embedder, scorer=KeywordScorer(), policy=ModerationPolicy())
    items = [
        item("please add a dark mode"),
        item("🔥🔥🔥"),
        item("the map is slow today"),
        item("free followers, dm me now"),
    ]
    _, judgements, vectors = judge.judge(items, None)
    assert [j.verdict for j in judgements] == [
        Verdict.SUGGESTION,
        Verdict.MODERATED,
        Verdict.NOT_SUGGESTION,
        Verdict.MODERATED,
    ]
    assert embedder.seen == ["please add a dark mode", "the map is slow today"]
    assert judgements[1].reason == "no_letters" and judgements[1].score is None
    assert judgements[0].score == 0.9 and judgements[0].reason == "classifier"
    assert vectors.shape == (1, embedder.dim)


def test_rate_limit_applies_per_author_within_the_window() -> None:
    policy = ModerationPolicy(max_posts_per_author=2, author_window_seconds=600)
    judge = SuggestionJudge(embedder=HashingEmbedder(), scorer=KeywordScorer(), policy=policy)
    items = [item(f"please add feature number {i}", minutes=i) for i in range(3)]
    items.append(item("please add feature number 9", minutes=30))
    items.append(item("please add feature for another author", author="x:b", minutes=1))
    state, judgements, _ = judge.judge(items, RateLimitState())
    assert [j.reason for j in judgements] == [
        "classifier",
        "classifier",
        "rate_limited",
        "classifier",
        "classifier",
    ]
    assert state is not None and len(state) == 2


def test_without_policy_everything_reaches_the_classifier() -> None:
    judge = SuggestionJudge(embedder=HashingEmbedder(), scorer=KeywordScorer(), policy=None)
    _, judgements, _ = judge.judge([item("🔥"), item("add it")], None)
    assert [j.verdict for j in judgements] == [Verdict.NOT_SUGGESTION, Verdict.SUGGESTION]


def test_each_unit_is_judged_and_the_asks_carry_their_spans() -> None:
    embedder = CountingEmbedder()
    judge = SuggestionJudge(embedder=embedder, scorer=KeywordScorer(), policy=ModerationPolicy())
    comment = "@acme Love the app so much. Please add folders!\nthe sync is slow\nadd a dark mode pls"
    _, (judgement,), vectors = judge.judge([item(comment)], None)
    assert judgement.verdict is Verdict.SUGGESTION and judgement.score == 0.9
    assert [ask.text for ask in judgement.asks] == ["Please add folders!", "add a dark mode pls"]
    assert all(comment[ask.start : ask.end] == ask.text for ask in judgement.asks)
    assert "2 asks of 3 units scored" in judgement.detail  # "Love the app so much." is plain praise
    assert np.allclose(vectors, HashingEmbedder().embed(["Please add folders!", "add a dark mode pls"]))


def test_a_comment_without_an_ask_scores_its_best_unit() -> None:
    judge = SuggestionJudge(embedder=HashingEmbedder(), scorer=KeywordScorer(), policy=None)
    _, (judgement,), vectors = judge.judge([item("Love it. The sync is slow.")], None)
    assert judgement.verdict is Verdict.NOT_SUGGESTION and judgement.asks == () and judgement.score == 0.1
    assert vectors.shape == (0, HashingEmbedder().dim)


def test_each_distinct_unit_is_embedded_once_per_batch() -> None:
    embedder = CountingEmbedder()
    judge = SuggestionJudge(embedder=embedder, scorer=KeywordScorer(), policy=None, non_ask_rules=False)
    _, judgements, vectors = judge.judge(
        [item("Please add folders. Love it."), item("Love it. Please add folders.")], None
    )
    assert sorted(embedder.seen) == ["Love it.", "Please add folders."]
    assert [len(j.asks) for j in judgements] == [1, 1] and vectors.shape[0] == 2


def test_a_comment_of_only_quoted_text_has_no_units() -> None:
    judge = SuggestionJudge(embedder=HashingEmbedder(), scorer=KeywordScorer(), policy=None)
    _, (judgement,), _ = judge.judge([item("RT @other: please add folders")], None)
    assert judgement.verdict is Verdict.NOT_SUGGESTION and judgement.reason == "no_units"


def test_an_ask_repeated_in_one_comment_is_one_ask() -> None:
    judge = SuggestionJudge(embedder=HashingEmbedder(), scorer=KeywordScorer(), policy=None)
    _, (judgement,), vectors = judge.judge(
        [item("Please add folders! please add folders. PLEASE ADD FOLDERS")], None
    )
    assert [(a.text, a.start) for a in judgement.asks] == [("Please add folders!", 0)] and len(vectors) == 1
