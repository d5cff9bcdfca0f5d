"""Where the person's own words begin and end: a site's notice before them, appended replies,
quoted replies and signatures are cut."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.moderation import ModerationPolicy, ReasonCode, moderate
from models.text import authored_cut, authored_end, authored_span, normalize_text, own_words

ASK = "Please add a dark mode for the reader, my eyes hurt at night."

CUT_CASES = [
    (f"{ASK}\n ------------------------ \n 开发者回复：Hi. Shipped in 4.2: https://a.example/x", "reply"),
    (f"{ASK}\n\nDeveloper Response\nHi Kim, thanks for the idea!", "reply"),
    (f"{ASK}\nDeveloper's Response: We have passed this on.", "reply"),
    (f"{ASK} Response from the developer: Thank you for the feedback.", "reply"),
    (f"{ASK}\nReply from the publisher: we're sorry, a fix is coming.", "reply"),
    (f"{ASK}\n===========\nHello there, thanks for taking the time to write.", "reply"),
    (f"{ASK}\n———\nWe're sorry about the trouble, try version 3.", "reply"),
    (f"{ASK}\n\nOn Tue, 3 Mar 2020 at 10:01, Help <h@example.org> wrote:\n> Hi", "quoted_reply"),
    (f"{ASK}\n-----Original Message-----\nFrom: Support\nSubject: your request", "quoted_reply"),
    (f"{ASK}\n\nSent from my iPhone", "signature"),
    (f"{ASK} ^KT", "signature"),
]


@pytest.mark.parametrize(("text", "kind"), CUT_CASES)
def test_appended_text_is_cut_in_raw_and_folded_form(text: str, kind: str) -> None:
    for form in (text, normalize_text(text)):
        end, found = authored_cut(form)
        assert found == kind
        assert form[:end] == ASK
        assert authored_end(form) == end


KEPT = [
    ASK,
    f"{ASK}\n--------\nUpdate: two weeks later it still crashes, please fix the sync too.",
    f"{ASK}\n______\nOld review: it was the best reader in the store.",
    "The developer response to my last review was rude, so please add a real support contact.",
    "Would love\n>tabs on the iPad\n>a bookmarks bar\n>find in page",
    "On the other hand I wrote to them twice and please add export.",
    "I'd like to respond to the developer: no, the update did not fix it, add an undo button.",
    f"{ASK}\n-- \nand please an offline mode too",  # the writer's words under a "--", not a signature
    f"{ASK}\n--\nWhy is there no sepia theme?",
]


@pytest.mark.parametrize("text", KEPT)
def test_the_persons_own_words_are_kept_whole(text: str) -> None:
    for form in (text, normalize_text(text)):
        assert authored_cut(form) == (len(form), None)


def test_a_signature_separator_line_is_cut_only_with_its_line_breaks() -> None:
    text = f"{ASK}\n-- \nRobin Miller\nHead of Ops, Example Ltd"
    assert authored_cut(text) == (len(ASK), "signature")
    assert authored_cut(normalize_text(text)) == (len(ASK), "signature")  # stored with its line breaks
    folded = " ".join(text.split())  # on one line, " -- " inside a sentence is punctuation, not a signature
    assert authored_cut(folded) == (len(folded), None)


def test_offsets_index_the_given_text_and_spans_stay_valid() -> None:
    text = f"  {ASK}  \n\n  -----  \n  Developer Response:\n  Thanks for the review!"
    end = authored_end(text)
    assert text[:end] == f"  {ASK}"
    start = text.index("dark mode")
    assert text[start : start + len("dark mode")] == "dark mode" and start + len("dark mode") <= end


def test_a_text_that_is_only_a_reply_has_no_words_of_its_own() -> None:
    assert authored_end("Developer Response: Thanks for the feedback!") == 0


@given(st.text(max_size=300))
def test_end_is_always_a_valid_prefix_offset(text: str) -> None:
    end, kind = authored_cut(text)
    assert 0 <= end <= len(text)
    if kind is None:
        assert end == len(text)


DELETED = "（该条评论已经被删除）"  # "this comment has been deleted", as a review site prefixes it


@pytest.mark.parametrize(
    ("text", "own"),
    [
        (f"{DELETED}It stops working after 3 days", "It stops working after 3 days"),
        (f"({DELETED[1:-1]}) Solid", "Solid"),
        ("【該條評論已經被刪除】 Please add sync", "Please add sync"),
        ("[deleted]", ""),
        (f"  [removed]  {DELETED}Hi there", "Hi there"),
        (DELETED, ""),
        (f"{DELETED}{ASK}\n---\nDeveloper Response: Thanks!", ASK),
    ],
)
def test_a_sites_notice_before_the_words_is_not_theirs(text: str, own: str) -> None:
    start, end = authored_span(text)
    assert text[start:end] == own_words(text) == own


@pytest.mark.parametrize("text", [ASK, "Please (deleted) add it back", f"Line one\n{DELETED}later"])
def test_a_notice_inside_the_comment_is_left_in_its_words(text: str) -> None:
    assert authored_span(text) == (0, len(text))


def test_a_comment_that_is_only_the_notice_is_empty_to_moderation() -> None:
    for text in (DELETED, "[deleted]", "[removed]"):
        verdict = moderate(text, ModerationPolicy())
        assert verdict is not None and verdict.code is ReasonCode.EMPTY
    assert moderate(f"{DELETED}Please add a dark mode to the reader", ModerationPolicy()) is None


@given(st.text(max_size=300))
def test_the_own_span_is_always_valid(text: str) -> None:
    start, end = authored_span(text)
    assert 0 <= start <= end <= len(text)
