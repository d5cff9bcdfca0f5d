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


def main() -> None:
    variants, sets, vectors = variants_and_sets()
    demo_texts, demo_labels, demo_vectors = demo_asks()
    names = [f"{name} {ideas}x{fewest}-{most}" for name in sets for ideas, fewest, most in SHAPES]
    names.append(f"demo asks ({len(demo_texts)}, {len(set(demo_labels))} ideas)")
    print("| variant | " + " | ".join(f"{n}: V / ARI / alone / themes / strays" for n in names) + " |")
    print("| --- | " + " | ".join("---" for _ in names) + " |")
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
        print(f"| `{variant}` | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
