from collections.abc import Sequence

import numpy as np
import pytest

from contracts.events import Verdict
from models.embedding import FloatMatrix
from models.judge import JudgeInput, SuggestionJudge
from models.non_asks import (
    FIX_REASON,
    INSTRUCTION_REASON,
    PRAISE_REASON,
    SERVICE_REASON,
    NonAskGate,
    is_fix_request,
    is_instruction,
    is_plain_praise,
    is_service_request,
    is_top_rated_remark,
    non_ask_kind,
)
from tests.unit.test_judge import T0, CountingEmbedder

PLAIN_PRAISE = [
    "Love the new calendar view.",
    "Good way to keep the whole hiking club in one place.",
    "Really easy to move between the map and the list.",
    "Useful for planning a weekend loop with friends",
    # a word that ends in "nt" is no negation
    "Excellent app for our hiking club",
    "Good way to stay in touch in a mountain environment",
    "I really like the way the trail map loads.",
    "The route planner is extremely useful.",
    "Works great on my tablet!",
    "Thank you for the quick sync.",
    "Awesome widget support!",
    "We enjoy planning trips with it.",
    "Best app for planning a hike, hands down.",
    # a change verb's word opening a noun phrase ("Support staff", "Show notes") is no request
    "Support staff is great too!",
    "Show notes are really useful",
    "Update is great, thanks",
]

ASKS_AMONG_PRAISE = [
    "I'd love the ability to export routes.",
    "Good app, but the map needs a satellite layer",
    "Great app, doesnt sync with my watch though",
    "I dont like the new colours",
    "Easy way to export would be nice",
    "Simple request: add a dark mode",
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
    "Great app, por favor agreguen un modo oscuro",
    "Great app! Bitte einen Dunkelmodus",
    "Love it, svp un mode hors ligne",
    "Nice to have: a heart rate widget",
    "Love to see a trail difficulty filter",
    "Thanks for considering a dark mode",
    "Support dark mode, the app is great",
    "Show me the stats, this is great",
]


@pytest.mark.parametrize("text", PLAIN_PRAISE)
def test_praise_that_asks_for_nothing_is_plain_praise(text: str) -> None:
    assert is_plain_praise(text)


@pytest.mark.parametrize(
    "text",
    [
        *ASKS_AMONG_PRAISE,
        "Dark mode",
        "The sync is slow.",
        "Export to GPX",
        "I feel like a trail filter is essential",
    ],
)
def test_an_ask_in_praise_and_a_unit_without_praise_are_not(text: str) -> None:
    assert not is_plain_praise(text)


SERVICE_REQUESTS = [
    "Please send me a new invite code.",
    "Can you give me a beta invitation plz",
    "I need a redeem code, give me one please",
    "Give me my refund please.",
    "Please call me back this afternoon.",
    "Could you DM me about my order",
    "pls help",
    # the object alone, or needed with no article
    "Invitation code pls",
    "invitation code",
    "Plz needs code",
    "Need invite code",
    "Unfortunately the word Redeem now appears and it needs an invitation code.",
    # the writer's side of a support exchange, and a courtesy alone
    "Please advise.",
    "my booking was moved twice, pls advise on this",
    "I could really use some help with my account this week",
    "Put in a ticket and still waiting for a reply!",
    "DM sent!",
    "Just sent you a DM with the order number",
    "Pls & ty",
    "Please and thank you!",
    "Thanks in advance",
    "Please refund the ticket without delay",
]

ASKS_ABOUT_CODES_AND_HELP = [
    "Add an option to scan the invite code instead of typing it.",
    "Why do we need an invitation code at all?",
    "Let me resend the invite code to my testers.",
    "Give us a way to share invite codes with a QR code",
    "It would be great to get a code by e-mail when a build is ready",
    "Please add a help page for new testers",
    "Give us the old layout back.",
    "Need code signing for my builds",
    "Need promo codes for my testers to share",
    "QR code",
    "Please add a way to reply without leaving the chat",
    "Let me DM other hikers from the app",
    "Please add a thank-you button to trail reports",
]


@pytest.mark.parametrize("text", SERVICE_REQUESTS)
def test_a_request_for_a_service_to_the_writer_is_not_an_ask(text: str) -> None:
    assert is_service_request(text)


@pytest.mark.parametrize("text", [*ASKS_ABOUT_CODES_AND_HELP, *ASKS_AMONG_PRAISE])
def test_an_ask_that_names_a_change_is_no_service_request(text: str) -> None:
    assert not is_service_request(text)


