"""``youasked eval suggestions --input FILE --asks``: a labelled file's ask column, in each of the
forms people write it, located in the comment as ingest stores it and matched with the judge's asks."""

from __future__ import annotations

import json

import pytest

from models.judge_eval import file_ask_overlap, labelled_ask_texts, locate_ask, span_overlap
from models.text import normalize_text

TEXT = "Love the app.  Please ADD a dark mode\nfor night rides! Also the map freezes."


def test_spans_name_the_text_they_cover() -> None:
    assert labelled_ask_texts("15-53", TEXT) == ["Please ADD a dark mode\nfor night rides"]
    both = ["Love the app.", "Please ADD a dark mode\nfor night rides"]
    assert labelled_ask_texts(" 0-13 ; 15-53 ", TEXT) == both


def test_a_span_past_the_text_names_nothing() -> None:
    assert labelled_ask_texts("60-500", TEXT) == []


@pytest.mark.parametrize(
    "cell",
    [
        json.dumps(["please add a dark mode for night rides"]),
        "please add a dark mode for night rides",
        "  please add a dark mode   for night rides  \n",
    ],
)
def test_words_are_an_ask_in_any_of_their_forms(cell: str) -> None:
    asks = labelled_ask_texts(cell, TEXT)
    assert len(asks) == 1
    stored = normalize_text(TEXT)
    span = locate_ask(asks[0], stored)
    assert span is not None
    assert " ".join(stored[span[0] : span[1]].casefold().split()) == "please add a dark mode for night rides"


def test_one_ask_a_line_and_an_empty_cell() -> None:
    assert labelled_ask_texts("add a dark mode\nexport to gpx", TEXT) == ["add a dark mode", "export to gpx"]
    assert labelled_ask_texts("   ", TEXT) == []


def test_words_not_in_the_comment_are_not_located() -> None:
    assert locate_ask("offline maps please", normalize_text(TEXT)) is None
    assert locate_ask("   ", normalize_text(TEXT)) is None


def test_the_file_report_counts_what_it_cannot_locate() -> None:
    stored = normalize_text(TEXT)
    ask = locate_ask("Please ADD a dark mode for night rides", stored)
    assert ask is not None
    report = file_ask_overlap(
        [TEXT, "the map freezes"],
        [json.dumps(["please add a dark mode", "offline maps"]), ""],
        [stored, "the map freezes"],
        [[ask, (0, 5)], [(0, 7)]],
    )
    assert report["labelled_asks"] == 1
    assert report["unlocated_asks"] == 1
    assert report["extracted_asks"] == 3
    assert report["span_precision"] == pytest.approx(1 / 3, abs=1e-4)
    assert report["span_recall"] == 1.0


def test_span_overlap_of_nothing_is_zero() -> None:
    assert span_overlap([[]], [[]])["span_f1"] == 0.0
