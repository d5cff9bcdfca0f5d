"""Hand-labelled asks: load the label files of ``models/labels/`` joined with the shared data.

A label file (CSV, the scheme of ``docs/labelling.md``) holds no text: one row per labelled
comment with its ``source`` (a path under the shared data folder), ``row_key``, the ``digest``
of the labelled text, its ``split``, ``sample``, ``label``, ``kind`` and ``asks`` (character
spans ``start-end`` of each ask, end exclusive, separated by ``;``). :func:`load_labelled`
reads the text of each row from the shared data, checks that it is still the text that was
labelled, and validates every field, so a wrong or stale label fails loudly, naming its row.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from models.datasets import store_rating

LABELS_DIR: Final = Path(__file__).resolve().parent / "labels"
TWCS_SOURCE: Final = "streams/twcs_customer_support_tweets.csv"
COLUMNS: Final = ("source", "row_key", "digest", "split", "sample", "label", "kind", "asks")
SPLITS: Final = frozenset({"train", "test"})
SAMPLES: Final = frozenset({"random", "enriched"})
LABELS: Final = frozenset({"ask", "not_ask"})
KINDS: Final = frozenset(
    {"ask", "bug", "support", "question", "praise", "complaint", "other", "spam", "abuse", "non_english"}
)
DIGEST_LENGTH: Final = 12
TEST_SHARE_OF_FIVE: Final = 2  # a review row is test when its split hash mod 5 is below this: 40 %

Span = tuple[int, int]


class LabelError(ValueError):
    """A label file, or the shared data it points at, is missing, malformed or out of date."""


@dataclass(frozen=True)
class LabelledComment:
    """One hand-labelled comment with its text read from the shared data.

    ``asks`` are the character spans ``(start, end)`` of each ask in ``text`` (Python string
    indices, end exclusive), in order; empty when ``label`` is ``"not_ask"``.
    """

    source: str
    row_key: str
    text: str
    split: Literal["train", "test"]
    sample: Literal["random", "enriched"]
    label: Literal["ask", "not_ask"]
    kind: str
    asks: tuple[Span, ...]
    rating: int | None = None
    """The store rating of the row, where its source has one (1-5)."""

    @property
    def is_ask(self) -> bool:
        """True when the comment holds at least one ask."""
        return self.label == "ask"

    def ask_texts(self) -> tuple[str, ...]:
        """The text of each ask span."""
        return tuple(self.text[start:end] for start, end in self.asks)


@dataclass(frozen=True)
class SourceFormat:
    """Where a source keeps its key and its text: ``key_column`` None means the row index."""

    key_column: str | None
    text_column: str


def text_digest(text: str) -> str:
    """The first 12 hex characters of the SHA-256 of ``text`` encoded UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


def expected_split(source: str, row_key: str) -> Literal["train", "test"]:
    """The fixed split of a row: every TWCS row is test (non-commercial licence); a review row
    is test when ``int(sha256(source:row_key)[:8], 16) % 5 < 2`` (about 40 %), else train.
    """
    if source == TWCS_SOURCE:
        return "test"
    bucket = int(hashlib.sha256(f"{source}:{row_key}".encode()).hexdigest()[:8], 16) % 5
    return "test" if bucket < TEST_SHARE_OF_FIVE else "train"


def source_format(source: str) -> SourceFormat:
    """The key and text columns of a known source; a source of another shape is an error."""
    if source == TWCS_SOURCE:
        return SourceFormat(key_column="tweet_id", text_column="text")
    if source.startswith("streams/") and source.endswith("_reviews.csv"):
        return SourceFormat(key_column=None, text_column="content")
    raise LabelError(f"unknown source {source!r}: expected {TWCS_SOURCE} or streams/*_reviews.csv")


def read_source(data_dir: Path, source: str) -> dict[str, tuple[str, int | None]]:
    """Map each row key of ``source`` (under ``data_dir``) to the text that is labelled and the
    row's store rating (column ``rating``, 1-5; None where the source has none, as tweets).
    """
    path = data_dir / source
    if not path.is_file():
        raise LabelError(
            f"labelled data file {path} is missing: the labels hold no text and are joined with "
            f"the shared data folder ({data_dir}); put the shared data there or pass data_dir"
        )
    form = source_format(source)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and form.text_column not in rows[0]:
        raise LabelError(f"{path} has no {form.text_column!r} column")
    column = form.key_column
    keyed = enumerate(rows) if column is None else ((row.get(column) or "", row) for row in rows)
    return {
        str(key): (row[form.text_column] or "", store_rating(row.get("rating")))
        for key, row in keyed
        if key != ""
    }