INSTRUCTIONS = [
    "Please make sure you are on the latest version of the tracker.",
    "Make sure both sync switches are off, then restart the app.",
    "Please provide the trail id and the time it happened.",
    "Please see the attached screenshot for the settings we use.",
    "Try disabling battery saver and record again.",
    "Then click the share icon and pick a friend.",
    "Go to Settings > Maps and clear the cache.",
    "Let us know how it goes!",
    "Please let us know which phone you have.",
    "Check your inbox for the reset link.",
    "Restart your phone after the download.",
    "Let's be honest, we all just want to get outside.",  # an exhortation or a turn of speech
    "Let's say I stop the recording halfway up the hill.",
    "Let me tell you one thing;",
    "Let's go hiking this weekend!!",
    "Let alone the ones that sync with a watch.",
    "Ok. Let me think about it.",
    "Let me guess, the update wiped my tracks again.",
    "Let me get this straight: the refund takes ten days.",
]
ASKS_WITH_THE_WORDS_OF_INSTRUCTIONS = [
    "Please make sure you add a dark mode in the next update",
    "Make sure to add offline maps",
    "Provide a way to export my tracks as GPX",
    "Please provide an option to hide the elevation chart",
    "Let us know when the watch app is coming",
    "Click to share should also post the photos",
    "Why do I have to go to settings to change units?",
    "We should be able to check the forecast from the map",
    "Let's have an offline map of the whole park",
    "Let's make the elevation chart bigger",
    "Let us download the old releases",
    "Let me hide the trip stats",
]


@pytest.mark.parametrize("text", INSTRUCTIONS)
def test_an_instruction_to_the_reader_is_not_an_ask(text: str) -> None:
    assert is_instruction(text)


@pytest.mark.parametrize(
    "text", [*ASKS_WITH_THE_WORDS_OF_INSTRUCTIONS, *ASKS_ABOUT_CODES_AND_HELP, *ASKS_AMONG_PRAISE]
)
def test_an_ask_in_the_words_of_an_instruction_is_no_instruction(text: str) -> None:
    assert not is_instruction(text)


FIX_REQUESTS = [
    "Please fix it asap!",
    "Fix the sync, it loses my tracks",
    "pls fix this bug",
    "Can you fix the crash when I open a trail?",
    "Just fix the login already.",
    "FIX THE MAP",
]
ASKS_BESIDE_A_FIX = [
    "Please fix the map and add a dark mode",
    "Fix the sharing: it should post the photos too",
    "Please fix the chart, it should show the elevation in metres",
    "Fix the photo upload or let me pick the size",
    "Please fix/change the colours of the route",
    "The fix is easy: add an option to hide it",
]


@pytest.mark.parametrize("text", FIX_REQUESTS)
def test_a_request_to_fix_and_nothing_more_is_not_an_ask(text: str) -> None:
    assert is_fix_request(text)


@pytest.mark.parametrize(
    "text", [*ASKS_BESIDE_A_FIX, *ASKS_WITH_THE_WORDS_OF_INSTRUCTIONS, *ASKS_AMONG_PRAISE]
)
def test_a_fix_that_also_asks_for_a_change_is_no_fix_request(text: str) -> None:
    assert not is_fix_request(text)


class EveryUnitAsks:
    """Scores every unit 0.9: the classifier that takes praise of a feature for an ask."""

    threshold = 0.5
    version = "every-unit-test"

    def predict_proba(self, texts: Sequence[str], vectors: FloatMatrix) -> np.ndarray:
        return np.full(len(texts), 0.9)


def judge_one(text: str, *, rules: bool = True, rating: int | None = None) -> tuple[object, list[str]]:
    embedder = CountingEmbedder()
    judge = SuggestionJudge(embedder=embedder, scorer=EveryUnitAsks(), policy=None, non_ask_rules=rules)
    _, (judgement,), _ = judge.judge([JudgeInput(text, "x:a", T0, rating=rating)], None)
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


def test_a_comment_of_service_requests_and_praise_is_not_an_ask() -> None:
    judgement, embedded = judge_one("Love the beta. Please send me a new invite code.")
    assert judgement.verdict is Verdict.NOT_SUGGESTION  # type: ignore[attr-defined]
    assert judgement.reason == SERVICE_REASON and embedded == []  # type: ignore[attr-defined]


def test_a_comment_of_instructions_is_not_an_ask_and_an_ask_beside_them_is_judged_alone() -> None:
    judgement, embedded = judge_one("Please make sure you have the latest version. Let us know how it goes!")
    assert judgement.verdict is Verdict.NOT_SUGGESTION  # type: ignore[attr-defined]
    assert judgement.reason == INSTRUCTION_REASON and embedded == []  # type: ignore[attr-defined]
    ask = "Please add a week view to the trip planner with one colour for each trail."
    judgement, embedded = judge_one(f"Go to Settings and clear the cache. {ask}")
    assert judgement.verdict is Verdict.SUGGESTION  # type: ignore[attr-defined]
    assert embedded == [ask]
    judgement, _ = judge_one("Love the map. Please send me a new invite code. Let us know!")
    assert judgement.reason == SERVICE_REASON  # type: ignore[attr-defined]


