"""One evaluation of a candidate suggestion judge over every test split, at comment level.

A comment is a suggestion when any of its units (sentences and clauses) scores at or above the
candidate's threshold, as in the per-unit judge. Every candidate is scored on the same splits and
the same vectors:

* ``clap-holdout``, ``maalej-holdout``: the 20 % stable holdouts of :mod:`models.datasets`;
* ``tizard-test``: the fixed test split of the Tizard forum sentences (:func:`tizard_split`),
  positive = ``feature request``; a training run may only read ``tizard-train``;
* ``reviews-test``: the test split of ``models/labels/review_asks.csv``;
* ``tweets-all`` and ``tweets-random``: every labelled tweet (all test: non-commercial licence)
  and its random sample only;
* ``demo``: the demo sample's hand-written posts (never trained on), added by the caller.

:func:`evaluate` returns precision, recall and F1 per split and the mean F1 over
:data:`MEAN_SPLITS` (``tweets-random`` is a subset of ``tweets-all`` and is left out of the mean).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from models.ask_context import ask_spans
from models.datasets import LabelledTexts, load_clap, load_maalej, split_train_holdout
from models.embedding import FloatMatrix
from models.labelled import LABELS_DIR, LabelError, LabelledComment, load_labelled, parse_spans
from models.suggestions import evaluate_binary
from models.text import normalize_text
from models.units import Unit, split_units

TIZARD_FILE = Path("suggestions") / "tizard_forum_sentences.csv"
TIZARD_POSITIVE = "feature request"
TIZARD_TEST_SHARE_OF_FIVE = 2  # 40 % of the sentences, by a stable hash of the row id
MEAN_SPLITS = ("clap-holdout", "maalej-holdout", "tizard-test", "reviews-test", "tweets-all", "demo")

Span = tuple[int, int]
UnitSplitter = Callable[[str], list[tuple[int, int, str]]]
VectorLookup = Callable[[Sequence[str]], FloatMatrix]

def comment_units(text: str) -> list[tuple[int, int, str]]:
    """The units of :func:`models.units.split_units` as ``(start, end, text)``."""
    return [(unit.start, unit.end, unit.text) for unit in split_units(text)]


@dataclass(frozen=True)
class EvalSplit:
    """Comments with 0/1 labels and, where labelled, the character spans of their asks."""

    name: str
    texts: tuple[str, ...]
    labels: tuple[int, ...]
    spans: tuple[tuple[Span, ...], ...] | None = None
    ratings: tuple[int | None, ...] | None = None
    """Each comment's store rating (None without), where the source has ratings."""

    @classmethod
    def of(cls, data: LabelledTexts, name: str) -> EvalSplit:
        """A split from a :class:`LabelledTexts` (no spans)."""
        return cls(name=name, texts=data.texts, labels=data.labels, ratings=data.ratings or None)

    @classmethod
    def of_comments(cls, comments: Sequence[LabelledComment], name: str) -> EvalSplit:
        """A split from hand-labelled comments, with their ask spans."""
        return cls(
            name=name,
            texts=tuple(c.text for c in comments),
            labels=tuple(int(c.is_ask) for c in comments),
            spans=tuple(c.asks for c in comments),
            ratings=tuple(c.rating for c in comments),
        )


def tizard_split(source: str, row_id: str) -> str:
    """``test`` for about 40 % of the Tizard rows (stable hash of the row id), else ``train``."""
    bucket = int(hashlib.sha256(f"{source}:{row_id}".encode()).hexdigest()[:8], 16) % 5
    return "test" if bucket < TIZARD_TEST_SHARE_OF_FIVE else "train"


