"""The text steps on texts built to make patterns backtrack, beside real reviews of the same length.

Usage (from the project root)::

    nice -n 10 .venv/bin/python benchmarks/hostile_text.py
    nice -n 10 .venv/bin/python benchmarks/hostile_text.py --lengths 2500 10000 --no-judge

For each length (characters after normalization; 10,000 is the ingest limit) every run of the
catalogue of ``tests/unit/test_hostile_text.py`` is repeated to that length, before an ask, after
one and before words no rule matches, and read by each step a comment goes through: normalization (its raw form: whitespace runs
25 times longer, as a message under the byte limit may hold), the cut of appended replies and
signatures, the splitter, moderation, the word rules in front of the judge (explicit asks,
non-asks, the previous-version rule, per unit), the placement of each ask, theme titles over the
units, and the whole judge with its model (``--no-judge`` skips it). It prints, per step, the
slowest hostile text's seconds, which run it was, and the seconds of real reviews of the same
length (Teams reviews of ``../shared/data/streams`` joined; the baseline), so a step that reads
a hostile text in time linear in its length shows the same growth as the baseline from one
length to the next, and a backtracking pattern shows as a ratio that grows with the length.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models.moderation import moderate
from models.text import authored_cut, normalize_text
from models.units import split_units
from tests.unit.test_hostile_text import ASK, PIECES, hostile_forms, placements, read_by_rules, title_of

Step = Callable[[str, str], None]
"""One step: reads a normalized text (and its raw form) and returns nothing."""


def _steps(with_judge: bool) -> dict[str, Step]:
    steps: dict[str, Step] = {
        "normalize (raw)": lambda _text, raw: normalize_text(raw) and None,
        "reply and signature cut": lambda text, _raw: authored_cut(text) and None,
        "splitter": lambda text, _raw: split_units(text) and None,
        "moderation": lambda text, _raw: moderate(text) and None,
        "word rules": lambda text, _raw: read_by_rules(text),
        "placement": lambda text, _raw: placements(text) and None,
        "titles": lambda text, _raw: title_of(text) and None,
    }
    if with_judge:
        from contracts.settings import Settings
        from models.factories import suggestion_judge
        from models.judge import JudgeInput

        judge = suggestion_judge(Settings())
        now = datetime.now(UTC)
        judge.judge([JudgeInput(text=ASK, author_key="warm-up", created_at=now)], None)
        steps["judge (with its model)"] = lambda text, _raw: judge.judge(
            [JudgeInput(text=text, author_key="x", created_at=now)], None
        ) and None
    return steps


def _raw(run: str) -> str:
    """The raw form of a hostile text: each whitespace character 25 times (normalization folds them)."""
    return "".join(char * 25 if char.isspace() else char for char in run)


def _texts(length: int) -> list[tuple[str, str, str]]:
    out = []
    for piece in PIECES:
        run = (piece * (length // len(piece) + 1))[:length]
        for raw in hostile_forms(run):
            out.append((piece, normalize_text(raw), _raw(raw)))
    return out


def _reviews(data: Path, length: int) -> str:
    path = data / "streams" / "microsoft_teams_reviews.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        texts = [row["content"] for row in csv.DictReader(handle) if row.get("content")]
    joined, at = [], 0
    while sum(map(len, joined)) < length:
        joined.append(texts[at % len(texts)])
        at += 1
    return normalize_text("\n".join(joined))[:length]


def _seconds(step: Step, text: str, raw: str) -> float:
    started = time.perf_counter()
    step(text, raw)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--lengths", type=int, nargs="+", default=[2_500, 10_000])
    parser.add_argument("--no-judge", action="store_true")
    args = parser.parse_args()
    steps = _steps(not args.no_judge)
    print(f"{len(PIECES)} hostile runs, each in 3 texts; baseline: Teams reviews joined")
    print("| step | length | slowest hostile text: s (run) | real reviews: s | hostile / reviews |")
    print("| --- | --- | --- | --- | --- |")
    for name, step in steps.items():
        for length in args.lengths:
            review = _reviews(args.data, length)
            baseline = min(_seconds(step, review, review) for _ in range(3))
            worst, which = 0.0, ""
            for piece, text, raw in _texts(length):
                seconds = _seconds(step, text, raw)
                if seconds > worst:
                    worst, which = seconds, piece
            ratio = worst / baseline if baseline > 0 else float("inf")
            print(f"| {name} | {length:,} | {worst:.4f} ({which!r}) | {baseline:.4f} | {ratio:.1f} |", flush=True)


if __name__ == "__main__":
    main()
