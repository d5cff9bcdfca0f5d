"""Texts built to make a pattern backtrack: every text step reads them in time linear in their length.

A comment up to the ingest limit (10,000 characters after normalization; the raw message may be
25 times longer) reaches normalization, the splitter, moderation, the word rules in front of the
judge, the placement of asks and theme titles. Patterns that may begin inside a run of characters
they then scan to its end, or that may cut a run in many ways, took seconds to hours on such
texts (".@" repeated 500 times before a remark: 10 s in the judge; 2,000 times: hours), and one
such comment held the whole classify stage. Each test reads the catalogue under a time
limit that interrupts a pattern that backtracks (``pytest-timeout``, signal method: the regular
expression engine checks for signals); the figures are printed by ``benchmarks/hostile_text.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.ask_context import announced_items, placement_text, wants_previous_version
from models.explicit_asks import is_explicit_request
from models.moderation import moderate
from models.non_asks import non_ask_kind
from models.text import authored_cut, normalize_text
from models.themes.titles import TitleInput, theme_titles
from models.units import split_units

PIECES = (
    "a", "a-", "a.", ".a", "1.", "_a", "A", "a@", "@.", ".@", "@. ", "**", "-- \n", " . ", "$1", "www.",
    "a.b", "a-b ", "+a", "@a.@", "old ", "back ", "change it back ", "e.g. ", "> a\n", "...", "a!", "😀",
    "Thanks,\n", "1. a ", "1) a\n",
)
"""Runs that made one pattern or another backtrack before (see the module docstring)."""
LENGTH = 8_000
ASK = "Please add a dark mode to the map"
REMARK = "the map needs work"
"""Words no rule matches: a pattern that fails tries every way it has, where a match ends early."""


def hostile_forms(run: str) -> list[str]:
    """``run`` before an ask, after one, and before words that match no rule (raw, not normalized)."""
    return [f"{run} {ASK}", f"{ASK}. {run}", f"{run} {REMARK}"]


def hostile_texts() -> list[str]:
    """Each piece repeated to :data:`LENGTH` characters in each of :func:`hostile_forms`, normalized."""
    texts = []
    for piece in PIECES:
        run = (piece * (LENGTH // len(piece) + 1))[:LENGTH]
        texts += [normalize_text(form) for form in hostile_forms(run)]
    return texts


def read_by_rules(text: str) -> None:
    """Every word rule in front of the judge, on each unit of ``text``."""
    units = split_units(text)
    announced_items(text, units, [True] * len(units))
    for unit in units:
        is_explicit_request(unit.text)
        non_ask_kind(unit.text, 5)
        non_ask_kind(unit.text, None)
        wants_previous_version(unit.text, product_words=frozenset({"trailmate"}))


def placements(text: str) -> list[str]:
    """The placement text of each of the first 40 units of ``text``, each read as an ask."""
    units = split_units(text)
    return [placement_text(unit, units, product="trailmate") for unit in units[:40]]


def title_of(text: str) -> str:
    """The title of a theme of the first ten units of ``text`` and two asks (random unit vectors)."""
    members = [unit.text for unit in split_units(text)[:10]] + ["dark mode please", "a dark mode for the map"]
    vectors = np.random.default_rng(0).normal(size=(len(members), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    centre = vectors.mean(axis=0)
    centre = (centre / np.linalg.norm(centre)).astype(np.float32)
    (title,) = theme_titles([TitleInput(texts=members, vectors=vectors, centroid=centre)])
    return title


@pytest.mark.timeout(120, method="signal")
def test_normalization_reads_a_long_run_of_whitespace_once() -> None:
    # 200,000 characters of spaces and tabs fit in one message under its byte limit
    raw = " \t" * 100_000 + "add offline maps \t\n \t " + "\t " * 100_000
    assert normalize_text(raw) == "add offline maps"
    assert normalize_text("one \t\r\n\t two  three\u2028 four") == "one\ntwo three\nfour"


@pytest.mark.timeout(120, method="signal")
def test_the_splitter_and_the_reply_cut_read_hostile_runs() -> None:
    for text in hostile_texts():
        end, _ = authored_cut(text)
        assert 0 <= end <= len(text)
        for unit in split_units(text):
            assert text[unit.start : unit.end] == unit.text
    # separator lines repeated before a signature: the trailing run is found, not tried in every cut
    text = "Please add offline maps.\n" + "---\n" * 3_000 + "Sent from my phone"
    assert text[: authored_cut(text)[0]] == "Please add offline maps."


@pytest.mark.timeout(120, method="signal")
def test_moderation_and_the_word_rules_read_hostile_runs() -> None:
    for text in hostile_texts():
        moderate(text)
        read_by_rules(text)
    # the rules still read what they were written for
    assert is_explicit_request("@trailmate please add a dark mode")
    assert is_explicit_request("hi @trailmate, add a dark mode")
    assert is_explicit_request("@trailmate. Add a dark mode")
    assert not is_explicit_request(".@" * 2_000 + " the map needs work")
    assert non_ask_kind("Great app. Thanks!", 5) == "praise"


@pytest.mark.timeout(120, method="signal")
def test_placement_and_titles_read_hostile_asks() -> None:
    for text in hostile_texts():
        assert all(placements(text))
        title = title_of(text)
        assert "@" not in title and "www." not in title
