import csv
from collections import Counter
from pathlib import Path

import pytest

from models.labelled import (
    COLUMNS,
    TWCS_SOURCE,
    LabelError,
    expected_split,
    format_spans,
    label_files,
    load_all_labelled,
    load_labelled,
    parse_spans,
    text_digest,
)

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
REVIEWS = "streams/demo_reviews.csv"

TWEETS = {
    "101": "@brand please add a dark mode to the app",
    "102": "@brand my order never came, DM me",
    "103": "@brand love it. bring back the old icons pls! and let me sort by date",
}
REVIEW_TEXTS = ["Great app but it needs an offline mode.", "Crashes on start."]


def _write_csv(path: Path, fieldnames: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    tweet_rows = [{"tweet_id": key, "inbound": "True", "text": text} for key, text in TWEETS.items()]
    _write_csv(root / TWCS_SOURCE, ["tweet_id", "inbound", "text"], tweet_rows)
    review_rows = [{"title": "t", "content": text, "rating": "5"} for text in REVIEW_TEXTS]
    _write_csv(root / REVIEWS, ["title", "content", "rating"], review_rows)
    return root


def _span(text: str, part: str) -> str:
    start = text.index(part)
    return f"{start}-{start + len(part)}"


def _tweet_row(key: str, *, kind: str = "ask", asks: str = "", sample: str = "random") -> dict[str, str]:
    return {
        "source": TWCS_SOURCE,
        "row_key": key,
        "digest": text_digest(TWEETS[key]),
        "split": "test",
        "sample": sample,
        "label": "ask" if kind == "ask" else "not_ask",
        "kind": kind,
        "asks": asks,
    }


def _good_rows() -> list[dict[str, str]]:
    text = TWEETS["103"]
    two_asks = ";".join((_span(text, "bring back the old icons pls!"), _span(text, "let me sort by date")))
    return [
        _tweet_row("101", asks=_span(TWEETS["101"], "please add a dark mode to the app")),
        _tweet_row("102", kind="support"),
        _tweet_row("103", asks=two_asks, sample="enriched"),
    ]


def _labels(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "labels" / "asks.csv"
    _write_csv(path, list(COLUMNS), rows)
    return path


def test_joins_labels_with_the_shared_texts(tmp_path: Path, data_dir: Path) -> None:
    comments = load_labelled(_labels(tmp_path, _good_rows()), data_dir=data_dir)

    assert [c.row_key for c in comments] == ["101", "102", "103"]
    assert [c.text for c in comments] == list(TWEETS.values())
    assert comments[0].ask_texts() == ("please add a dark mode to the app",)
    assert comments[1].is_ask is False and comments[1].asks == () and comments[1].kind == "support"
    assert comments[2].ask_texts() == ("bring back the old icons pls!", "let me sort by date")
    assert comments[2].sample == "enriched" and all(c.split == "test" for c in comments)


def test_review_rows_are_keyed_by_their_index_and_split_by_hash(tmp_path: Path, data_dir: Path) -> None:
    text = REVIEW_TEXTS[0]
    row = {
        "source": REVIEWS,
        "row_key": "0",
        "digest": text_digest(text),
        "split": expected_split(REVIEWS, "0"),
        "sample": "random",
        "label": "ask",
        "kind": "ask",
        "asks": _span(text, "it needs an offline mode."),
    }
    (comment,) = load_labelled(_labels(tmp_path, [row]), data_dir=data_dir)
    assert comment.ask_texts() == ("it needs an offline mode.",)
    assert comment.rating == 5  # the store rating comes with the text; tweets have none
    assert all(c.rating is None for c in load_labelled(_labels(tmp_path, _good_rows()), data_dir=data_dir))

    wrong_split = {**row, "split": "train" if row["split"] == "test" else "test"}
    with pytest.raises(LabelError, match="fixed split"):
        load_labelled(_labels(tmp_path, [wrong_split]), data_dir=data_dir)


def test_review_split_is_about_forty_percent_test() -> None:
    splits = Counter(expected_split(REVIEWS, str(key)) for key in range(5000))
    assert 0.37 < splits["test"] / 5000 < 0.43
    assert expected_split(TWCS_SOURCE, "7") == "test"


def test_a_changed_text_is_an_error_naming_the_row(tmp_path: Path, data_dir: Path) -> None:
    rows = _good_rows()
    rows[1]["digest"] = text_digest("some other text")
    with pytest.raises(LabelError, match=r"line 3 .*row 102.*digest"):
        load_labelled(_labels(tmp_path, rows), data_dir=data_dir)


def test_a_missing_data_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LabelError, match=r"twcs_customer_support_tweets\.csv is missing"):
        load_labelled(_labels(tmp_path, _good_rows()), data_dir=tmp_path / "nowhere")


def test_an_unknown_row_is_an_error(tmp_path: Path, data_dir: Path) -> None:
    rows = _good_rows()
    rows[0]["row_key"] = "999"
    with pytest.raises(LabelError, match=r"row 999\): no such row"):
        load_labelled(_labels(tmp_path, rows), data_dir=data_dir)


@pytest.mark.parametrize(
    ("asks", "message"),
    [
        ("5-5", "empty or outside"),
        ("30-99", "empty or outside"),
        ("0-10;5-20", "overlaps"),
        ("20-30;0-10", "overlaps or precedes"),
        ("abc", "malformed span"),
        ("", "at least one span"),
    ],
)
def test_bad_spans_are_rejected(tmp_path: Path, data_dir: Path, asks: str, message: str) -> None:
    rows = [_tweet_row("101", asks=asks)]
    with pytest.raises(LabelError, match=message):
        load_labelled(_labels(tmp_path, rows), data_dir=data_dir)


def test_a_not_ask_with_a_span_and_a_mismatched_kind_are_rejected(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(LabelError, match="at least one span"):
        load_labelled(_labels(tmp_path, [_tweet_row("102", kind="bug", asks="0-5")]), data_dir=data_dir)
    mismatched = {**_tweet_row("102", kind="bug"), "label": "ask"}
    with pytest.raises(LabelError, match="does not agree"):
        load_labelled(_labels(tmp_path, [mismatched]), data_dir=data_dir)
    with pytest.raises(LabelError, match="kind 'feature'"):
        load_labelled(_labels(tmp_path, [_tweet_row("102", kind="feature")]), data_dir=data_dir)


def test_a_row_labelled_twice_is_rejected(tmp_path: Path, data_dir: Path) -> None:
    rows = _good_rows()
    with pytest.raises(LabelError, match="labelled twice"):
        load_labelled(_labels(tmp_path, [*rows, rows[0]]), data_dir=data_dir)


def test_a_file_without_the_scheme_columns_is_rejected(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "labels" / "asks.csv"
    _write_csv(path, ["source", "row_key", "text"], [])
    with pytest.raises(LabelError, match="lacks the columns"):
        load_labelled(path, data_dir=data_dir)


def test_spans_round_trip() -> None:
    assert parse_spans("3-10; 15-20") == ((3, 10), (15, 20))
    assert format_spans(parse_spans("3-10;15-20")) == "3-10;15-20"
    assert parse_spans("") == ()


def test_label_files_lists_the_csv_files(tmp_path: Path, data_dir: Path) -> None:
    _labels(tmp_path, _good_rows())
    (tmp_path / "labels" / "README.txt").write_text("not labels")
    assert [p.name for p in label_files(tmp_path / "labels")] == ["asks.csv"]
    loaded = load_all_labelled(data_dir=data_dir, labels_dir=tmp_path / "labels")
    assert list(loaded) == ["asks.csv"] and len(loaded["asks.csv"]) == 3


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="needs ../shared/data")
def test_the_committed_label_files_load() -> None:
    files = label_files()
    assert "twcs_asks.csv" in [path.name for path in files]
    for path in files:
        comments = load_labelled(path, data_dir=SHARED_DATA)
        assert comments, path
        assert all(c.split == "test" for c in comments if c.source == TWCS_SOURCE)
    tweets = load_labelled(next(p for p in files if p.name == "twcs_asks.csv"), data_dir=SHARED_DATA)
    samples = Counter(c.sample for c in tweets)
    assert len(tweets) >= 800 and samples["random"] >= 400 and samples["enriched"] >= 350
    assert sum(c.is_ask for c in tweets) >= 60
