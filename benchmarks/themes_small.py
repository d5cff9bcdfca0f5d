"""Small products: theme engine settings side by side on subsets of the intent sets shaped like
a small product's asks (about 120 asks of 15 to 40 ideas, most ideas asked a few times).

A product with a few hundred comments re-clusters a hundred-odd asks; most of its ideas are
asked two to ten times. This draws such subsets from ``../shared/data/themes`` (banking77 test,
hwu64 test): for each shape ``ideas x rows`` (``ideas`` intents drawn at random, each with a
random number of its rows in the given range) and each seed, the rows arrive in shuffled order
through the online path and the idle re-cluster (:func:`models.themes.evaluate.evaluate_themes`,
rows left alone scored as singletons), and prints mean V-measure, ARI, share of rows alone,
theme count and strays (the share of the rows in a theme that are not of its most frequent
intent: asks a closure of that theme would thank for something else) per variant, on the
pipeline's own vectors (the shipped encoder). Every variant is scored on the same subsets and
vectors in the same run.

The last column is a small product written like real posts: the demo sample's asks (the shipped
judge's asks of the bundled sample's posts, placed as the worker places them), each labelled with
the idea its post was written for (``youasked.demo.build_sample``: a post of one person's idea,
or of no idea the judge took for an ask, is an idea of its own), in 5 shuffled orders. The intent
subsets' queries share no product vocabulary; these asks do (a hiking app's words), and a setting
can help the one and hurt the other (``docs/benchmarks.md``, "Complete linkage on centred vectors").
A post written for one idea that also asks for another labels both asks with its idea.

The columns after it are real reviews of a small product grouped by hand: the asks a replay of
``../shared/data/streams/<product>_reviews.csv`` found, each labelled with the idea it asks for
(``benchmarks/labels/themes-<product>.csv``: comment id, the ask's span in the text as ingest
stores it, idea; ``-`` for an ask of an idea no other ask shares, or that names nothing; no text,
see ``docs/labelling.md``), placed as the worker places them, in date order and in 5 shuffled
orders. Besides the cells' figures they print the share of the asks of a shared idea left alone
("grouped alone") and of the asks of no shared idea put in a theme ("lone placed").

Run: .venv/bin/python benchmarks/themes_small.py '{"small_clustering": "hdbscan", "emerging_threshold": 0.75}' '{}'
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.themes_sweep import variants_and_sets
from models.themes.config import ThemeConfig
from models.themes.evaluate import evaluate_themes

LABELS = ROOT / "benchmarks" / "labels"
STREAMS = ROOT.parent / "shared" / "data" / "streams"
REVIEW_PRODUCTS = ("github", "testflight")
"""Products whose replayed asks are grouped by hand in ``benchmarks/labels/themes-<product>.csv``."""
ALONE_IDEA = "-"
SHAPES = ((25, 1, 8), (40, 1, 5), (15, 4, 12))
"""(ideas, fewest rows, most rows) of each idea: many ideas asked once or twice, or fewer asked more."""
SEEDS = range(8)
DEMO_ORDERS = range(5)
"""Shuffled orders of the demo sample's asks."""


def subset(labels: list[str], ideas: int, fewest: int, most: int, seed: int) -> list[int]:
    """Row indices of ``ideas`` random intents with ``fewest..most`` random rows each, shuffled."""
    rng = np.random.default_rng(seed)
    intents = sorted(set(labels))
    rows: list[int] = []
    for j in rng.choice(len(intents), ideas, replace=False):
        of_intent = [i for i, label in enumerate(labels) if label == intents[j]]
        count = min(int(rng.integers(fewest, most + 1)), len(of_intent))
        rows.extend(int(i) for i in rng.choice(of_intent, count, replace=False))
    rng.shuffle(rows)
    return rows


def demo_asks() -> tuple[list[str], list[str], np.ndarray]:
    """The demo sample's asks as the worker judges and places them: their texts, the idea of the post
    each came from (see the module), and their placement vectors."""
    from contracts.settings import Settings
    from models.ask_context import placement_text
    from models.factories import embedder, suggestion_judge
    from models.judge import JudgeInput
    from models.units import Unit, split_units
    from youasked.demo import build_sample

    settings = Settings()
    records = build_sample.build_records(random.Random(build_sample.SEED))
    inputs = [
        JudgeInput(rec.spec.text, f"{rec.platform}:{rec.author_id}", rec.created_at, "trailmate", rec.rating)
        for rec in records
    ]
    judge = suggestion_judge(settings)
    texts: list[str] = []
    labels: list[str] = []
    placed: list[str] = []
    for start in range(0, len(inputs), 128):
        _, judgements, _ = judge.judge(inputs[start : start + 128], None)
        for offset, judgement in enumerate(judgements):
            spec = records[start + offset].spec
            idea = spec.theme if spec.category == "suggestion" and spec.theme != "one_off" else None
            units = split_units(spec.text)
            for ask in judgement.asks:
                texts.append(ask.text)
                labels.append(idea or f"own-{start + offset}")
                placed.append(placement_text(Unit(ask.start, ask.end, ask.text), units, product="trailmate"))
    return texts, labels, embedder(settings).embed(placed).astype(np.float32)