def test_a_comment_that_only_asks_for_a_fix_is_not_an_ask() -> None:
    judgement, embedded = judge_one("The app logs me out every hour. Please fix it asap!")
    assert judgement.verdict is Verdict.SUGGESTION  # the report itself is the classifier's to judge
    assert "Please fix it asap!" not in embedded
    judgement, embedded = judge_one("Love the maps. Please fix it asap! Go to Settings and clear the cache.")
    assert judgement.verdict is Verdict.NOT_SUGGESTION  # type: ignore[attr-defined]
    assert judgement.reason == FIX_REASON and embedded == []  # type: ignore[attr-defined]


def test_without_the_rules_the_classifier_judges_praise() -> None:
    judgement, embedded = judge_one("Love the new calendar view.", rules=False)
    assert judgement.verdict is Verdict.SUGGESTION  # type: ignore[attr-defined]
    assert embedded == ["Love the new calendar view."]


class HalfGate:
    threshold = 0.5

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([0.9 if "add" in text else 0.1 for text in texts])


def test_the_evaluation_gate_rejects_non_asks_in_front_of_the_first_stage() -> None:
    texts = [
        "Love the new calendar view.", "please add a week view", "the sync is slow", "pls send me a code",
    ]

    staged = NonAskGate(HalfGate())
    assert list(staged.predict_proba(texts) >= staged.threshold) == [False, True, False, False]
    alone = NonAskGate()
    assert list(alone.predict_proba(texts) >= alone.threshold) == [False, True, True, False]


def test_the_evaluation_path_follows_the_setting() -> None:
    from models.suggestions import decisions_and_reasons, judge_texts
    from tests.fakes import HashingEmbedder

    texts = ["Love the new calendar view.", "Please add a week view."]
    on, reasons = decisions_and_reasons(
        judge_texts(texts, classifier=EveryUnitAsks(), embedder=HashingEmbedder(), policy=None)
    )
    off, _ = decisions_and_reasons(
        judge_texts(
            texts, classifier=EveryUnitAsks(), embedder=HashingEmbedder(), policy=None, non_ask_rules=False
        )
    )
    assert on == [False, True] and reasons[PRAISE_REASON] == 1
    assert off == [True, True]


# Statements of use and praise with no word of praise: in a five-star review they are remarks.
TOP_RATED_REMARKS = [
    "We plan every family hike with it and the whole group follows the same map.",
    "Our hiking club uses it for every weekend trip.",
    "A true one stop shop for trail planning.",
    "Each of us has it on the phone and the watch.",
]
# The same reviews' asks: a sign of a request, or words that name what is asked for.
TOP_RATED_ASKS = [
    "Offline maps would make it perfect.",
    "The ability to export the elevation profile.",
    "Adding a dark mode setting.",
    "2) Offline maps for the Alps",
    "When are you launching the watch app",
    "One feature I wished it had is a packing list.",
    "Maybe a red light mode for night hikes.",
    "Give us a week view.",
    "Only thing missing is a trip diary.",
]


@pytest.mark.parametrize("text", TOP_RATED_REMARKS)
def test_a_remark_with_no_sign_of_a_request_in_a_five_star_review_is_praise(text: str) -> None:
    assert is_top_rated_remark(text, 5) and non_ask_kind(text, 5) == PRAISE_REASON
    # the same words with a lower rating, or in a post with no rating, go to the judge
    assert not is_plain_praise(text)
    assert non_ask_kind(text, 4) is None and non_ask_kind(text) is None


@pytest.mark.parametrize("text", TOP_RATED_ASKS)
def test_an_ask_in_a_five_star_review_is_no_remark(text: str) -> None:
    assert not is_top_rated_remark(text, 5)


def test_a_five_star_review_of_remarks_is_not_an_ask_and_its_ask_is_judged_alone() -> None:
    remarks = "Our hiking club uses it for every weekend trip. Each of us has it on the phone and the watch."
    judgement, embedded = judge_one(remarks, rating=5)
    assert judgement.verdict is Verdict.NOT_SUGGESTION  # type: ignore[attr-defined]
    assert judgement.reason == PRAISE_REASON and embedded == []  # type: ignore[attr-defined]
    judgement, embedded = judge_one(remarks, rating=3)  # a rating below the best: the judge reads it
    assert judgement.verdict is Verdict.SUGGESTION and remarks.split(". ")[0] + "." in embedded  # type: ignore[attr-defined]
    ask = "Offline maps would make it perfect."
    judgement, embedded = judge_one(f"{remarks} {ask}", rating=5)
    assert judgement.verdict is Verdict.SUGGESTION and embedded == [ask]  # type: ignore[attr-defined]


def test_the_evaluation_gate_reads_each_unit_s_rating() -> None:
    from models.judge_eval import comment_scores
    from tests.fakes import HashingEmbedder

    texts = ["Our hiking club uses it for every weekend trip."] * 2
    gate = NonAskGate()
    scored = comment_scores(texts, EveryUnitAsks(), HashingEmbedder().embed, None, gate, ratings=[5, None])
    assert list(scored.scores > 0) == [False, True] and scored.judged == 1
