import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.events import comment_key_of, suggestion_id_of
from models.units import MAX_UNITS, Unit, split_units


def texts(comment: str) -> list[str]:
    return [unit.text for unit in split_units(comment)]


def assert_honest(comment: str, units: list[Unit]) -> None:
    cursor = 0
    for unit in units:
        assert cursor <= unit.start < unit.end <= len(comment)
        assert unit.text == comment[unit.start : unit.end]
        assert unit.text == unit.text.strip()
        cursor = unit.end


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Love it. Please add dark mode.", ["Love it.", "Please add dark mode."]),
        (
            "love the app\nadd dark mode\nsync with my watch",
            ["love the app", "add dark mode", "sync with my watch"],
        ),
        ("ADD DARK MODE!!! OFFLINE MAPS PLZ", ["ADD DARK MODE!!!", "OFFLINE MAPS PLZ"]),
        ("need a widget 🙏🙏 bring back the old layout", ["need a widget 🙏🙏", "bring back the old layout"]),
        ("Great app.Please add a widget", ["Great app.", "Please add a widget"]),
        ("Where did it go??? put the timer back", ["Where did it go???", "put the timer back"]),
        ("Please keep it :) and add a dark theme", ["Please keep it :)", "and add a dark theme"]),
        (
            "v2.1 broke it :( pls bring back the old layout",
            ["v2.1 broke it :(", "pls bring back the old layout"],
        ),
    ],
)
def test_sentences_of_social_text(comment: str, expected: list[str]) -> None:
    assert texts(comment) == expected


@pytest.mark.parametrize(
    "comment",
    [
        "Support more formats, e.g. webm and ogg, in the player",
        "It would be nice to have 2.5x speed as well as 3x",
        "Compare it vs. the old one please, same as Mr. Smith said",
        "Please link to https://example.com/help.html in the menu",
        "Please add a button to mail support@example.com from the app",
        "add dark mode pls plz pleaseee",
    ],
)
def test_protected_tokens_are_not_cut(comment: str) -> None:
    assert texts(comment) == [comment]


def test_leading_mentions_left_out_with_honest_offsets() -> None:
    comment = "@acme @support_team please add a dark mode #darkmode"
    (unit,) = split_units(comment)
    assert unit.text == "please add a dark mode #darkmode"
    assert comment[unit.start : unit.end] == unit.text


def test_inner_mentions_and_hashtags_stay() -> None:
    assert texts("please sync with @calendar_app like #todoist does") == [
        "please sync with @calendar_app like #todoist does"
    ]


def test_long_run_on_split_at_connectors_only_when_both_sides_stand() -> None:
    comment = "love the app but please add dark mode and also let me export my notes to pdf or csv"
    assert texts(comment) == [
        "love the app but please add dark mode",
        "and also let me export my notes to pdf or csv",
    ]
    assert texts("nice but slow") == ["nice but slow"]
    assert texts("please add nested folders; also tags would be great for sorting my many long lists") == [
        "please add nested folders;",
        "also tags would be great for sorting my many long lists",
    ]
    # "also" after an auxiliary or a pronoun is inside its clause: no cut in the middle of an ask
    assert texts("I think the app should also contain an elevation chart for the trail") == [
        "I think the app should also contain an elevation chart for the trail"
    ]
    assert texts("Great for weekend hikes with the kids, it also needs a dark mode badly") == [
        "Great for weekend hikes with the kids, it also needs a dark mode badly"
    ]
    assert texts("The map is so slow on my phone also the search never finds my trail") == [
        "The map is so slow on my phone",
        "also the search never finds my trail",
    ]


def test_short_fragments_join_a_neighbour() -> None:
    assert texts("Hi! Please add a dark mode. Thanks!") == ["Hi! Please add a dark mode. Thanks!"]
    assert texts("Please add folders. Pls. Tags too would help") == [
        "Please add folders. Pls.",
        "Tags too would help",
    ]
    assert texts("🙏🙏🙏 !!!") == []
    assert texts("#darkmode") == ["#darkmode"]


