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

Run: .venv/bin/python benchmarks/themes_small.py '{"small_clustering": "hdbscan", "emerging_threshold": 0.75}' '{}'
"""

from __future__ import annotations

import dataclasses
import json
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


def main() -> None:
    variants, sets, vectors = variants_and_sets()
    names = [f"{name} {ideas}x{fewest}-{most}" for name in sets for ideas, fewest, most in SHAPES]
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
        print(f"| `{variant}` | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
