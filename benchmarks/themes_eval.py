"""Embed an evaluation CSV (cached on disk) and print evaluate_themes / evaluate_duplicates JSON.

Usage (from the project root)::

    nice -n 10 .venv/bin/python benchmarks/themes_eval.py themes ../shared/data/themes/banking77_test.csv
    nice -n 10 .venv/bin/python benchmarks/themes_eval.py themes \
        ../shared/data/themes/banking77_train.csv --shuffle 0
    nice -n 10 .venv/bin/python benchmarks/themes_eval.py duplicates ../shared/data/duplicates/mrpc_test.csv

Embeddings are cached under ``.cache/embeddings/<sha256 of model+texts>.npy`` so each file is
embedded once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models.csv_files import read_table

CACHE_DIR = ROOT / ".cache" / "embeddings"
MODEL_KEY = "all-MiniLM-L6-v2"


def embed_cached(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Return ``(n, 384)`` MiniLM vectors of ``texts``, computed once and cached on disk."""
    digest = hashlib.sha256()
    digest.update(MODEL_KEY.encode())
    for text in texts:
        digest.update(b"\x00" + text.encode("utf-8"))
    path = CACHE_DIR / f"{digest.hexdigest()}.npy"
    if path.exists():
        cached: npt.NDArray[np.float32] = np.load(path).astype(np.float32)
        return cached
    from models.embedding import MiniLMEmbedder

    vectors = MiniLMEmbedder(batch_size=64).embed(list(texts))
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    return vectors


def _read_csv(path: Path) -> list[dict[str, str]]:
    return read_table(path).rows


def run_themes(path: Path, shuffle: int | None) -> dict[str, object]:
    """Embed ``path`` (columns text,label) and stream it through :func:`evaluate_themes`."""
    from models.themes.config import ThemeConfig
    from models.themes.evaluate import evaluate_themes

    rows = _read_csv(path)
    texts = [row["text"] for row in rows]
    labels = [row["label"] for row in rows]
    vectors = embed_cached(texts)
    if shuffle is not None:
        order = np.random.default_rng(shuffle).permutation(len(rows))
        texts = [texts[i] for i in order]
        labels = [labels[i] for i in order]
        vectors = vectors[order]
    from youasked.progress import progress_bar

    with progress_bar(f"theming {path.name}", total=len(texts), unit="rows") as on_progress:
        result = evaluate_themes(
            texts=texts, labels=labels, vectors=vectors, config=ThemeConfig(), on_progress=on_progress
        )
    result["file"] = str(path)
    result["shuffle_seed"] = shuffle
    return result


def run_duplicates(path: Path) -> dict[str, object]:
    """Embed both sides of ``path`` (label,id1,id2,text_a,text_b) and score :func:`evaluate_duplicates`."""
    from models.duplicates import DuplicateConfig, evaluate_duplicates

    rows = _read_csv(path)
    pairs = [(row["text_a"], row["text_b"]) for row in rows]
    labels = [int(row["label"]) for row in rows]
    vec_a = embed_cached([a for a, _ in pairs])
    vec_b = embed_cached([b for _, b in pairs])
    result = evaluate_duplicates(
        pairs=pairs, labels=labels, embedder_vectors=(vec_a, vec_b), config=DuplicateConfig()
    )
    result["file"] = str(path)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task", choices=["themes", "duplicates", "embed"])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--shuffle", type=int, default=None, help="seed: stream rows in a shuffled order")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    if args.task == "themes":
        result = run_themes(args.csv, args.shuffle)
    elif args.task == "duplicates":
        result = run_duplicates(args.csv)
    else:
        rows = _read_csv(args.csv)
        if "text" in rows[0]:
            embed_cached([row["text"] for row in rows])
        else:
            embed_cached([row["text_a"] for row in rows])
            embed_cached([row["text_b"] for row in rows])
        result = {"embedded": len(rows)}
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
