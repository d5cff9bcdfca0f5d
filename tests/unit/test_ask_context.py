"""Asks that do not say what they ask for are placed by the words around them."""

from datetime import UTC, datetime

import numpy as np
import pytest

from contracts.events import Verdict
from models.ask_context import (
    PREVIOUS_VERSION,
    adjacent_span,
    ask_spans,
    is_reason,
    needs_context,
    placement_text,
    product_words,
    wants_it_back,
    wants_previous_version,
    without_product_name,
)
from models.judge import JudgeInput, SuggestionJudge
from models.units import split_units
from tests.fakes import HashingEmbedder
from tests.unit.test_judge import KeywordScorer


@pytest.mark.parametrize(
    "ask",
    [
        "Please add this feature.",
        "Please put it back!!!",
        "PLEASE PUT IT BACK AT THE TOP WHERE IT BELONGS",
        "pls add it to the ipad",
        "Google please add this option!",
        "Bring back the G please!!!!!!!",
        "lol please just keep it",
        "I’ve said it before: please don't remove it",  # contractions' pieces name nothing
        "You're going to add it, aren't you?",
    ],
)
def test_an_ask_that_names_nothing_needs_its_context(ask: str) -> None:
    assert needs_context(ask, product_words=product_words("google_chrome"))


@pytest.mark.parametrize(
    "ask",
    [
        "Please add a dark mode",
        "Add widgets",
        "Please bring back the home button",
        "LET ME ROLL BACK TO PREVIOUS VERSION PLEASE",
        "Bitte fügt einen Dunkelmodus hinzu",
        "Export the elevation profile as GPX",
    ],
)
def test_an_ask_that_names_its_object_stands_alone(ask: str) -> None:
    assert not needs_context(ask, product_words=product_words("google_chrome"))


def test_the_neighbour_before_the_ask_or_after_it_when_it_opens_the_comment() -> None:
    comment = "The new update moved the address bar to the bottom. Please put it back!!!"
    units = split_units(comment)
    assert placement_text(units[-1], units) == comment
    opening = "Please add this feature. Being able to group tabs would save me time."
    units = split_units(opening)
    assert placement_text(units[0], units) == opening
    alone = split_units("Please add this feature.")
    assert placement_text(alone[0], alone) == "Please add this feature."
    named = split_units("I love it. Please add a dark mode.")
    assert placement_text(named[-1], named) == "Please add a dark mode."


def test_a_long_neighbour_is_cut_to_its_last_words() -> None:
    comment = " ".join(["word"] * 200) + ". Please add it!"
    units = split_units(comment)
    text = placement_text(units[-1], units)
    assert text.endswith("Please add it!") and len(text.split()) <= 60


def test_the_judge_places_such_an_ask_by_its_context_and_quotes_them_together() -> None:
    embedder = HashingEmbedder()
    judge = SuggestionJudge(embedder=embedder, scorer=KeywordScorer(), policy=None)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    items = [
        JudgeInput("The tab grid is gone since the update. Please add it back.", "x:a", when, "chrome"),
        JudgeInput("Reading mode vanished last week. Please add it back.", "x:b", when, "chrome"),
        JudgeInput("Please add a dark mode", "x:c", when, "chrome"),
    ]
    _, judgements, vectors = judge.judge(items, None)
    assert [j.verdict for j in judgements] == [Verdict.SUGGESTION] * 3
    asks = [j.asks[0].text for j in judgements]
    assert asks == [  # what is quoted and thanked says what was asked
        "The tab grid is gone since the update. Please add it back.",
        "Reading mode vanished last week. Please add it back.",
        "Please add a dark mode",
    ]
    assert all(item.text[j.asks[0].start : j.asks[0].end] == j.asks[0].text
               for item, j in zip(items, judgements, strict=True))
    assert [j.asks[0].score for j in judgements] == [0.9, 0.9, 0.9]  # the ask's own score
    expected = embedder.embed([
        "The tab grid is gone since the update. Please add it back.",
        "Reading mode vanished last week. Please add it back.",
        "Please add a dark mode",
    ])
    np.testing.assert_allclose(vectors, expected, atol=1e-6)
    assert float(vectors[0] @ vectors[1]) < 0.99  # the same words, two different asks