def load_tizard(data_dir: Path | str, split: str) -> LabelledTexts:
    """The Tizard sentences of one ``split`` (``train``/``test``); positive = feature request."""
    path = Path(data_dir) / TIZARD_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: put the shared data folder there")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if (row.get("text") or "").strip()]
    chosen = [row for row in rows if tizard_split(str(TIZARD_FILE), row["id"]) == split]
    return LabelledTexts(
        name=f"tizard-{split}",
        ids=tuple(f"tizard:{row['id']}" for row in chosen),
        texts=tuple(row["text"] for row in chosen),
        labels=tuple(int(row["label_norm"].strip() == TIZARD_POSITIVE) for row in chosen),
    )


def labelled_comments(data_dir: Path | str, file_name: str) -> list[LabelledComment]:
    """The hand-labelled comments of ``models/labels/<file_name>``, joined with the shared data."""
    return load_labelled(LABELS_DIR / file_name, data_dir=data_dir)


def test_splits(data_dir: Path | str) -> list[EvalSplit]:
    """Every test split named in the module docstring except ``demo`` (in the shell's reach only)."""
    reviews = labelled_comments(data_dir, "review_asks.csv")
    tweets = labelled_comments(data_dir, "twcs_asks.csv")
    return [
        EvalSplit.of(split_train_holdout(load_clap(data_dir))[1], "clap-holdout"),
        EvalSplit.of(split_train_holdout(load_maalej(data_dir))[1], "maalej-holdout"),
        EvalSplit.of(load_tizard(data_dir, "test"), "tizard-test"),
        EvalSplit.of_comments([c for c in reviews if c.split == "test"], "reviews-test"),
        EvalSplit.of_comments(tweets, "tweets-all"),
        EvalSplit.of_comments([c for c in tweets if c.sample == "random"], "tweets-random"),
    ]


class UnitCandidate(Protocol):
    """A judge under test: scores texts (units or whole comments) from text and embedding."""

    @property
    def threshold(self) -> float:
        """A comment is a suggestion when its best unit scores at or above this."""
        ...

    def predict_proba(self, texts: Sequence[str], vectors: FloatMatrix) -> npt.NDArray[np.float64]:
        """Scores, shape ``(n,)``."""
        ...


class UnitGate(Protocol):
    """A first stage: text-only scores; units below ``threshold`` are not judged."""

    @property
    def threshold(self) -> float:
        """Scores at or above this go on to the judge."""
        ...

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Scores, shape ``(n,)``."""
        ...


@dataclass(frozen=True)
class Contender:
    """A named candidate, whether it judges units (``per_unit``) or whole comments, and the first
    stage in front of it (``gate``, None for none).
    """

    name: str
    model: UnitCandidate
    per_unit: bool = True
    gate: UnitGate | None = None


@dataclass(frozen=True)
class Scored:
    """Each comment's score and how many of its texts the gate passed on to the judge."""

    scores: npt.NDArray[np.float64]
    judged: int
    texts: int


def comment_scores(
    texts: Sequence[str],
    model: UnitCandidate,
    vectors: VectorLookup,
    splitter: UnitSplitter | None,
    gate: UnitGate | None = None,
    ratings: Sequence[int | None] | None = None,
) -> Scored:
    """Each comment's score: its best unit's (``splitter`` given) or the whole text's; a text the
    ``gate`` rejects scores 0 and is neither embedded nor judged. A gate that reads ratings
    (``reads_ratings``, as the judge's non-ask rules do) gets each unit's comment rating.
    """
    owners: list[int] = []
    units: list[str] = []
    for index, text in enumerate(texts):
        for piece in [text] if splitter is None else [unit for _, _, unit in splitter(text)]:
            owners.append(index)
            units.append(piece)
    passed = np.ones(len(units), dtype=np.bool_)
    if gate is not None and units:
        if ratings is not None and getattr(gate, "reads_ratings", False):
            gate_scores = gate.predict_proba(units, [ratings[owner] for owner in owners])  # type: ignore[call-arg]
        else:
            gate_scores = gate.predict_proba(units)
        passed = np.asarray(gate_scores >= gate.threshold, dtype=np.bool_)
    best = np.zeros(len(texts), dtype=np.float64)
    judged = [unit for unit, ok in zip(units, passed, strict=True) if ok]
    if judged:
        np.maximum.at(best, np.asarray(owners)[passed], model.predict_proba(judged, vectors(judged)))
    return Scored(scores=best, judged=len(judged), texts=len(units))


