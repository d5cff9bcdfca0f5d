"""Near-duplicate detection: bands, exact repeats, window bounds, evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from models.duplicates import (
    DuplicateConfig,
    RecentWindow,
    check_duplicate,
    classify_similarity,
    evaluate_duplicates,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CFG = DuplicateConfig(
    auto_merge_threshold=0.9, review_threshold=0.6, window_size=3, window_age=timedelta(days=7)
)


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_bands() -> None:
    assert classify_similarity(0.95, CFG) == "auto"
    assert classify_similarity(0.9, CFG) == "auto"
    assert classify_similarity(0.7, CFG) == "review"
    assert classify_similarity(0.59, CFG) == "new"


def test_an_exact_repeat_is_the_same_words_placed_alike() -> None:
    window = RecentWindow(product="p")
    window, first = check_duplicate(
        window,
        suggestion_id="a",
        text="Please add a dark mode!",
        vector=unit(1, 0, 0),
        created_at=T0,
        config=CFG,
    )
    assert first.band == "new"
    window, again = check_duplicate(
        window,
        suggestion_id="b",
        text="please add a DARK mode",
        vector=unit(1, 0.05, 0),
        created_at=T0,
        config=CFG,
    )
    assert again.band == "exact" and again.duplicate_of == "a" and again.similarity == 1.0


def test_the_same_words_placed_by_different_contexts_are_not_a_repeat() -> None:
    # "Please put it back!" after a complaint about the toolbar, then after one about reading mode
    window = RecentWindow(product="p")
    window, _ = check_duplicate(
        window, suggestion_id="a", text="Please put it back!", vector=unit(1, 0, 0), created_at=T0, config=CFG
    )
    window, other = check_duplicate(
        window, suggestion_id="b", text="please put it back", vector=unit(0, 1, 0), created_at=T0, config=CFG
    )
    assert other.band == "new" and other.duplicate_of is None


def test_near_duplicate_bands_and_window() -> None:
    window = RecentWindow(product="p")
    window, _ = check_duplicate(
        window, suggestion_id="a", text="export to csv", vector=unit(1, 0, 0), created_at=T0, config=CFG
    )
    window, auto = check_duplicate(
        window, suggestion_id="b", text="csv export please", vector=unit(1, 0.1, 0), created_at=T0, config=CFG
    )
    assert auto.band == "auto" and auto.duplicate_of == "a"
    window, review = check_duplicate(
        window,
        suggestion_id="c",
        text="spreadsheet download",
        vector=unit(1, 1, 0),
        created_at=T0,
        config=CFG,
    )
    assert review.band == "review"
    # Auto duplicates are not added to the window; reviews are.
    assert [i.suggestion_id for i in window.items] == ["a", "c"]
    late = T0 + timedelta(days=8)
    window, fresh = check_duplicate(
        window, suggestion_id="d", text="export to csv", vector=unit(1, 0, 0), created_at=late, config=CFG
    )
    assert fresh.band == "new"  # "a" aged out of the window


def test_window_size_bound_and_round_trip() -> None:
    window = RecentWindow(product="p")
    for i in range(5):
        window, _ = check_duplicate(
            window,
            suggestion_id=f"s{i}",
            text=f"idea {i}",
            vector=unit(*np.eye(5)[i]),
            created_at=T0,
            config=CFG,
        )
    assert len(window.items) == CFG.window_size
    clone = RecentWindow.from_dict(window.to_dict())
    _, a = check_duplicate(
        window, suggestion_id="x", text="other", vector=unit(*np.eye(5)[4]), created_at=T0, config=CFG
    )
    _, b = check_duplicate(
        clone, suggestion_id="x", text="other", vector=unit(*np.eye(5)[4]), created_at=T0, config=CFG
    )
    assert a == b and a.duplicate_of == "s4"


def test_evaluate_duplicates_counts_review_band_as_positive() -> None:
    vec_a = np.stack([unit(1, 0), unit(1, 0), unit(1, 0)])
    vec_b = np.stack([unit(1, 0.05), unit(1, 0.8), unit(0, 1)])
    result = evaluate_duplicates(
        pairs=[("a", "b"), ("c", "d"), ("e", "f")],
        labels=[1, 1, 0],
        embedder_vectors=(vec_a, vec_b),
        config=CFG,
    )
    assert result["precision"] == 1.0 and result["recall"] == 1.0 and result["f1"] == 1.0
    assert result["bands"]["auto"] == 1 and result["bands"]["review"] == 1


def test_a_suggestion_delivered_again_is_never_a_repeat_of_itself() -> None:
    window = RecentWindow(product="p")
    window, _ = check_duplicate(
        window, suggestion_id="a", text="Add a dark mode", vector=unit(1, 0, 0), created_at=T0, config=CFG
    )
    window, again = check_duplicate(
        window, suggestion_id="a", text="Add a dark mode", vector=unit(1, 0, 0), created_at=T0, config=CFG
    )
    assert again.band == "new" and again.duplicate_of is None


def test_the_window_s_matrix_follows_its_items_through_evictions_by_size_and_age() -> None:
    # the matrix is kept across steps (sliced, not rebuilt, when old items leave): every match must
    # equal one computed from the window's items afresh, re-deliveries and repeats included
    rng = np.random.default_rng(3)
    window = RecentWindow(product="p")
    centres = [unit(*rng.normal(size=8)) for _ in range(4)]
    for i in range(120):
        vector = unit(*(centres[i % 4] + rng.normal(0, 0.4, size=8)))
        sid = f"s{i - 5}" if i % 9 == 0 and i >= 5 else f"s{i}"  # some re-deliveries
        at = T0 + timedelta(days=i // 10)  # items age out of the 7-day window as days pass
        fresh = RecentWindow.from_dict(window.to_dict())
        window, match = check_duplicate(window, suggestion_id=sid, text=f"idea {i % 7}", vector=vector,
                                        created_at=at, config=CFG)
        _, expected = check_duplicate(fresh, suggestion_id=sid, text=f"idea {i % 7}", vector=vector,
                                      created_at=at, config=CFG)
        assert match == expected, i
        assert np.array_equal(window._index(), np.stack([item.vector for item in window.items])), i