def test_quoted_retweeted_and_signature_text_dropped() -> None:
    assert texts("Add tags to notes\n> someone else's ask for folders\nand a calendar view") == [
        "Add tags to notes",
        "and a calendar view",
    ]
    assert texts("so true RT @other: please add folders") == ["so true"]
    assert texts("RT @other: please add folders") == []
    assert texts('want this too "@other: please add folders') == ["want this too"]
    assert texts("Please add folders.\n--\nJoe Bloggs\nACME Corp") == ["Please add folders."]
    assert texts("Please add folders.\nSent from my phone") == ["Please add folders."]
    assert texts("Please add folders.\nKind regards,\nJoe") == ["Please add folders."]
    assert texts("Please add folders\nOn Monday, Ann wrote:\nadd tags") == ["Please add folders"]
    assert texts("please add folders to the app ^JD") == ["please add folders to the app"]


def test_quote_lines_that_end_a_comment_are_the_writers_list() -> None:
    # a store review cannot quote: ">" lines with none of the writer's words after them are a list
    assert texts("Would love\n>offline maps for the Alps\n>a dark theme for night hikes") == [
        "Would love",
        "offline maps for the Alps",
        "a dark theme for night hikes",
    ]
    assert texts(">There is no way to export a GPX track \n>Slow to start") == [
        "There is no way to export a GPX track",
        "Slow to start",
    ]
    assert texts("> Please add folders\n\n> Tags too would help") == [
        "Please add folders",
        "Tags too would help",
    ]
    # answered, the same lines are someone else's words
    assert texts(">offline maps for the Alps\n>a dark theme\nme too, and a GPX export") == [
        "me too, and a GPX export"
    ]
    assert texts("Please add folders\nOn Monday, Ann wrote:\n> add tags") == ["Please add folders"]


def test_a_separator_line_ends_the_writers_words_only_above_a_signature() -> None:
    assert texts("Please add folders.\n\u2014\nJoe Bloggs\nACME Corp") == ["Please add folders."]
    assert texts("Please add folders.\n______\nJoe") == ["Please add folders."]
    # longer text under it is the writer's own: a translation, the review an edit sits on
    translation = "Por favor, agreguen carpetas para ordenar las notas del trabajo y las de la casa."
    assert texts(f"Please add folders to sort my notes.\n\u2014\n{translation}") == [
        "Please add folders to sort my notes.",
        translation,
    ]
    review = "\n".join(f"Line {n} of my first review of this app, before the update." for n in range(6))
    assert texts(f"Edit: two stars more since the update.\n______\n{review}")[1:] == review.split("\n")
    # a separator before any word of the writer's closes nothing
    assert texts("\u2014\nplease add folders") == ["please add folders"]


def test_what_asks_under_a_separator_or_a_valediction_is_no_signature() -> None:
    # a short line under a dash, "--" or "Thanks," is a signature only when it reads as one
    assert texts("Love it.\n\u2014\nAdd offline maps please") == ["Love it.", "Add offline maps please"]
    assert texts("Love it.\n--\nplease add offline maps") == ["Love it.", "please add offline maps"]
    assert texts("Great app.\n__\nWhy no dark mode?") == ["Great app.", "Why no dark mode?"]
    assert texts("Love it.\nThanks,\nadd dark mode") == ["Love it.\nThanks,", "add dark mode"]
    assert texts("Love it.\nCheers,\nI want GPX export") == ["Love it.\nCheers,", "I want GPX export"]
    # names, titles and companies still are
    assert texts("Please add folders.\n--\nJoe Bloggs\nHead of IT, ACME Corp") == ["Please add folders."]
    assert texts("Please add folders.\nThanks,\nThe Trailmate fan club") == ["Please add folders."]
    assert texts("Please add folders.\n\u2014\nJoe (joe@example.com)") == ["Please add folders."]


