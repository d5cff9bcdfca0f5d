"""Theme engine settings side by side on both intent sets, means over 5 shuffled orders.

Every setting of :class:`models.themes.config.ThemeConfig` is chosen on BOTH banking77 test and
hwu64 test (never one file); this prints, for each variant given as JSON (``{}`` = the
defaults), the mean V-measure, ARI, share of rows left alone, theme count and id stability over
seeds 0-4, on the pipeline's own vectors (the shipped encoder), from ``../shared/data/themes``.

Run: .venv/bin/python benchmarks/themes_sweep.py '{}' '{"reassign_threshold": 0.40}'
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import logging
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contracts.settings import Settings
from models.factories import embedder
from models.themes.config import ThemeConfig
from models.themes.evaluate import evaluate_themes, shuffled

THEMES = ROOT.parent / "shared" / "data" / "themes"
SEEDS = range(5)


def load(path: Path, split: str | None = None) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if split is None or row.get("split") == split]
    return [row["text"] for row in rows], [row["label"] for row in rows]


def variants_and_sets() -> tuple[list[str], dict[str, tuple[list[str], list[str]]], dict[str, np.ndarray]]:
    """The command line's variants, and banking77 test and hwu64 test with their vectors."""
    parser = argparse.ArgumentParser()
    parser.add_argument("variants", nargs="*", default=["{}"], help="ThemeConfig overrides, as JSON objects.")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    sets = {
        "banking77 test": load(THEMES / "banking77_test.csv"),
        "hwu64 test": load(THEMES / "hwu64.csv", split="test"),
    }
    model = embedder(Settings())
    vectors = {name: model.embed(texts).astype(np.float32) for name, (texts, _) in sets.items()}
    return list(args.variants), sets, vectors


def main() -> None:
    variants, sets, vectors = variants_and_sets()
    print("| variant | " + " | ".join(f"{name}: V / ARI / alone / themes / id stability / strays" for name in sets)
          + " |")
    print("| --- | " + " | ".join("---" for _ in sets) + " |")
    for variant in variants:
        config = dataclasses.replace(ThemeConfig(), **json.loads(variant))
        cells = []
        for name, (texts, labels) in sets.items():
            runs = []
            for seed in SEEDS:
                order = shuffled(len(texts), seed)
                result = evaluate_themes(texts=[texts[i] for i in order], labels=[labels[i] for i in order],
                                         vectors=vectors[name][order], config=config)
                runs.append((result["v_measure"], result["ari"], result["outlier_rate"], result["themes"],
                             result["id_stability"], result["stray_rate"]))
            v, ari, alone, themes, stability, strays = np.mean(runs, axis=0)
            cells.append(f"{v:.3f} / {ari:.3f} / {alone:.1%} / {themes:.0f} / {stability:.3f} / {strays:.1%}")
        print(f"| `{variant}` | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
