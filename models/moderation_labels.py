"""The hand-labelled sample of moderation firings, joined with the shared data it was drawn from.

``models/labels/moderation_fired.csv`` names each comment a rule fired on by ``source`` (a path
under the shared data folder), ``row_key`` (``tweet_id``, the file's ``id`` / ``id_num`` column,
else the 0-based data-row index) and ``digest`` (the first 12 hex of the SHA-256 of the text), with
the ``rule`` that fired, whether it was ``correct`` to remove the comment (``yes`` / ``no``) and a
short ``note`` (a category, never text). The texts themselves stay in the shared files: loading
joins them back and checks every digest, and fails with :class:`LabelDataError` when a file or a
row is missing or a text changed.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LABELS_FILE = Path(__file__).resolve().parent / "labels" / "moderation_fired.csv"
LABEL_COLUMNS = ("source", "row_key", "digest", "rule", "correct", "note")
DIGEST_CHARS = 12


@dataclass(frozen=True, slots=True)
class CommentSource:
    """One shared file of comments: its path under the data folder and the columns to read.

    ``key_column`` None means rows are named by their 0-based data-row index. ``only_inbound``
    keeps the rows whose ``inbound`` column is ``True`` (customers' tweets, not the brands').
    """

    path: str
    text_column: str
    key_column: str | None = None
    only_inbound: bool = False


MODERATION_SOURCES: tuple[CommentSource, ...] = (
    CommentSource("streams/github_reviews.csv", "content"),
    CommentSource("streams/google_chrome_reviews.csv", "content"),
    CommentSource("streams/microsoft_teams_reviews.csv", "content"),
    CommentSource("streams/testflight_reviews.csv", "content"),
    CommentSource("streams/twcs_customer_support_tweets.csv", "text", "tweet_id", only_inbound=True),
    CommentSource("suggestions/clap_reviews.csv", "text", "id"),
    CommentSource("suggestions/maalej_reviews.csv", "text", "id_num"),
    CommentSource("suggestions/tizard_forum_sentences.csv", "text", "id"),
)


class LabelDataError(RuntimeError):
    """The labels cannot be joined with the shared data.

    A file, a row or a column is missing, or a text no longer matches its digest.
    """


@dataclass(frozen=True, slots=True)
class SourceComment:
    """One comment of a shared file: where it is, its key and its text."""

    source: str
    row_key: str
    text: str


@dataclass(frozen=True, slots=True)
class FiredLabel:
    """One labelled firing: the comment, the rule that removed it and whether that was right."""

    comment: SourceComment
    rule: str
    correct: bool
    note: str


def text_digest(text: str) -> str:
    """The first 12 hex digits of the SHA-256 of ``text`` (UTF-8): how a label names a text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGEST_CHARS]


def read_source(data_root: Path, source: CommentSource) -> Iterator[SourceComment]:
    """The comments of ``source`` under ``data_root``, in file order.

    Raises :class:`LabelDataError` when the file or one of its columns is missing.
    """
    path = data_root / source.path
    if not path.is_file():
        raise LabelDataError(f"{path} is missing: the moderation labels need the shared data folder")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        wanted = [source.text_column, *([source.key_column] if source.key_column else [])]
        missing = [column for column in wanted if column not in (reader.fieldnames or [])]
        if missing:
            raise LabelDataError(f"{path} has no column {', '.join(missing)}")
        for index, row in enumerate(reader):
            if source.only_inbound and (row.get("inbound") or "").strip().casefold() != "true":
                continue
            key = row[source.key_column] if source.key_column else str(index)
            yield SourceComment(source.path, key, row[source.text_column] or "")


def _source_of(path: str, sources: tuple[CommentSource, ...]) -> CommentSource:
    for source in sources:
        if source.path == path:
            return source
    raise LabelDataError(f"labels name an unknown source {path!r}")


def _index(comments: Iterator[SourceComment]) -> dict[tuple[str, str], SourceComment]:
    """Comments by ``(row_key, digest)``: a key that repeats in a file is told apart by its text."""
    return {(c.row_key, text_digest(c.text)): c for c in comments}


def load_fired_labels(
    data_root: Path | str,
    labels_file: Path | str = DEFAULT_LABELS_FILE,
    *,
    sources: tuple[CommentSource, ...] = MODERATION_SOURCES,
) -> list[FiredLabel]:
    """Read ``labels_file`` and join every label with its comment under ``data_root``.

    Raises :class:`LabelDataError` when the labels file, a shared file or a labelled row is missing,
    when a row's text no longer matches the stored digest, or when a ``correct`` value is not
    ``yes`` / ``no``.
    """
    root, path = Path(data_root), Path(labels_file)
    if not path.is_file():
        raise LabelDataError(f"{path} is missing")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != LABEL_COLUMNS:
            raise LabelDataError(f"{path} must have the columns {', '.join(LABEL_COLUMNS)}")
        rows = list(reader)
    indexes: dict[str, dict[tuple[str, str], SourceComment]] = {}
    labels: list[FiredLabel] = []
    for line, row in enumerate(rows, start=2):
        source = row["source"]
        if source not in indexes:
            indexes[source] = _index(read_source(root, _source_of(source, sources)))
        comment = indexes[source].get((row["row_key"], row["digest"]))
        if comment is None:
            raise LabelDataError(
                f"{path}:{line}: no row {row['row_key']} with digest {row['digest']} in {root / source}"
                " (missing, or its text changed)"
            )
        if row["correct"] not in ("yes", "no"):
            raise LabelDataError(f"{path}:{line}: correct must be yes or no, not {row['correct']!r}")
        labels.append(FiredLabel(comment, row["rule"], row["correct"] == "yes", row["note"]))
    return labels
