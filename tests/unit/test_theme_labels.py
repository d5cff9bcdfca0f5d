"""The hand-grouped asks of real reviews (``benchmarks/labels/themes-<product>.csv``) hold ids, spans
and ideas only, and still point at words: each span, read in the review's text as ingest stores
it, is a run of words that starts and ends on one."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from models.text import normalize_text
from youasked.replay import read_records

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "benchmarks" / "labels"
STREAMS = ROOT / ".." / "shared" / "data" / "streams"
FILES = sorted(LABELS.glob("themes-*.csv"))


def test_there_are_files_of_two_products() -> None:
    assert {path.stem for path in FILES} >= {"themes-github", "themes-testflight"}


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_rows_are_ids_spans_and_ideas_without_text(path: Path) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["comment_id", "ask_start", "ask_end", "idea"]
        rows = list(reader)
    assert rows
    keys = [(row["comment_id"], int(row["ask_start"])) for row in rows]
    assert len(set(keys)) == len(keys)
    for row in rows:
        assert 0 <= int(row["ask_start"]) < int(row["ask_end"])
        assert row["idea"] == "-" or (row["idea"] and len(row["idea"]) <= 40 and " " not in row["idea"])
    ideas = [row["idea"] for row in rows if row["idea"] != "-"]
    assert all(ideas.count(idea) >= 2 for idea in ideas)  # an idea of one ask is written "-"


@pytest.mark.skipif(not STREAMS.is_dir(), reason="the shared data folder is not here")
@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_spans_are_words_of_the_stored_texts(path: Path) -> None:
    product = path.stem.removeprefix("themes-")
    texts = {}
    for _, value in read_records(STREAMS / f"{product}_reviews.csv"):
        record = json.loads(value)
        texts[str(record["comment_id"])] = normalize_text(str(record.get("text") or ""))
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        text = texts[row["comment_id"]]
        start, end = int(row["ask_start"]), int(row["ask_end"])
        ask = text[start:end]
        assert end <= len(text) and ask.strip() == ask and any(c.isalnum() for c in ask), (path.name, row)
        assert start == 0 or not text[start - 1].isalnum(), (path.name, row)  # not inside a word
        assert end == len(text) or not (text[end - 1].isalnum() and text[end].isalnum()), (path.name, row)