def test_the_product_name_is_left_out_of_the_placement() -> None:
    teams = product_words("microsoft_teams")
    assert without_product_name("I wish Microsoft Teams had a dark mode", teams) == "I wish had a dark mode"
    assert without_product_name("TEAMS’s chat needs threads", teams) == "chat needs threads"
    assert without_product_name("Teams!!", teams) == "Teams!!"  # nothing else left: kept as it is
    assert without_product_name("Steams of tea", teams) == "Steams of tea"  # whole words only
    units = split_units("Please add offline maps to TrailMate")
    assert placement_text(units[0], units, product="trailmate") == "Please add offline maps to"
    assert placement_text(units[0], units) == "Please add offline maps to TrailMate"


def test_the_app_is_left_out_of_the_placement_like_the_product_name() -> None:
    """"the app" says which product, not what is asked of it: left in, every "the app ..." ask meets."""
    def placed(text: str, product: str = "") -> str:
        units = split_units(text)
        return placement_text(units[0], units, product=product)

    assert placed("I wish the Teams app had a dark mode", "microsoft_teams") == "I wish had a dark mode"
    assert placed("This APP needs a dark theme") == "needs a dark theme"
    assert placed("Your app's widgets need a dark theme") == "widgets need a dark theme"
    assert placed("Please make the applications sync") == "Please make sync"
    assert placed("Happy with the app") == "Happy with"
    assert placed("the app") == "the app"  # nothing else left: kept as it is
    # an app named by what it runs on is what is asked for
    assert placed("Please make an iPad app") == "Please make an iPad app"
    assert placed("Add an Apple Watch app please") == "Add an Apple Watch app please"
    assert placed("An app for Wear OS would be great") == "for Wear OS would be great"
    assert placed("Snapple has mapping") == "Snapple has mapping"  # whole words only
    # "app" is not a content word either way: an ask that names only the app is read with its neighbour
    units = split_units("The map hides my trail. Please fix the app")
    assert placement_text(units[1], units) == "The map hides my trail. Please fix"


def test_a_two_unit_comment_is_one_thought_when_its_ask_names_little() -> None:
    units = split_units("Photo markers on my recorded track pls. Would make sharing hikes so much nicer")
    whole = " ".join(unit.text for unit in units)
    assert placement_text(units[1], units) == whole  # the explanation is placed by what it explains
    assert placement_text(units[0], units) == units[0].text  # names enough by itself
    # the other unit is an ask of its own: each is placed by its own words
    assert placement_text(units[1], units, asks=units) == units[1].text
    # praise next to an ask names nothing and stays out of its placement
    praised = split_units("Best hiking app ever. Please add dark mode")
    assert placement_text(praised[1], praised) == praised[1].text
    # three units are not one thought
    longer = split_units("Photo markers on my track pls. Would make sharing hikes nicer. Thanks team")
    assert len(longer) == 3 and placement_text(longer[1], longer) == longer[1].text


class EveryUnitAsks:
    """Scores every unit 0.9: a sentence judge that takes "would make ..." for an ask."""

    threshold = 0.5
    version = "every-unit-test"

    def predict_proba(self, texts: object, vectors: np.ndarray) -> np.ndarray:
        return np.full(len(vectors), 0.9)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Would make sharing hikes so much nicer", True),
        ("That would save me hours", True),
        ("it'd be huge for solo hikers", True),
        ("would use it every weekend", True),
        ("Also saves battery on OLED phones!", True),
        ("It also helps at night", True),
        ("Even a 10km radius would do.", True),
        ("Even a simple one would be enough", True),
        ("Also add a widget", False),
        ("Even a basic export would be great to have", False),
        ("Even the old icons were better", False),
        ("Would use the app more if it synced", False),
        ("Would be great to have a Wear OS tile", False),
        ("It would be nice if routes synced", False),
        ("Would love a dark mode", False),
        ("Please add dark mode", False),
    ],
)
def test_a_unit_that_only_says_what_an_ask_would_do_is_a_reason(text: str, reason: bool) -> None:
    assert is_reason(text) is reason


