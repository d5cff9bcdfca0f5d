"""Loaders for the labelled suggestion data sets, with a deterministic train/holdout split.

Every loader returns a :class:`LabelledTexts`: parallel tuples of row ids, texts and 0/1
labels (1 = a valid suggestion). Files are read with the standard :mod:`csv` module and
are never copied into the project.

The split (:func:`split_train_holdout`) is stratified and stable: inside each class, rows
are ordered by the SHA-256 of ``"<salt>:<row id>"`` and the first ``round(holdout_fraction
* class size)`` rows form the holdout. The same file always gives the same split, whatever
the row order, and a row never moves between train and holdout when other rows are added.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from models.csv_files import read_table

logger = logging.getLogger(__name__)

CLAP_FILE = Path("suggestions") / "clap_reviews.csv"
MAALEJ_FILE = Path("suggestions") / "maalej_reviews.csv"
HOLDOUT_FRACTION = 0.2
SPLIT_SALT = "youasked-suggestions-v1"

_TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})


@dataclass(frozen=True)
class LabelledTexts:
    """Parallel tuples: ``ids[i]`` names the row, ``texts[i]`` its text, ``labels[i]`` in {0, 1};
    ``ratings[i]`` its store rating (1-5, None without) when the source has ratings, else empty.
    """

    name: str
    ids: tuple[str, ...]
    texts: tuple[str, ...]
    labels: tuple[int, ...]
    ratings: tuple[int | None, ...] = ()

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def positives(self) -> int:
        """Number of rows labelled 1."""
        return sum(self.labels)

    def subset(self, indices: Iterable[int], *, name: str | None = None) -> LabelledTexts:
        """Return the rows at ``indices`` (in that order) as a new :class:`LabelledTexts`."""
        rows = list(indices)
        return LabelledTexts(
            name=name or self.name,
            ids=tuple(self.ids[i] for i in rows),
            texts=tuple(self.texts[i] for i in rows),
            labels=tuple(self.labels[i] for i in rows),
            ratings=tuple(self.ratings[i] for i in rows) if self.ratings else (),
        )

    def describe(self) -> dict[str, object]:
        """A JSON-friendly summary: name, row count, positive count."""
        return {"name": self.name, "n": len(self), "positives": self.positives}


def positive_matcher(positive: str | Sequence[str]) -> Callable[[str], bool]:
    """Whether a label cell names one of ``positive``: compared with spaces trimmed and case
    folded ("Feature " is ``FEATURE``), and as numbers when both are ("1.0" is ``1``, as a
    spreadsheet or pandas writes it).
    """
    wanted = [positive] if isinstance(positive, str) else list(positive)
    words = {value.strip().casefold() for value in wanted}
    numbers = {number for number in map(_number, wanted) if number is not None}

    def matches(cell: str) -> bool:
        value = cell.strip()
        if value.casefold() in words:
            return True
        number = _number(value) if numbers else None
        return number is not None and number in numbers

    return matches


def _number(value: str) -> float | None:
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


_FALSE_WORDS = frozenset({"false", "0", "no", "n", "f"})


def pair_label(cell: str) -> int | None:
    """A pair's 0/1 label from a CSV cell ("1", "1.0", "true", "yes"; "0", "no"...), None when it
    says neither.
    """
    value = cell.strip().casefold()
    number = _number(value)
    if number is not None:
        return int(number) if number in (0.0, 1.0) else None
    if value in _TRUE_WORDS:
        return 1
    return 0 if value in _FALSE_WORDS else None


def _is_true(value: str | None) -> bool:
    return (value or "").strip().casefold() in _TRUE_WORDS


def load_labelled_csv(
    path: Path | str,
    text_col: str,
    label_col: str,
    positive: str | Sequence[str],
    *,
    id_col: str | None = None,
    title_col: str | None = None,
    drop_if_true: str | None = None,
    name: str | None = None,
    rating_col: str | None = None,
    rating_optional: bool = False,
) -> LabelledTexts:
    """Load a labelled CSV as texts with 0/1 labels.

    A row is positive when its ``label_col`` value names ``positive`` or one of ``positive``
    when a sequence is given (:func:`positive_matcher`). The file is read by
    :func:`models.csv_files.read_table` (any encoding, delimiter and column-name case; a
    missing column raises :class:`models.csv_files.TableError`). When ``title_col`` is
    given and non-empty, the text is ``"<title>. <text>"``. Rows whose ``drop_if_true``
    column reads true (``true``/``1``/``yes``) are dropped, as are rows with an empty text.
    Row ids come from ``id_col``, or are the 0-based line numbers when it is ``None``. With
    ``rating_col``, each row's store rating (1-5; None when missing or out of range) is kept;
    with ``rating_optional`` a file without that column has no ratings instead of an error.
    """
    source = Path(path)
    is_positive = positive_matcher(positive)
    required = [text_col, label_col, *(c for c in (id_col, title_col, drop_if_true) if c is not None)]
    if rating_col is not None and not rating_optional:
        required.append(rating_col)
    table = read_table(source, required=required, optional=[rating_col] if rating_col is not None else [])
    if rating_col is not None and rating_col not in table.found:
        rating_col = None
    ids: list[str] = []
    texts: list[str] = []
    labels: list[int] = []
    ratings: list[int | None] = []
    dropped = 0
    for number, row in enumerate(table.rows):
        if drop_if_true is not None and _is_true(row.get(drop_if_true)):
            dropped += 1
            continue
        text = (row.get(text_col) or "").strip()
        if title_col is not None:
            title = (row.get(title_col) or "").strip()
            if title:
                text = f"{title}. {text}" if text else title
        if not text:
            dropped += 1
            continue
        ids.append(row[id_col] if id_col is not None else str(number))
        texts.append(text)
        labels.append(1 if is_positive(row.get(label_col) or "") else 0)
        if rating_col is not None:
            ratings.append(store_rating(row.get(rating_col)))
    logger.info("loaded %s: %d rows, %d positive, %d dropped", source.name, len(texts), sum(labels), dropped)
    return LabelledTexts(
        name=name or source.stem,
        ids=tuple(ids),
        texts=tuple(texts),
        labels=tuple(labels),
        ratings=tuple(ratings),
    )


def store_rating(value: str | None) -> int | None:
    """A store rating of 1-5 read from a CSV cell ("5", "4.0"), else None."""
    try:
        rating = int(float((value or "").strip()))
    except ValueError:
        return None
    return rating if 1 <= rating <= 5 else None


def load_clap(data_dir: Path | str) -> LabelledTexts:
    """CLAP Google Play reviews (2,000 rows); positive = ``category == FEATURE``."""
    return load_labelled_csv(
        Path(data_dir) / CLAP_FILE,
        "text",
        "category",
        "FEATURE",
        id_col="id",
        name="clap",
        rating_col="rating",
    )


def load_maalej(data_dir: Path | str) -> LabelledTexts:
    """Maalej et al. app reviews; positive = ``category == FR``; ``suspect_label`` rows dropped.

    The text is ``"<title>. <text>"`` when the review has a title (the title often carries
    the request, e.g. a one-line wish).
    """
    return load_labelled_csv(
        Path(data_dir) / MAALEJ_FILE,
        "text",
        "category",
        "FR",
        id_col="id_num",
        title_col="title",
        drop_if_true="suspect_label",
        name="maalej",
        rating_col="rating",
    )


def _stable_key(salt: str, row_id: str) -> str:
    return hashlib.sha256(f"{salt}:{row_id}".encode()).hexdigest()


def split_indices(
    ids: Sequence[str],
    labels: Sequence[int],
    *,
    holdout_fraction: float = HOLDOUT_FRACTION,
    salt: str = SPLIT_SALT,
) -> tuple[list[int], list[int]]:
    """Return ``(train_indices, holdout_indices)``, both sorted ascending.

    Stratified: inside each label, rows sorted by SHA-256 of ``"<salt>:<id>"``; the first
    ``round(holdout_fraction * count)`` go to the holdout.
    """
    if not 0.0 <= holdout_fraction < 1.0:
        raise ValueError("holdout_fraction must be in [0, 1)")
    holdout: list[int] = []
    for label in sorted(set(labels)):
        members = [i for i, value in enumerate(labels) if value == label]
        members.sort(key=lambda i: _stable_key(salt, ids[i]))
        holdout.extend(members[: round(holdout_fraction * len(members))])
    held = set(holdout)
    return [i for i in range(len(ids)) if i not in held], sorted(held)


def split_train_holdout(
    data: LabelledTexts,
    *,
    holdout_fraction: float = HOLDOUT_FRACTION,
    salt: str = SPLIT_SALT,
) -> tuple[LabelledTexts, LabelledTexts]:
    """Split ``data`` into ``(train, holdout)`` with :func:`split_indices` (salted by data name)."""
    train, holdout = split_indices(
        data.ids, data.labels, holdout_fraction=holdout_fraction, salt=f"{salt}:{data.name}"
    )
    return data.subset(train, name=f"{data.name}-train"), data.subset(holdout, name=f"{data.name}-holdout")


def concat(parts: Sequence[LabelledTexts], *, name: str | None = None) -> LabelledTexts:
    """Concatenate data sets; ids become ``"<part name>:<id>"`` so they stay unique."""
    return LabelledTexts(
        name=name or "+".join(p.name for p in parts),
        ids=tuple(f"{p.name}:{i}" for p in parts for i in p.ids),
        texts=tuple(t for p in parts for t in p.texts),
        labels=tuple(label for p in parts for label in p.labels),
        ratings=tuple(r for p in parts for r in (p.ratings or (None,) * len(p)))
        if any(p.ratings for p in parts)
        else (),
    )
