"""Sample app reviews of four shared stream files for hand labelling and write the label file.

The label file holds no text (see docs/labelling.md). The labeller reads each review printed
by ``show``, writes a decision line per review into a scratch file outside the project, and
``build`` turns the decisions into ``models/labels/review_asks.csv``, finding each ask's span
with ``str.find`` and checking it. ``stats`` prints what the file holds per source file.

    python benchmarks/label_reviews.py show --sample random --start 0 --count 40
    python benchmarks/label_reviews.py build --decisions /tmp/labels/reviews.tsv
    python benchmarks/label_reviews.py stats

A review is named ``<file stem>:<row index>`` (``github_reviews:17``), the row index being the
0-based data row as read by ``csv.DictReader``. A decision line is ``name kind [ask text[ ||
ask text ...]]``, as for the tweets (``benchmarks/label_tweets.py``).
"""

from __future__ import annotations

import csv
import random
import sys
from collections import Counter
from pathlib import Path

from label_stats import units
from label_tweets import ASK_CUES, command_parser, label_row, read_decisions, write_label_file

from models.labelled import LABELS_DIR, LabelledComment, load_labelled

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT.parent / "shared" / "data"
OUTPUT = LABELS_DIR / "review_asks.csv"
SOURCES = (
    "streams/microsoft_teams_reviews.csv",
    "streams/google_chrome_reviews.csv",
    "streams/testflight_reviews.csv",
    "streams/github_reviews.csv",
)
SEED = 20261201
RANDOM_PER_SOURCE = 88
ENRICHED_PER_SOURCE = 64
SECOND_TIER_PER_SOURCE = 48

Reviews = dict[str, dict[str, str]]


def review_name(source: str, row_key: str) -> str:
    """``streams/github_reviews.csv`` row 17 is ``github_reviews:17``."""
    return f"{Path(source).stem}:{row_key}"


def read_reviews(data_dir: Path) -> Reviews:
    """Each source's reviews with content, by 0-based data row index, in file order."""
    reviews: Reviews = {}
    for source in SOURCES:
        path = data_dir / source
        if not path.is_file():
            sys.exit(f"{path} is missing: the reviews are read from the shared data folder")
        with path.open(newline="", encoding="utf-8") as handle:
            rows = enumerate(csv.DictReader(handle))
            reviews[source] = {
                str(index): row["content"] for index, row in rows if (row["content"] or "").strip()
            }
    return reviews


def draw_samples(reviews: Reviews) -> dict[str, list[tuple[str, str]]]:
    """The fixed samples as ``(source, row_key)`` pairs in labelling order, the four files taken
    in turn: ``random`` (uniform over each file's reviews) and ``enriched``: first uniform over
    each file's other reviews that match the tweets' first cue words (:data:`ASK_CUES`), then a
    second tier, drawn after the first was labelled, uniform over the matching reviews still not drawn."""
    random_lists, first_tier, second_tier = [], [], []
    for number, source in enumerate(SOURCES):
        keys = list(reviews[source])
        chosen = random.Random(SEED + number).sample(keys, min(RANDOM_PER_SOURCE, len(keys)))
        taken = set(chosen)
        pool = [key for key in keys if key not in taken and ASK_CUES.search(reviews[source][key])]
        enriched = random.Random(SEED + 100 + number).sample(pool, min(ENRICHED_PER_SOURCE, len(pool)))
        taken.update(enriched)
        rest = [key for key in pool if key not in taken]
        second = random.Random(SEED + 200 + number).sample(rest, min(SECOND_TIER_PER_SOURCE, len(rest)))
        random_lists.append([(source, key) for key in chosen])
        first_tier.append([(source, key) for key in enriched])
        second_tier.append([(source, key) for key in second])
    return {
        "random": _interleave(random_lists),
        "enriched": _interleave(first_tier) + _interleave(second_tier),
    }


def _interleave(lists: list[list[tuple[str, str]]]) -> list[tuple[str, str]]:
    longest = max(len(items) for items in lists)
    return [items[index] for index in range(longest) for items in lists if index < len(items)]


def show(reviews: Reviews, pairs: list[tuple[str, str]]) -> None:
    for source, key in pairs:
        print(f"=== {review_name(source, key)}\n{reviews[source][key]}")


def build(reviews: Reviews, decisions: dict[str, tuple[str, list[str]]], out: Path) -> None:
    samples = draw_samples(reviews)
    unknown = set(decisions) - {review_name(*pair) for pairs in samples.values() for pair in pairs}
    if unknown:
        sys.exit(f"decided reviews outside the samples: {sorted(unknown)[:10]}")
    rows = []
    for sample, pairs in samples.items():
        for source, key in pairs:
            name = review_name(source, key)
            if name in decisions:
                kind, asks = decisions[name]
                text = reviews[source][key]
                rows.append(
                    label_row(
                        source=source, key=key, text=text, sample=sample, kind=kind, asks=asks, name=name
                    )
                )
    write_label_file(rows, out)


def _describe(title: str, comments: list[LabelledComment]) -> None:
    asks = [comment for comment in comments if comment.is_ask]
    kinds = Counter(comment.kind for comment in comments)
    print(
        f"{title}: reviews {len(comments)}, asks {len(asks)} ({len(asks) / max(len(comments), 1):.1%}), "
        f"ask spans {sum(len(c.asks) for c in comments)}, reviews with 2+ asks "
        f"{sum(len(c.asks) >= 2 for c in comments)}, units {sum(len(units(c.text)) for c in comments)}, "
        f"units in ask reviews {sum(len(units(c.text)) for c in asks)}"
    )
    print(f"    splits {dict(Counter(c.split for c in comments))}; kinds {dict(kinds.most_common())}")


def stats(path: Path, data_dir: Path) -> None:
    """Print the label file's counts by source file, sample and split (units: simple sentence split)."""
    comments = load_labelled(path, data_dir=data_dir)
    _describe("all", comments)
    for sample in ("random", "enriched"):
        _describe(f"sample {sample}", [c for c in comments if c.sample == sample])
    for split in ("train", "test"):
        _describe(f"split {split}", [c for c in comments if c.split == split])
    for source in SOURCES:
        _describe(source, [c for c in comments if c.source == source])
        for sample in ("random", "enriched"):
            _describe(f"  {sample}", [c for c in comments if c.source == source and c.sample == sample])


def main() -> None:
    parser, commands = command_parser(__doc__, data_dir=DATA_DIR, out=OUTPUT, items="reviews")
    stats_parser = commands.add_parser("stats", help="print what the label file holds")
    stats_parser.add_argument("--labels", type=Path, default=OUTPUT)
    args = parser.parse_args()
    if args.command == "stats":
        stats(args.labels, args.data_dir)
        return
    reviews = read_reviews(args.data_dir)
    if args.command == "show":
        show(reviews, draw_samples(reviews)[args.sample][args.start : args.start + args.count])
    else:
        build(reviews, read_decisions(args.decisions), args.out)


if __name__ == "__main__":
    main()