def review_asks(product: str) -> tuple[list[str], list[str], np.ndarray]:
    """The hand-grouped asks of ``product``'s reviews in date order: their texts, ideas (an ask of
    no shared idea gets one of its own) and placement vectors (as the worker places them)."""
    import csv

    from contracts.settings import Settings
    from models.ask_context import placement_text
    from models.factories import embedder
    from models.text import normalize_text
    from models.units import Unit, split_units
    from youasked.replay import read_records

    path = LABELS / f"themes-{product}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    stream = STREAMS / f"{product}_reviews.csv"
    if not stream.exists():
        raise SystemExit(f"{stream} is missing: the labels in {path} hold ids and spans, not texts")
    comments: dict[str, tuple[str, str]] = {}
    for _, value in read_records(stream):
        record = json.loads(value)
        comments[str(record["comment_id"])] = (normalize_text(str(record.get("text") or "")),
                                               str(record.get("created_at") or ""))
    asks: dict[str, list[Unit]] = {}  # each labelled comment's asks, in the order of its text
    for row in sorted(rows, key=lambda row: int(row["ask_start"])):
        text = comments[row["comment_id"]][0]
        start, end = int(row["ask_start"]), int(row["ask_end"])
        asks.setdefault(row["comment_id"], []).append(Unit(start, end, text[start:end]))
    units = {comment: split_units(comments[comment][0]) for comment in asks}
    rows.sort(key=lambda row: (comments[row["comment_id"]][1], row["comment_id"], int(row["ask_start"])))
    texts, labels, placed = [], [], []
    for index, row in enumerate(rows):
        own = asks[row["comment_id"]]
        ask = next(unit for unit in own if unit.start == int(row["ask_start"]))
        texts.append(ask.text)
        labels.append(row["idea"] if row["idea"] != ALONE_IDEA else f"own-{index}")
        placed.append(placement_text(ask, units[row["comment_id"]], product=product, asks=own))
    return texts, labels, embedder(Settings()).embed(placed).astype(np.float32)


def review_cell(texts: list[str], labels: list[str], vectors: np.ndarray, config: ThemeConfig) -> str:
    """Date order, then the mean of 5 shuffled orders: V / ARI / alone / themes / strays, and the
    share of the asks of a shared idea left alone and of the others placed in a theme."""
    shared = {label for label in labels if labels.count(label) > 1}
    parts = []
    for orders in ([list(range(len(texts)))], [random.Random(seed).sample(range(len(texts)), len(texts))
                                               for seed in DEMO_ORDERS]):
        runs = []
        for order in orders:
            result = evaluate_themes(texts=[texts[i] for i in order], labels=[labels[i] for i in order],
                                     vectors=vectors[order], config=config, final_themes=True)
            final = result["final_themes"]
            grouped = [final[k] for k, i in enumerate(order) if labels[i] in shared]
            lone = [final[k] for k, i in enumerate(order) if labels[i] not in shared]
            runs.append((result["v_measure"], result["ari"], result["outlier_rate"], result["themes"],
                         result["stray_rate"], sum(t is None for t in grouped) / max(len(grouped), 1),
                         sum(t is not None for t in lone) / max(len(lone), 1)))
        v, ari, alone, themes, stray, grouped_alone, lone_placed = np.mean(np.array(runs, dtype=np.float64), axis=0)
        parts.append(f"{v:.3f} / {ari:.3f} / {alone:.1%} / {themes:.1f} / {stray:.1%} / {grouped_alone:.1%} / "
                     f"{lone_placed:.1%}")
    return " ; ".join(parts)


def main() -> None:
    variants, sets, vectors = variants_and_sets()
    demo_texts, demo_labels, demo_vectors = demo_asks()
    reviews = {product: review_asks(product) for product in REVIEW_PRODUCTS}
    names = [f"{name} {ideas}x{fewest}-{most}" for name in sets for ideas, fewest, most in SHAPES]
    names.append(f"demo asks ({len(demo_texts)}, {len(set(demo_labels))} ideas)")
    columns = [f"{n}: V / ARI / alone / themes / strays" for n in names]
    for product, (texts, labels, _) in reviews.items():
        shared = sum(1 for label in labels if labels.count(label) > 1)
        columns.append(f"{product} asks ({len(texts)}, {shared} of a shared idea), date order ; 5 shuffled: "
                       "V / ARI / alone / themes / strays / grouped alone / lone placed")
    print("| variant | " + " | ".join(columns) + " |")
    print("| --- | " + " | ".join("---" for _ in columns) + " |")
    for variant in variants:
        config = dataclasses.replace(ThemeConfig(), **json.loads(variant))
        cells = []
        for name, (texts, labels) in sets.items():
            for ideas, fewest, most in SHAPES:
                runs = []
                for seed in SEEDS:
                    rows = subset(labels, ideas, fewest, most, seed)
                    result = evaluate_themes(
                        texts=[texts[i] for i in rows],
                        labels=[labels[i] for i in rows],
                        vectors=vectors[name][rows],
                        config=config,
                    )
                    runs.append((result["v_measure"], result["ari"], result["outlier_rate"], result["themes"],
                                 result["stray_rate"]))
                v, ari, alone, themes, stray = np.mean(np.array(runs, dtype=np.float64), axis=0)
                cells.append(f"{v:.3f} / {ari:.3f} / {alone:.1%} / {themes:.1f} / {stray:.1%}")
        runs = []
        for seed in DEMO_ORDERS:
            order = list(range(len(demo_texts)))
            random.Random(seed).shuffle(order)
            result = evaluate_themes(
                texts=[demo_texts[i] for i in order],
                labels=[demo_labels[i] for i in order],
                vectors=demo_vectors[order],
                config=config,
            )
            runs.append((result["v_measure"], result["ari"], result["outlier_rate"], result["themes"],
                         result["stray_rate"]))
        v, ari, alone, themes, stray = np.mean(np.array(runs, dtype=np.float64), axis=0)
        cells.append(f"{v:.3f} / {ari:.3f} / {alone:.1%} / {themes:.1f} / {stray:.1%}")
        cells.extend(review_cell(texts, labels, vectors, config) for texts, labels, vectors in reviews.values())
        print(f"| `{variant}` | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