def test_unit_count_is_capped() -> None:
    comment = "Please add feature number one. " * (MAX_UNITS * 3)
    units = split_units(comment)
    assert len(units) == MAX_UNITS
    assert_honest(comment, units)


def test_one_megabyte_without_punctuation() -> None:
    comment = "add this and also add that " * 40_000
    units = split_units(comment)
    assert 0 < len(units) <= MAX_UNITS
    assert_honest(comment, units)


SOCIAL_BITS = (
    "add|dark|mode|pls|!!!|???|. |\n|🙏|:)|:-(|@acme|#tag|e.g.|v2.1|https://x.io/a.b"
    "| and also | but |;|> |RT @a:|--\n|\x00|\u2028|   "
)
SOCIAL = st.sampled_from(SOCIAL_BITS.split("|"))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.lists(st.one_of(SOCIAL, st.text(max_size=5))).map("".join)))
def test_units_are_ordered_disjoint_and_honest(comment: str) -> None:
    units = split_units(comment)
    assert_honest(comment, units)
    assert len(units) <= MAX_UNITS
    for unit in units:
        assert re.search(r"[^\W_]", unit.text)


def test_suggestion_ids_name_the_comment_and_the_ask() -> None:
    assert suggestion_id_of("x:123", 2) == "x:123#2"
    assert comment_key_of("x:123#2") == "x:123" and comment_key_of("reddit:a#b#10") == "reddit:a#b"
    assert comment_key_of("x:123") == "x:123" and comment_key_of("x:#tag") == "x:#tag"


def test_an_appended_developer_reply_gives_no_unit() -> None:
    comment = "Please add a dark mode.\n\n---\nDeveloper Response: Thanks, please add it to our forum."
    assert texts(comment) == ["Please add a dark mode."]


def test_a_sites_notice_before_the_comment_gives_no_unit_and_spans_stay_honest() -> None:
    comment = "（该条评论已经被删除）It stops working. Please add a dark mode"
    units = split_units(comment)
    assert [u.text for u in units] == ["It stops working.", "Please add a dark mode"]
    assert all(comment[u.start : u.end] == u.text for u in units)
    assert split_units("（该条评论已经被删除）") == [] and split_units("[deleted]") == []


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Great app. Two features missing:\n1. Dark mode\n2. Offline maps",
         ["Great app.", "Two features missing:", "1. Dark mode", "2. Offline maps"]),
        ("My wishes: 1. Dark mode 2. Offline maps 3. Export to PDF",
         ["My wishes:", "1. Dark mode", "2. Offline maps", "3. Export to PDF"]),
        ("two things would help 1) a sleep timer 2) bigger buttons",
         ["two things would help", "1) a sleep timer", "2) bigger buttons"]),
        ("  - 1. sync my routes\n  - 2. share a trail", ["1. sync my routes", "2. share a trail"]),
        ("Love it, but needs work:\n1.) a sleep timer\n2.) bigger buttons",
         ["Love it, but needs work:", "1.) a sleep timer", "2.) bigger buttons"]),
        # a lone number after a word ends its sentence: no list
        ("I gave it 5. Then it crashed", ["I gave it 5.", "Then it crashed"]),
        ("Rated 4. Would be 5 with dark mode.", ["Rated 4.", "Would be 5 with dark mode."]),
    ],
)
def test_a_numbered_item_is_cut_before_its_number_not_after(comment: str, expected: list[str]) -> None:
    assert [unit.text for unit in split_units(comment)] == expected


def test_a_long_run_of_list_numbers_is_cut_item_by_item() -> None:
    for joiner in (" ", "\n"):
        text = joiner.join(f"{i % 99}. item" for i in range(8_000))
        units = split_units(text)
        assert len(units) == MAX_UNITS and all(re.match(r"\d+\. item$", u.text) for u in units)
        assert_honest(text, units)
