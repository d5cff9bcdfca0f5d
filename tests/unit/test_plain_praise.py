from collections.abc import Sequence

import numpy as np
import pytest

from contracts.events import Verdict
from models.embedding import FloatMatrix
from models.judge import JudgeInput, SuggestionJudge
from models.plain_praise import PRAISE_REASON, PlainPraiseGate, is_plain_praise
from tests.unit.test_judge import T0, CountingEmbedder

PLAIN_PRAISE = [
    "Love the new calendar view.",
    "I really like the way the trail map loads.",
    "The route planner is extremely useful.",
    "Works great on my tablet!",
    "Thank you for the quick sync.",
    "Awesome widget support!",
    "We enjoy planning trips with it.",
    "Best app for planning a hike, hands down.",
]

ASKS_AMONG_PRAISE = [
    "I'd love the ability to export routes.",
    "Love it, but it needs a dark mode.",
    "Great app, please add widgets.",
    "Love the app! Dark mode next?",
    "I loved the old layout. Give us a way to switch it back.",
    "Awesome app, would be perfect with offline maps",
    "Great app if only it synced with my watch",
    "Love it, can't wait for the iPad version",
    "The best app, just missing a widget",
    "Great planner, more map styles would make it perfect",
    "Love it. Bring back the compass",
]


@pytest.mark.parametrize("text", PLAIN_PRAISE)
def test_praise_that_asks_for_nothing_is_plain_praise(text: str) -> None:
    assert is_plain_praise(text)


@pytest.mark.parametrize("text", [*ASKS_AMONG_PRAISE, "Dark mode", "The sync is slow.", "Export to GPX"])
def test_an_ask_in_praise_and_a_unit_without_praise_are_not(text: str) -> None:
    assert not is_plain_praise(text)


class EveryUnitAsks:
    """Scores every unit 0.9: the classifier that takes praise of a feature for an ask."""

    threshold = 0.5
    version = "every-unit-test"

    def predict_proba(self, texts: Sequence[str], vectors: FloatMatrix) -> np.ndarray:
        return np.full(len(texts), 0.9)


def judge_one(text: str, *, praise_rule: bool = True) -> tuple[object, list[str]]:
    embedder = CountingEmbedder()
    judge = SuggestionJudge(embedder=embedder, scorer=EveryUnitAsks(), policy=None, praise_rule=praise_rule)
    _, (judgement,), _ = judge.judge([JudgeInput(text, "x:a", T0)], None)
    return judgement, embedder.seen


def test_a_comment_of_plain_praise_is_not_an_ask_and_is_not_embedded() -> None:
    judgement, embedded = judge_one("Love the new calendar view. The route planner is extremely useful.")
    assert judgement.verdict is Verdict.NOT_SUGGESTION  # type: ignore[attr-defined]
    assert judgement.reason == PRAISE_REASON and judgement.score is None  # type: ignore[attr-defined]
    assert embedded == []


def test_beside_praise_the_ask_is_judged_alone() -> None:
    ask = "Please add a week view to the trip planner with one colour for each trail."
    judgement, embedded = judge_one(f"Love the new calendar view. {ask}")
    assert judgement.verdict is Verdict.SUGGESTION  # type: ignore[attr-defined]
    assert [found.text for found in judgement.asks] == [ask]  # type: ignore[attr-defined]
    assert embedded == [ask]


def test_without_the_rule_the_classifier_judges_praise() -> None:
    judgement, embedded = judge_one("Love the new calendar view.", praise_rule=False)
    assert judgement.verdict is Verdict.SUGGESTION  # type: ignore[attr-defined]
    assert embedded == ["Love the new calendar view."]


class HalfGate:
    threshold = 0.5

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([0.9 if "add" in text else 0.1 for text in texts])


def test_the_evaluation_gate_rejects_plain_praise_in_front_of_the_first_stage() -> None:
    texts = ["Love the new calendar view.", "please add a week view", "the sync is slow"]
    staged = PlainPraiseGate(HalfGate())
    assert list(staged.predict_proba(texts) >= staged.threshold) == [False, True, False]
    alone = PlainPraiseGate()
    assert list(alone.predict_proba(texts) >= alone.threshold) == [False, True, True]
