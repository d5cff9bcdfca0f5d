"""How often two themes listed as "may be one idea" (``GET /themes/pairs``) are one idea, on the
intent sets, where the answer is known: a pair is one idea when its two themes' most frequent
intents are the same (an intent the stream split in two).

For banking77 test and hwu64 test, seeds 0-4 (shuffled orders, as ``themes_sweep.py``), the rows
stream through the engine with the defaults (:func:`models.themes.evaluate.evaluate_themes`), each
final theme's centre is the unit mean of its rows' vectors (as the API computes it from its
members), and :func:`models.themes.pairs.close_pairs` lists the pairs, by two rules: the centres
at the review floor alone (ranked by their cosine), and with the members mutual neighbours too
(the shipped rule, ranked by that share). Prints, per set and rule (means over the seeds): the
themes, the theme pairs that are one idea (over-splits), the pairs listed, the share of them that
are one idea (all listed, and the first 10, what the dashboard shows first), and the share of the
over-splits the list holds; and, by band of the mutual neighbours' share, the pairs and the share
that are one idea.

Run: nice -n 10 .venv/bin/python benchmarks/theme_pairs.py
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.themes_sweep import SEEDS, variants_and_sets
from models.themes.config import ThemeConfig
from models.themes.evaluate import evaluate_themes, shuffled
from models.themes.pairs import MUTUAL, REVIEW_FLOOR, close_pairs

BANDS = ((0.0, 0.2), (0.2, 0.4), (0.4, 0.5), (0.5, 0.6), (0.6, 0.8), (0.8, 1.01))
SHOWN = 10


def main() -> None:
    _, sets, vectors = variants_and_sets()
    print(f"| set | rule | themes | pairs of one idea (over-splits) | listed | one idea, all listed "
          f"| one idea, first {SHOWN} | over-splits listed |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    bands: dict[str, list[Counter[str]]] = {}
    for name, (texts, labels) in sets.items():
        runs: dict[str, list[tuple[float, ...]]] = {"centres only": [], "centres and mutual neighbours": []}
        bands[name] = [Counter() for _ in BANDS]
        for seed in SEEDS:
            order = shuffled(len(texts), seed)
            rows = vectors[name][order]
            gold = [labels[i] for i in order]
            result = evaluate_themes(texts=[texts[i] for i in order], labels=gold, vectors=rows,
                                     config=ThemeConfig(), final_themes=True)
            final = result["final_themes"]
            themed = [i for i, theme in enumerate(final) if theme is not None]
            member_themes = [str(final[i]) for i in themed]
            counts = Counter(member_themes)
            intent = {tid: Counter(gold[i] for i in themed if str(final[i]) == tid).most_common(1)[0][0]
                      for tid in counts}
            sizes = {tid: (n, n) for tid, n in counts.items()}
            by_intent = Counter(intent.values())
            splits = sum(n * (n - 1) // 2 for n in by_intent.values())
            everything = close_pairs(member_themes, rows[themed], sizes=sizes, mutual=0.0, limit=1_000_000)
            rules = {
                "centres only": sorted(everything, key=lambda p: -p.similarity),
                "centres and mutual neighbours": [p for p in everything if p.mutual >= MUTUAL],
            }
            for rule, pairs in rules.items():
                one = [intent[p.into] == intent[p.other] for p in pairs]
                runs[rule].append((len(counts), splits, len(pairs), np.mean(one) if one else 0.0,
                                   np.mean(one[:SHOWN]) if one else 0.0, sum(one) / splits if splits else 0.0))
            for pair in everything:
                for k, (low, high) in enumerate(BANDS):
                    if low <= pair.mutual < high:
                        bands[name][k]["listed"] += 1
                        bands[name][k]["one"] += int(intent[pair.into] == intent[pair.other])
        for rule, numbers in runs.items():
            themes, splits, listed, precision, top, recall = np.mean(numbers, axis=0)
            print(f"| {name} | {rule} | {themes:.0f} | {splits:.1f} | {listed:.1f} | {precision:.0%} | {top:.0%} "
                  f"| {recall:.0%} |", flush=True)
    print()
    print(f"Pairs with centres at {REVIEW_FLOOR:.2f} or more, by the mutual neighbours' share (listed per order / "
          "one idea):")
    print()
    print("| set | " + " | ".join(f"{low:.1f}-{min(high, 1.0):.1f}" for low, high in BANDS) + " |")
    print("| --- | " + " | ".join("---" for _ in BANDS) + " |")
    for name, counts_by_band in bands.items():
        cells = [f"{c['listed'] / len(SEEDS):.1f} / {c['one'] / c['listed']:.0%}" if c["listed"] else "0 / -"
                 for c in counts_by_band]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
