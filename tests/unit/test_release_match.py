"""Release notes -> proposed themes: cosine, threshold, order, shared words; proposals only."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.release_match import (
    DEFAULT_MIN_SIMILARITY,
    OpenTheme,
    content_words,
    propose_release_matches,
    shared_keywords,
)

NOTE = "Version 3.2: tide tables now work offline, and you can export your logbook to CSV."


def unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


THEMES = [
    OpenTheme(
        "offline",
        "offline tide tables",
        "please let the tide tables work without signal at sea",
        unit(1, 0.1, 0, 0),
    ),
    OpenTheme("export", "export logbook", "I want to export my logbook as a csv file", unit(0.7, 0.7, 0, 0)),
    OpenTheme("widget", "bigger widget", "the widget is too small to read", unit(0, 0, 1, 0)),
]


def test_proposes_matching_themes_best_first_with_shared_words() -> None:
    matches = propose_release_matches(release_note=NOTE, note_embedding=unit(1, 0.2, 0, 0), themes=THEMES)
    assert [m.theme_id for m in matches] == ["offline", "export"]
    assert matches[0].similarity > matches[1].similarity >= DEFAULT_MIN_SIMILARITY
    assert set(matches[0].keywords) >= {"tide", "tables"}
    assert set(matches[1].keywords) >= {"export", "logbook", "csv"}
    json.dumps([m.to_dict() for m in matches])


def test_nothing_below_the_threshold() -> None:
    matches = propose_release_matches(release_note=NOTE, note_embedding=unit(0, 0, 0, 1), themes=THEMES)
    assert matches == []


def test_embeddings_need_not_be_normalized_and_zero_vectors_match_nothing() -> None:
    scaled = propose_release_matches(release_note=NOTE, note_embedding=[10.0, 2.0, 0.0, 0.0], themes=THEMES)
    assert [m.theme_id for m in scaled] == ["offline", "export"]
    assert propose_release_matches(release_note=NOTE, note_embedding=[0.0] * 4, themes=THEMES) == []
    zero_theme = OpenTheme("empty", "empty", "", [0.0, 0.0, 0.0, 0.0])
    assert (
        propose_release_matches(release_note=NOTE, note_embedding=unit(1, 0, 0, 0), themes=[zero_theme]) == []
    )


def test_dimension_mismatch_fails_loudly() -> None:
    with pytest.raises(ValueError, match="dimensions"):
        propose_release_matches(release_note=NOTE, note_embedding=unit(1, 0, 0), themes=THEMES)


def test_limit_and_custom_threshold() -> None:
    matches = propose_release_matches(
        release_note=NOTE, note_embedding=unit(1, 0.2, 0.3, 0), themes=THEMES, min_similarity=0.0, limit=2
    )
    assert len(matches) == 2


def test_proposing_never_touches_the_themes() -> None:
    before = [(t.theme_id, t.label, t.representative_text, np.asarray(t.centroid).copy()) for t in THEMES]
    propose_release_matches(release_note=NOTE, note_embedding=unit(1, 0.2, 0, 0), themes=THEMES)
    for (theme_id, label, text, centroid), theme in zip(before, THEMES, strict=True):
        assert (theme.theme_id, theme.label, theme.representative_text) == (theme_id, label, text)
        assert np.array_equal(centroid, np.asarray(theme.centroid))


def test_shared_keywords_skip_stop_words_and_meet_plurals() -> None:
    assert shared_keywords("We added exports and syncing", "export my data, sync please") == (
        "exports",
        "syncing",
    )
    assert "the" not in content_words("the tide and the moon")


@given(
    note=st.lists(st.floats(-1, 1, allow_nan=False), min_size=4, max_size=4),
    centroids=st.lists(st.lists(st.floats(-1, 1, allow_nan=False), min_size=4, max_size=4), max_size=12),
    threshold=st.floats(-1, 1),
)
def test_proposals_are_sorted_and_above_the_threshold(
    note: list[float], centroids: list[list[float]], threshold: float
) -> None:
    themes = [OpenTheme(f"t{n}", "label", "text", centroid) for n, centroid in enumerate(centroids)]
    matches = propose_release_matches(
        release_note="text", note_embedding=note, themes=themes, min_similarity=threshold
    )
    similarities = [m.similarity for m in matches]
    assert similarities == sorted(similarities, reverse=True)
    assert all(threshold <= s <= 1.0 for s in similarities)
    assert len({m.theme_id for m in matches}) == len(matches)