def test_a_reason_after_an_ask_is_not_a_second_ask() -> None:
    judge = SuggestionJudge(embedder=HashingEmbedder(), scorer=EveryUnitAsks(), policy=None)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    photo = "Photo markers on my recorded track pls. Would make sharing hikes so much nicer"
    items = [
        JudgeInput(photo, "x:a", when),
        JudgeInput("Would make sharing hikes so much nicer", "x:b", when),  # no ask before it
        JudgeInput("Add offline maps. Would be great to have GPX export too", "x:c", when),
    ]
    _, judgements, vectors = judge.judge(items, None)
    assert [[ask.text for ask in j.asks] for j in judgements] == [
        ["Photo markers on my recorded track pls."],
        ["Would make sharing hikes so much nicer"],
        ["Add offline maps.", "Would be great to have GPX export too"],
    ]
    assert len(vectors) == 4


class WouldAsks:
    """Scores a unit 0.9 when it says "would", else 0.1: a judge that misses the question before."""

    threshold = 0.5
    version = "would-test"

    def predict_proba(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        return np.array([0.9 if "would" in text.lower() else 0.1 for text in texts])


def test_a_reason_after_a_unit_that_is_no_ask_stands_for_that_units_want() -> None:
    embedder = HashingEmbedder()
    judge = SuggestionJudge(embedder=embedder, scorer=WouldAsks(), policy=None)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    text = "@trailmate Garmin watch support?? Would make this perfect"
    _, judgements, vectors = judge.judge([JudgeInput(text, "x:a", when, "trailmate")], None)
    (ask,) = judgements[0].asks
    assert ask.text == "Garmin watch support?? Would make this perfect"
    assert text[ask.start : ask.end] == ask.text
    np.testing.assert_allclose(vectors, embedder.embed([ask.text]), atol=1e-6)
    # words between the two units (a unit the first stage did not pass on): no joined span
    assert adjacent_span("Watch app?? so Would be nice", (0, 11), (15, 28)) is None
    assert adjacent_span("Watch app?? 🙏 Would be nice", (0, 11), (14, 27)) == (0, 27)


def test_an_ask_that_names_nothing_spans_the_unit_that_says_what_it_wants() -> None:
    def spans(text: str, asked: list[bool], product: str = "") -> list[str]:
        units = split_units(text)
        assert len(units) == len(asked), units
        return [text[start:end] for start, end, _ in ask_spans(text, units, asked,
                                                                product_words=product_words(product))]

    assert spans("Is there a way to export to GPX? If not, please add it!", [False, True]) == [
        "Is there a way to export to GPX? If not, please add it!"]
    # opening the comment, it is read with the unit after it
    assert spans("Please bring it back! The old trip widget was so much better", [True, False]) == [
        "Please bring it back! The old trip widget was so much better"]
    # ending with a colon, it is read with what follows
    assert spans("Great app.\n\nOne feature suggestion:\nOffline trail maps for the backcountry.",
                 [False, True, False]) == ["One feature suggestion:\nOffline trail maps for the backcountry."]
    units = split_units("Great app.\n\nOne feature suggestion:\nOffline trail maps for the backcountry.")
    assert placement_text(units[1], units) == (
        "One feature suggestion: Offline trail maps for the backcountry.")
    # a neighbour that names nothing or only the product, or is long: alone
    assert spans("Love it. Please add it!", [False, True]) == ["Please add it!"]
    assert spans("Thanks TrailMate. Please add it!", [False, True], "trailmate") == ["Please add it!"]
    long = "I " + "walk and walk " * 25 + "every day. Please add it!"
    assert spans(long, [False, True]) == ["Please add it!"]
    # an ask that names what it wants keeps its own span
    assert spans("The map is slow. Please add offline maps", [False, True]) == ["Please add offline maps"]


def test_an_ask_that_names_nothing_beside_one_that_names_something_is_one_ask_with_it() -> None:
    def spans(text: str, asked: list[bool]) -> list[str]:
        units = split_units(text)
        assert len(units) == len(asked), units
        return [text[start:end] for start, end, _ in ask_spans(text, units, asked)]

    # after the ask it insists on, or before the ask it announces: one ask, quoted whole
    assert spans("Add a trip widget. Please add it!", [True, True]) == ["Add a trip widget. Please add it!"]
    assert spans("More features please!! I wish the map had a dark style.", [True, True]) == [
        "More features please!! I wish the map had a dark style."]
    # between two asks that name something, it goes with the one before it
    assert spans("Add a trip widget. Please add that too! Add offline maps.", [True, True, True]) == [
        "Add a trip widget. Please add that too!", "Add offline maps."]
    # two asks that name something stay two
    assert spans("Add a survey tool. Allow chat threads to be deleted", [True, True]) == [
        "Add a survey tool.", "Allow chat threads to be deleted"]
    # a reason after it is no ask that names something: it is read with the unit before it
    assert spans("Auto update is gone. I wish there was an option for it. It would make my day.",
                 [False, True, True]) == ["Auto update is gone. I wish there was an option for it."]
    # two asks that name nothing: each as before
    assert spans("Please add it! Make it happen!", [True, True]) == ["Please add it!", "Make it happen!"]


def test_the_judge_counts_an_announcing_ask_with_the_ask_it_announces() -> None:
    judge = SuggestionJudge(embedder=HashingEmbedder(), scorer=KeywordScorer(), policy=None)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    text = "Please add this feature. Please add offline maps for the trails."
    _, judgements, vectors = judge.judge([JudgeInput(text, "x:a", when, "trailmate")], None)
    (ask,) = judgements[0].asks
    assert (ask.start, ask.end) == (0, len(text))
    assert len(vectors) == 1


@pytest.mark.parametrize(
    "ask",
    [
        "It would be great to have a route planner.",
        "This needs a trip widget.",
        "I wish it would support Garmin watches.",
        "it'd be nice to have folders",
    ],
)
def test_a_pronoun_that_is_the_subject_points_at_nothing(ask: str) -> None:
    assert not needs_context(ask)


@pytest.mark.parametrize(
    ("ask", "wanted"),
    [
        ("Bring back the old layout", True),
        ("Please go back to the old design!!", True),
        ("Can we have the option to revert back to the old UI?", True),
        ("LET ME ROLL BACK TO PREVIOUS VERSION PLEASE", True),
        ("bring the old style back, it was easier to use", True),
        ("I want the old one back", True),
        ("Please let us switch to the classic look", True),
        ("If there was an option to use the old layout that would be great", True),
        ("Please bring back the old Trailmate", True),  # the product's name stands for the whole
        ("Bring back the old tab view", False),  # an old part is a feature
        ("Please change the trip feed back to the old style", False),  # so is what is brought back
        ("The old trip widget was so much better", False),
        ("I liked the old version more", False),  # nothing asks for it back
        ("The old design had a compass, please add it", False),
    ],
)
def test_an_ask_for_the_previous_version_is_told_from_an_ask_for_an_old_part(ask: str, wanted: bool) -> None:
    assert wants_previous_version(ask, product_words=product_words("trailmate")) is wanted


@pytest.mark.parametrize(
    ("comment", "wanted"),
    [
        ("The new design is awful. Change it back.", True),
        ("It looks just like every other map app now. Please put it back the way it was!", True),
        ("This update made Trailmate a copy of the others. Should have left things alone!", True),
        ("The new layout is a mess. Please revert!", True),
        ("Please consider changing the look back.", True),  # the whole by its own word
        ("Please change it back, I like the old design better!", True),  # the product as it was
        ("The update moved the compass. Please change the layout back", False),
        ("This update reminds me of every other map app. Put the layout back to the way it was.", True),
        ("This update reminds me of other map apps. Put the map layers back the way they were.", False),
        ("The new update moved the trip stats to the bottom. Please put it back!!!", False),
        ("The update removed the compass. Please put it back!", False),  # "it" is the part that went
        ("The new layout hides the trip stats. Change it back!", False),
        ("The new design is awful. Put it back at the top!", False),  # a place names a part
        ("Please change it back!", False),  # nothing says what changed
        ("The new design is fine. Please bring back the compass!", False),  # it names what it wants
        ("The new design is fine but I miss the compass. Please bring it back", False),
        ("The new design moved the map settings around, please change them back to the menu", False),
    ],
)
def test_an_ask_for_it_back_beside_words_about_the_new_look_is_an_ask_for_the_previous_version(
    comment: str, wanted: bool
) -> None:
    units = split_units(comment)
    placed = placement_text(units[-1], units, product="trailmate")
    assert (placed == PREVIOUS_VERSION) is wanted
    if not wanted:
        assert units[-1].text in placed  # read as before: with its own words
    assert wants_it_back(units[-1].text, comment, product_words=product_words("trailmate")) is wanted


def test_asks_for_the_previous_version_are_placed_as_one_ask_and_quoted_in_their_own_words() -> None:
    def placed(text: str) -> str:
        units = split_units(text)
        return placement_text(units[-1], units, product="trailmate")

    assert placed("It looks like every other app now. Please go back to the old design!") == PREVIOUS_VERSION
    assert placed("LET ME ROLL BACK TO PREVIOUS VERSION PLEASE") == PREVIOUS_VERSION
    assert placed("Please bring back the old tab view") == "Please bring back the old tab view"
    embedder = HashingEmbedder()
    judge = SuggestionJudge(embedder=embedder, scorer=KeywordScorer(), policy=None)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    items = [
        JudgeInput("The redesign copies every other map app. Please add back the old layout!", "x:a", when,
                   "trailmate"),
        JudgeInput("Please add an option for the original design", "x:b", when, "trailmate"),
        JudgeInput("Please add back the old compass", "x:c", when, "trailmate"),
    ]
    _, judgements, vectors = judge.judge(items, None)
    assert [j.asks[0].text for j in judgements] == [
        "Please add back the old layout!",
        "Please add an option for the original design",
        "Please add back the old compass",
    ]
    np.testing.assert_allclose(vectors[:2], embedder.embed([PREVIOUS_VERSION] * 2), atol=1e-6)
    np.testing.assert_allclose(vectors[2], embedder.embed(["Please add back the old compass"])[0], atol=1e-6)


class LeadInAsks:
    """Scores 0.9 the units that end with a colon or say "add", else 0.1: a judge that takes a
    lead-in for an ask and passes over bare list items."""

    threshold = 0.5
    version = "lead-in-test"

    def predict_proba(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        return np.array([0.9 if t.rstrip().endswith(":") or "add" in t else 0.1 for t in texts])


def _asks(text: str) -> list[tuple[str, float]]:
    judge = SuggestionJudge(embedder=HashingEmbedder(), scorer=LeadInAsks(), policy=None)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    _, judgements, vectors = judge.judge([JudgeInput(text, "x:a", when, "trailmate")], None)
    assert len(vectors) == len(judgements[0].asks)
    return [(ask.text, ask.score) for ask in judgements[0].asks]


@pytest.mark.parametrize(
    "text",
    [
        "Love it. Two missing features that should be a MUST:\n1. Offline maps\n2. Export to GPX",
        "Desired features:\n- offline maps\n- export to GPX",
        "Things I would love to see: 1. Offline maps 2. Export to GPX",
    ],
)
def test_a_lead_in_s_list_items_are_the_asks(text: str) -> None:
    """Rule 7: the items are asks, scored as the lead-in, quoted without their numbers; the lead-in
    names nothing and is none."""
    assert _asks(text) == [("Offline maps", 0.9), ("Export to GPX", 0.9)] or _asks(text) == [
        ("offline maps", 0.9), ("export to GPX", 0.9)
    ]


def test_a_unit_that_names_its_ask_before_a_colon_keeps_it_and_its_details_are_no_asks() -> None:
    text = "Please add these map layers to the trail view:\n1. Satellite\n2. Topographic"
    assert [ask for ask, _ in _asks(text)] == ["Please add these map layers to the trail view:"]


def test_what_a_list_cannot_make_an_ask() -> None:
    """A question about use and a unit that names nothing stay what they are; a list ends at the
    first unit that is no item."""
    text = "Features I'd like:\n1. How do I share a trail?\n2. Offline maps\n3. It.\nThe rest is fine."
    assert [ask for ask, _ in _asks(text)] == ["Offline maps"]


def test_a_lead_in_needs_its_context_and_the_line_under_it_is_its_ask() -> None:
    assert needs_context("Two missing features that should be a MUST:")
    assert not needs_context("Please add these map layers to the trail view:")
    text = "Here is my wish:\nOffline maps would make the hikes so much easier for us"
    assert _asks(text) == [("Offline maps would make the hikes so much easier for us", 0.9)]
    assert [ask for ask, _ in _asks("Great trails. Here is my wish:")] == ["Great trails. Here is my wish:"]


def test_a_numbered_ask_is_quoted_without_its_number() -> None:
    units = split_units("1. Please add offline maps\n2. Please add GPX export")
    text = "1. Please add offline maps\n2. Please add GPX export"
    spans = ask_spans(text, units, [True, True])
    assert [text[start:end] for start, end, _ in spans] == ["Please add offline maps",
                                                            "Please add GPX export"]
