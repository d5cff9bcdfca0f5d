"""The labelled moderation sample: joined with the shared files by id and digest, scored per rule."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from models.moderation import ModerationPolicy
from models.moderation_eval import fired_counts, score_rules
from models.moderation_labels import (
    DEFAULT_LABELS_FILE,
    LABEL_COLUMNS,
    CommentSource,
    LabelDataError,
    load_fired_labels,
    read_source,
    text_digest,
)

REVIEWS = CommentSource("streams/app_reviews.csv", "content")
TWEETS = CommentSource("streams/tweets.csv", "text", "tweet_id", only_inbound=True)
SOURCES = (REVIEWS, TWEETS)

REVIEW_TEXTS = [
    "Please add a dark mode",
    "😀😀😀",
    "Add folders.\n ------ \n Developer Response: thanks! https://a.example/1 https://a.example/2",
]
TWEET_ROWS = [
    {"tweet_id": "10", "inbound": "True", "text": "Follow me for daily tips!! insta: tips.daily"},
    {"tweet_id": "11", "inbound": "False", "text": "We are sorry to hear that ^AB"},
    {"tweet_id": "12", "inbound": "True", "text": "@brand the fucking app crashes when I open the map"},
]


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    _write(root / REVIEWS.path, [{"date": "2021-01-01", "content": text} for text in REVIEW_TEXTS])
    _write(root / TWEETS.path, TWEET_ROWS)
    return root


def _labels(tmp_path: Path, rows: list[tuple[str, str, str, str, str, str]]) -> Path:
    path = tmp_path / "labels.csv"
    _write(path, [dict(zip(LABEL_COLUMNS, row, strict=True)) for row in rows])
    return path


def _row(source: CommentSource, key: str, text: str, rule: str, correct: str) -> tuple[str, ...]:
    return (source.path, key, text_digest(text), rule, correct, "category")


def test_sources_are_read_by_key_or_row_index_and_only_inbound_tweets(data_root: Path) -> None:
    reviews = list(read_source(data_root, REVIEWS))
    assert [(c.row_key, c.text) for c in reviews] == [(str(i), t) for i, t in enumerate(REVIEW_TEXTS)]
    assert [c.row_key for c in read_source(data_root, TWEETS)] == ["10", "12"]


def test_labels_join_with_their_texts(data_root: Path, tmp_path: Path) -> None:
    path = _labels(
        tmp_path,
        [
            _row(REVIEWS, "1", REVIEW_TEXTS[1], "no_letters", "yes"),
            _row(TWEETS, "12", TWEET_ROWS[2]["text"], "blocked_word", "no"),
        ],
    )
    labels = load_fired_labels(data_root, path, sources=SOURCES)
    assert [(lab.comment.text, lab.rule, lab.correct) for lab in labels] == [
        (REVIEW_TEXTS[1], "no_letters", True),
        (TWEET_ROWS[2]["text"], "blocked_word", False),
    ]


def test_a_changed_text_fails_clearly(data_root: Path, tmp_path: Path) -> None:
    path = _labels(tmp_path, [_row(REVIEWS, "0", "a different text", "too_short", "yes")])
    with pytest.raises(LabelDataError, match="digest"):
        load_fired_labels(data_root, path, sources=SOURCES)


def test_missing_shared_files_fail_clearly(tmp_path: Path) -> None:
    path = _labels(tmp_path, [_row(REVIEWS, "0", REVIEW_TEXTS[0], "too_short", "yes")])
    with pytest.raises(LabelDataError, match="missing"):
        load_fired_labels(tmp_path / "nowhere", path, sources=SOURCES)
    with pytest.raises(LabelDataError, match="missing"):
        load_fired_labels(tmp_path, tmp_path / "no_labels.csv", sources=SOURCES)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("streams/other.csv", "0", "abc", "empty", "yes", "x"), "unknown source"),
        ((REVIEWS.path, "0", text_digest(REVIEW_TEXTS[0]), "empty", "maybe", "x"), "yes or no"),
    ],
)
def test_bad_label_rows_fail_clearly(
    data_root: Path, tmp_path: Path, row: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "labels.csv"
    _write(path, [dict(zip(LABEL_COLUMNS, row, strict=True))])
    with pytest.raises(LabelDataError, match=message):
        load_fired_labels(data_root, path, sources=SOURCES)


def test_rules_are_scored_as_labelled_and_against_the_current_rules(data_root: Path, tmp_path: Path) -> None:
    path = _labels(
        tmp_path,
        [
            _row(REVIEWS, "1", REVIEW_TEXTS[1], "no_letters", "yes"),
            _row(REVIEWS, "2", REVIEW_TEXTS[2], "too_many_links", "no"),  # the links are the developer's
            _row(TWEETS, "10", TWEET_ROWS[0]["text"], "promo_spam", "yes"),
            _row(TWEETS, "12", TWEET_ROWS[2]["text"], "blocked_word", "no"),  # a bug report with a swear word
        ],
    )
    scores = score_rules(load_fired_labels(data_root, path, sources=SOURCES), ModerationPolicy())
    links, abuse, promo = scores["too_many_links"], scores["blocked_word"], scores["promo_spam"]
    assert (links.sampled, links.precision_before, links.kept, links.dropped_wrong) == (1, 0.0, 0, 1)
    assert links.precision_after is None
    assert (abuse.dropped_wrong, abuse.lost_right) == (1, 0)
    assert (promo.precision_before, promo.precision_after, promo.lost_right) == (1.0, 1.0, 0)


def test_fired_counts_per_rule_and_file(data_root: Path) -> None:
    counts = fired_counts(data_root, ModerationPolicy(), sources=SOURCES)
    assert counts == {"no_letters": {REVIEWS.path: 1}, "promo_spam": {TWEETS.path: 1}}


SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="the shared data folder is not here")
def test_the_projects_labels_join_with_the_shared_data() -> None:
    labels = load_fired_labels(SHARED_DATA, DEFAULT_LABELS_FILE)
    per_rule = {rule: sum(1 for lab in labels if lab.rule == rule) for rule in {lab.rule for lab in labels}}
    assert per_rule["too_short"] == 300 and all(n <= 300 for n in per_rule.values())