def evaluate(
    contenders: Sequence[Contender],
    splits: Sequence[EvalSplit],
    *,
    vectors: VectorLookup,
    splitter: UnitSplitter = comment_units,
) -> dict[str, Any]:
    """``{contender: {split: evaluate_binary figures, ..., "mean_f1": float}}`` for every pair;
    with a gate, each split's figures also hold ``judged_share`` (units the gate passed on). Each
    comment is judged as ingest stores it (HTML references read, whitespace folded).
    """
    report: dict[str, Any] = {}
    # each comment as ingest stores it (models.text.normalize_text), as the worker judges it
    stored = {split.name: [normalize_text(text) for text in split.texts] for split in splits}
    for contender in contenders:
        row: dict[str, Any] = {}
        for split in splits:
            scored = comment_scores(
                stored[split.name],
                contender.model,
                vectors,
                splitter if contender.per_unit else None,
                contender.gate,
                split.ratings,
            )
            row[split.name] = evaluate_binary(
                list(scored.scores >= contender.model.threshold), [bool(label) for label in split.labels]
            )
            if contender.gate is not None:
                row[split.name]["judged_share"] = round(scored.judged / max(scored.texts, 1), 4)
        in_mean = [row[name]["f1"] for name in MEAN_SPLITS if name in row]
        row["mean_f1"] = round(float(np.mean(in_mean)), 4) if in_mean else 0.0
        report[contender.name] = row
    return report


def format_table(report: dict[str, Any]) -> str:
    """A plain-text table: one row per contender, ``P/R/F1`` per split, then the mean F1."""
    names = [name for name in next(iter(report.values())) if name != "mean_f1"] if report else []
    width = max((len(c) for c in report), default=10) + 2
    lines = [f"{'candidate':{width}}" + "".join(f"{n:>22}" for n in names) + f"{'mean F1':>9}"]
    for contender, row in report.items():
        cells = "".join(
            f"{row[n]['precision']:.2f}/{row[n]['recall']:.2f}/{row[n]['f1']:.2f}".rjust(22) for n in names
        )
        lines.append(f"{contender:{width}}{cells}{row['mean_f1']:>9.3f}")
    return "\n".join(lines)


def extracted_asks(
    texts: Sequence[str],
    model: UnitCandidate,
    vectors: VectorLookup,
    splitter: UnitSplitter,
    gate: UnitGate | None = None,
) -> list[list[Span]]:
    """Per comment, the spans of the units scoring at or above the model's threshold (units the
    ``gate`` rejects are not judged, but stay units of their comment), as
    :class:`models.judge.SuggestionJudge` extracts them (:func:`models.ask_context.ask_spans`).
    """
    located = [
        (index, start, end, unit) for index, text in enumerate(texts) for start, end, unit in splitter(text)
    ]
    asks: list[list[Span]] = [[] for _ in texts]
    if not located:
        return asks
    every = [unit for *_, unit in located]
    passed = [True] * len(every)
    if gate is not None:
        passed = [bool(ok) for ok in gate.predict_proba(every) >= gate.threshold]
    units = [unit for unit, ok in zip(every, passed, strict=True) if ok]
    if not units:
        return asks
    scored = iter(model.predict_proba(units, vectors(units)))
    judged: dict[int, list[tuple[Unit, bool]]] = {}
    for (index, start, end, unit), ok in zip(located, passed, strict=True):
        asked = ok and bool(next(scored) >= model.threshold)
        judged.setdefault(index, []).append((Unit(start, end, unit), asked))
    for index, pairs in judged.items():
        found = ask_spans(texts[index], [unit for unit, _ in pairs], [asked for _, asked in pairs])
        asks[index] = [(start, end) for start, end, _ in found]
    return asks


