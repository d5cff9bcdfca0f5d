"""Theme titles: what they read like on labelled texts, and what they cost.

With ``--input``: groups the rows of a labelled CSV by their gold label (one group = one theme,
at most ``--members`` rows each, as a theme's sample holds), embeds them with the project's
embedder, picks every group's title at once (as a re-cluster does for a product's themes) and
prints ``label -> title`` with the group's first members, for a person to judge.

Without ``--input``: times title picking on synthetic themes (``--themes`` themes of
``--members`` texts of random words around a per-theme phrase, the scale benchmark's texts).

Usage (from the project root)::

    nice -n 10 .venv/bin/python benchmarks/theme_titles.py --input ../shared/data/themes/hwu64.csv \\
        --text-col text --label-col label --where split=test
    nice -n 10 .venv/bin/python benchmarks/theme_titles.py --themes 500
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models.themes.titles import TitleInput, theme_titles


def _theme(texts: list[str], vectors: np.ndarray) -> TitleInput:
    centroid = vectors.sum(axis=0)
    centroid = (centroid / max(float(np.linalg.norm(centroid)), 1e-9)).astype(np.float32)
    return TitleInput(texts=texts, vectors=vectors.astype(np.float32), centroid=centroid)


def labelled(path: Path, *, text_col: str, label_col: str, where: str | None, members: int, show: int) -> None:
    """Print each gold group's title and its first ``show`` members."""
    from contracts.settings import get_settings
    from models.factories import base_embedder

    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if where:
        column, _, value = where.partition("=")
        rows = [row for row in rows if row.get(column) == value]
    groups: dict[str, list[str]] = {}
    for row in rows:
        group = groups.setdefault(row[label_col], [])
        if len(group) < members:
            group.append(row[text_col])
    names = sorted(groups)
    texts = [text for name in names for text in groups[name]]
    vectors = base_embedder(get_settings()).embed(texts)
    themes, start = [], 0
    for name in names:
        end = start + len(groups[name])
        themes.append(_theme(groups[name], vectors[start:end]))
        start = end
    began = time.perf_counter()
    titles = theme_titles(themes)
    seconds = time.perf_counter() - began
    for name, title in zip(names, titles, strict=True):
        print(f"{name} -> {title}")
        for text in groups[name][:show]:
            print(f"    - {text[:100]}")
    print(f"{len(themes)} themes, {len(texts)} texts: titles in {seconds:.3f} s")


def synthetic(n_themes: int, members: int, seed: int = 0) -> None:
    """Time title picking on ``n_themes`` synthetic themes."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(2000)]
    themes = []
    for label in range(n_themes):
        texts = [
            " ".join([f"topic{label}", f"topic{label}x"] + [words[j] for j in rng.integers(0, len(words), 6)])
            for _ in range(members)
        ]
        centre = rng.normal(size=384)
        vectors = centre + rng.normal(scale=0.5, size=(members, 384))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        themes.append(_theme(texts, vectors))
    began = time.perf_counter()
    theme_titles(themes)
    seconds = time.perf_counter() - began
    print(f"{n_themes} themes of {members} texts: titles in {seconds:.3f} s ({1000 * seconds / n_themes:.2f} ms a theme)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path)
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--label-col", default="label")
    parser.add_argument("--where", help="COLUMN=VALUE: only these rows (e.g. split=test).")
    parser.add_argument("--members", type=int, default=48, help="Texts per theme (a theme's sample).")
    parser.add_argument("--show", type=int, default=3, help="Members printed under each title.")
    parser.add_argument("--themes", type=int, default=500, help="Synthetic themes (without --input).")
    args = parser.parse_args()
    if args.input:
        labelled(args.input, text_col=args.text_col, label_col=args.label_col, where=args.where,
                 members=args.members, show=args.show)
    else:
        synthetic(args.themes, args.members)


if __name__ == "__main__":
    main()