def parse_spans(value: str) -> tuple[Span, ...]:
    """Parse ``"3-10;15-20"`` into ``((3, 10), (15, 20))``; empty text gives no span."""
    spans: list[Span] = []
    for part in filter(None, (piece.strip() for piece in value.split(";"))):
        start, sep, end = part.partition("-")
        if not sep or not start.isdigit() or not end.isdigit():
            raise LabelError(f"malformed span {part!r}: expected start-end")
        spans.append((int(start), int(end)))
    return tuple(spans)


def format_spans(spans: Iterable[Span]) -> str:
    """The inverse of :func:`parse_spans`."""
    return ";".join(f"{start}-{end}" for start, end in spans)


def check_spans(spans: tuple[Span, ...], text: str) -> None:
    """Raise :class:`LabelError` unless every span is non-empty, inside ``text``, in order and
    not overlapping the one before.
    """
    previous_end = 0
    for start, end in spans:
        if not 0 <= start < end <= len(text):
            raise LabelError(f"span {start}-{end} is empty or outside the text ({len(text)} characters)")
        if start < previous_end:
            raise LabelError(f"span {start}-{end} overlaps or precedes the span before it")
        if not text[start:end].strip():
            raise LabelError(f"span {start}-{end} holds only white space")
        previous_end = end


def _check_choice(row: Mapping[str, str], column: str, allowed: frozenset[str]) -> str:
    value = row[column]
    if value not in allowed:
        raise LabelError(f"{column} {value!r} is not one of {sorted(allowed)}")
    return value


def _comment(row: Mapping[str, str], text: str, rating: int | None = None) -> LabelledComment:
    """Validate one label row against its text and build the comment."""
    source, row_key = row["source"], row["row_key"]
    if text_digest(text) != row["digest"]:
        raise LabelError(f"digest {row['digest']!r} does not match the text: the data changed")
    split = _check_choice(row, "split", SPLITS)
    if split != expected_split(source, row_key):
        raise LabelError(f"split {split!r} is not the fixed split {expected_split(source, row_key)!r}")
    label = _check_choice(row, "label", LABELS)
    kind = _check_choice(row, "kind", KINDS)
    if (label == "ask") != (kind == "ask"):
        raise LabelError(f"label {label!r} does not agree with kind {kind!r}")
    asks = parse_spans(row["asks"] or "")
    if (label == "ask") != bool(asks):
        raise LabelError("an ask needs at least one span and a not_ask none")
    check_spans(asks, text)
    return LabelledComment(
        source=source,
        row_key=row_key,
        text=text,
        split="test" if split == "test" else "train",
        sample="random" if _check_choice(row, "sample", SAMPLES) == "random" else "enriched",
        label="ask" if label == "ask" else "not_ask",
        kind=kind,
        asks=asks,
        rating=rating,
    )


def _read_label_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise LabelError(f"label file {path} is missing")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or ())]
        if missing:
            raise LabelError(f"{path} lacks the columns {missing}")
        return [dict(row) for row in reader]


def load_labelled(path: Path | str, *, data_dir: Path | str) -> list[LabelledComment]:
    """Load the label file at ``path``, joined with the texts of the shared ``data_dir``.

    Raises :class:`LabelError` naming the file and row (line number and row key) when a data
    file is missing, a text no longer matches its digest, a row is labelled twice, or a field
    or span is invalid.
    """
    path, data_dir = Path(path), Path(data_dir)
    rows_by_source: dict[str, dict[str, tuple[str, int | None]]] = {}
    comments: list[LabelledComment] = []
    seen: set[tuple[str, str]] = set()
    for line, row in enumerate(_read_label_rows(path), start=2):
        where = f"{path.name} line {line} ({row['source']} row {row['row_key']})"
        source = row["source"]
        if source not in rows_by_source:
            rows_by_source[source] = read_source(data_dir, source)
        texts = rows_by_source[source]
        if (source, row["row_key"]) in seen:
            raise LabelError(f"{where}: labelled twice")
        seen.add((source, row["row_key"]))
        if row["row_key"] not in texts:
            raise LabelError(f"{where}: no such row in {data_dir / source}")
        try:
            comments.append(_comment(row, *texts[row["row_key"]]))
        except LabelError as error:
            raise LabelError(f"{where}: {error}") from error
    return comments


def label_files(labels_dir: Path | str = LABELS_DIR) -> list[Path]:
    """Every ask label file (``*asks.csv``) under ``labels_dir`` (by default ``models/labels/``), sorted.

    Other files there hold other labels (``moderation_fired.csv``: :mod:`models.moderation_labels`).
    """
    return sorted(Path(labels_dir).glob("*asks.csv"))


def load_all_labelled(
    *, data_dir: Path | str, labels_dir: Path | str = LABELS_DIR
) -> dict[str, list[LabelledComment]]:
    """Load every label file of ``labels_dir``, keyed by file name."""
    return {path.name: load_labelled(path, data_dir=data_dir) for path in label_files(labels_dir)}