def _overlaps(span: Span, others: Sequence[Span]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


def span_overlap(found: Sequence[Sequence[Span]], gold: Sequence[Sequence[Span]]) -> dict[str, Any]:
    """Per comment, extracted spans ``found`` against labelled spans ``gold`` (same texts):
    ``span_precision``, the share of extracted asks that overlap some labelled ask of their
    comment; ``span_recall``, the share of labelled asks overlapped by some extracted ask;
    ``span_f1``.
    """
    pairs = list(zip(found, gold, strict=True))
    hits = sum(_overlaps(span, labelled) for spans, labelled in pairs for span in spans)
    covered = sum(_overlaps(span, spans) for spans, labelled in pairs for span in labelled)
    extracted = sum(len(spans) for spans in found)
    labelled_total = sum(len(labelled) for labelled in gold)
    precision = hits / extracted if extracted else 0.0
    recall = covered / labelled_total if labelled_total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "extracted_asks": extracted,
        "labelled_asks": labelled_total,
        "span_precision": round(precision, 4),
        "span_recall": round(recall, 4),
        "span_f1": round(f1, 4),
    }


def labelled_ask_texts(cell: str, raw_text: str) -> list[str]:
    """The asks a labelled file's ask cell names for a comment whose text is ``raw_text``: character
    spans of the text as this project's labels write them (``"12-40;51-70"``, end exclusive), a
    JSON list of the asks' words, or the asks' words, one ask a line; an empty cell names none.
    """
    value = cell.strip()
    if not value:
        return []
    try:
        spans = parse_spans(value)
    except LabelError:
        spans = ()
    if spans:
        return [raw_text[start:end] for start, end in spans if 0 <= start < end <= len(raw_text)]
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return [str(item).strip() for item in parsed if str(item).strip()]
    return [line.strip() for line in value.splitlines() if line.strip()]


def locate_ask(ask: str, text: str) -> Span | None:
    """Where ``ask`` (as ingest stores text: :func:`models.text.normalize_text`) is in ``text``, a
    comment as ingest stores it: case and runs of spaces aside; None when it is not there.
    """
    words = normalize_text(ask).split()
    if not words:
        return None
    found = re.search(r"\s+".join(re.escape(word) for word in words), text, re.IGNORECASE)
    return (found.start(), found.end()) if found else None


def ask_overlap(
    split: EvalSplit,
    model: UnitCandidate,
    *,
    vectors: VectorLookup,
    splitter: UnitSplitter = comment_units,
    gate: UnitGate | None = None,
) -> dict[str, Any]:
    """How often an extracted ask overlaps a labelled ask, over a split with spans.

    ``span_precision``: share of extracted asks that overlap some labelled ask of their comment;
    ``span_recall``: share of labelled asks overlapped by some extracted ask; ``span_f1``.
    """
    if split.spans is None:
        raise ValueError(f"{split.name} has no labelled ask spans")
    found = extracted_asks(split.texts, model, vectors, splitter, gate)
    return span_overlap(found, split.spans)


def file_ask_overlap(
    raw_texts: Sequence[str],
    cells: Sequence[str],
    stored_texts: Sequence[str],
    found: Sequence[Sequence[Span]],
) -> dict[str, Any]:
    """:func:`span_overlap` for a labelled file: each comment's labelled asks (its ask cell read by
    :func:`labelled_ask_texts` against its raw text) located in the comment as ingest stores it
    (:func:`locate_ask`), where the judge's asks ``found`` are. ``unlocated_asks`` counts the
    labelled asks whose words are not in their comment (left out of the figures).
    """
    gold: list[list[Span]] = []
    unlocated = 0
    for raw, cell, stored in zip(raw_texts, cells, stored_texts, strict=True):
        spans = []
        for ask in labelled_ask_texts(cell, raw):
            span = locate_ask(ask, stored)
            if span is None:
                unlocated += 1
            else:
                spans.append(span)
        gold.append(spans)
    return {**span_overlap(found, gold), "unlocated_asks": unlocated}
