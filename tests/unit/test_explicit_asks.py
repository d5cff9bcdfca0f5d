"""An ask in so many words ("Please add ...", "Can you add ...") is an ask, whatever the classifier scores."""

from collections.abc import Sequence

import numpy as np
import pytest

from contracts.events import Verdict
from contracts.settings import Settings
from models.embedding import FloatMatrix
from models.explicit_asks import ExplicitAskGate, ExplicitAskScorer, is_explicit_request
from models.judge import JudgeInput, SuggestionJudge
from tests.unit.test_judge import T0, CountingEmbedder

EXPLICIT = [
    "Please add a week view to the planner",
    "Can you add GPX export of the elevation profile?",
    "Could you guys add a button to hide finished hikes?",
    "also implement offline search.",
    "@trailmate please add dark mode",
    "Hey, can u pls add km as a unit",
    "Bring back the old compass!",
    "And include the weather in the trip summary.",
    "So would you please introduce a family plan",
    "Change it back!",
    "Please switch it back to how it was",
    "You guys need to add a lite mode for old phones",
    "Honestly they should implement offline search",
    "There should be an option to hide the chart.",
    "I think there needs to be a way to restore a deleted hike",
]
NOT_EXPLICIT = [
    "Add-ons still break the map",  # a noun
    "Add contact does not open the keyboard",  # a verb follows: the opening is a noun phrase
    "Please add me to the beta",  # a service to the writer
    "can you add us to the testers list",
    "Could you add my miles from last week's trip?",
    "I added a photo and it crashed",
    "Adding routes is easy",
    "Offline maps please",  # an ask, but not in these words: the classifier's to judge
    "It would be nice to add dark mode",
    "Why did you add ads?",
    "You need to add the route first, then press start",  # how-to: opens with "you", not "you guys"
    "There should be a button for it but I can't find it",
    "Changed it back and it works",
]


@pytest.mark.parametrize("text", EXPLICIT)
def test_a_request_verb_for_a_change_opens_an_explicit_ask(text: str) -> None:
    assert is_explicit_request(text)


@pytest.mark.parametrize("text", NOT_EXPLICIT)
def test_a_noun_a_service_or_another_wording_is_not_an_explicit_ask(text: str) -> None:
    assert not is_explicit_request(text)


class Doubtful:
    """Scores every unit 0.2 against a threshold of 0.6: a classifier that misses plain requests."""

    threshold = 0.6
    version = "doubtful-test"

    def predict_proba(self, texts: Sequence[str], vectors: FloatMatrix) -> np.ndarray:
        return np.full(len(texts), 0.2)


class Sure(Doubtful):
    """Scores every unit 0.9."""

    def predict_proba(self, texts: Sequence[str], vectors: FloatMatrix) -> np.ndarray:
        return np.full(len(texts), 0.9)


class Strict:
    """A first stage that passes nothing (threshold 0.5, every score 0.1)."""

    threshold = 0.5
    version = "strict-test"

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.full(len(texts), 0.1)


def test_an_explicit_ask_scores_at_least_the_threshold_and_a_higher_score_stands() -> None:
    texts = ["Please add a week view", "The map is slow"]
    vectors = np.zeros((2, 4), np.float32)
    assert ExplicitAskScorer(Doubtful()).predict_proba(texts, vectors).tolist() == [0.6, 0.2]
    assert ExplicitAskScorer(Sure()).predict_proba(texts, vectors).tolist() == [0.9, 0.9]
    assert ExplicitAskGate(Strict()).predict_proba(texts).tolist() == [0.5, 0.1]


def judge(explicit: bool) -> tuple[SuggestionJudge, CountingEmbedder]:
    embedder = CountingEmbedder()
    scorer = ExplicitAskScorer(Doubtful()) if explicit else Doubtful()
    gate = ExplicitAskGate(Strict()) if explicit else Strict()
    return SuggestionJudge(embedder=embedder, scorer=scorer, policy=None, first_stage=gate), embedder


def test_the_judge_hears_an_explicit_ask_the_first_stage_and_classifier_miss() -> None:
    text = "The map is slow on my old phone. Could you guys add a lite mode?"
    on, embedded = judge(explicit=True)
    _, (judgement,), _ = on.judge([JudgeInput(text, "x:a", T0)], None)
    assert judgement.verdict is Verdict.SUGGESTION
    assert [ask.text for ask in judgement.asks] == ["Could you guys add a lite mode?"]
    assert judgement.asks[0].score == pytest.approx(0.6)
    assert "The map is slow on my old phone." not in embedded.seen  # the first stage still rejects it
    off, _ = judge(explicit=False)
    _, (judgement,), _ = off.judge([JudgeInput(text, "x:a", T0)], None)
    assert judgement.verdict is Verdict.NOT_SUGGESTION and judgement.reason == "first_stage"


def test_the_setting_turns_the_rule_off_in_the_production_judge() -> None:
    from models.factories import suggestion_judge

    shipped = suggestion_judge(Settings(), with_embedder=CountingEmbedder())
    assert isinstance(shipped.scorer, ExplicitAskScorer)
    plain = suggestion_judge(Settings(explicit_ask_rule=False), with_embedder=CountingEmbedder())
    assert not isinstance(plain.scorer, ExplicitAskScorer)
    assert not isinstance(plain.first_stage, ExplicitAskGate)
