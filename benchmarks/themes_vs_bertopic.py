"""youasked's streaming themes against BERTopic in batch, on the same vectors, scored the same way.

Usage (from the project root; BERTopic is a development dependency)::

    nice -n 10 .venv/bin/python benchmarks/themes_vs_bertopic.py ../shared/data/themes/banking77_test.csv
    nice -n 10 .venv/bin/python benchmarks/themes_vs_bertopic.py ../shared/data/themes/hwu64.csv \
        --split test --shuffle 0 1 2 3 4
    nice -n 10 .venv/bin/python benchmarks/themes_vs_bertopic.py --reviews github

``--reviews PRODUCT`` reads the asks of a replay of ``../shared/data/streams/PRODUCT_reviews.csv``
grouped by hand (``benchmarks/labels/themes-PRODUCT.csv``; see ``benchmarks/themes_small.py``),
embedded as the worker places them.

Every row is embedded once by the pipeline's own encoder (all-MiniLM-L6-v2 on ONNX Runtime,
cached under ``.cache/embeddings/``). For each order (file order with ``--file-order``, and each
``--shuffle`` seed) the rows stream one at a time through the agents' theme path
(:func:`models.themes.evaluate.evaluate_themes`), and BERTopic 0.17 with its defaults (UMAP
n_neighbors 15, 5 components, min_dist 0, cosine; HDBSCAN min_cluster_size 10, eom) is fitted
on the same vectors in the same order, UMAP seeded with the order's seed. Both are scored by
one function: rows left unclustered (youasked's pool, BERTopic's topic -1) as singletons, and
also as one cluster. The table ends with the means over the shuffled orders.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sklearn.metrics import adjusted_rand_score, v_measure_score

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CACHE_DIR = ROOT / ".cache" / "embeddings"


@dataclass(frozen=True)
class Scored:
    """One clustering of one order, scored both ways."""

    method: str
    order: str
    clusters: int
    v_single: float
    ari_single: float
    v_one: float
    ari_one: float
    outliers: float
    strays: float
    seconds: float
    id_stability: float | None = None


def score(method: str, order: str, labels: Sequence[str], assigned: Sequence[str | None], *,
          seconds: float, id_stability: float | None = None) -> Scored:
    """Score ``assigned`` (None = left unclustered) against ``labels`` both ways, and count the
    strays: rows in a cluster whose label is not the cluster's most frequent one (what thanking a
    cluster's every member would get wrong), as a share of the clustered rows.
    """
    from models.themes.evaluate import stray_rate

    single = [a if a is not None else f"alone-{i}" for i, a in enumerate(assigned)]
    one = [a if a is not None else "alone" for a in assigned]
    clusters = len({a for a in assigned if a is not None})
    return Scored(
        method=method,
        order=order,
        clusters=clusters,
        v_single=float(v_measure_score(labels, single)),
        ari_single=float(adjusted_rand_score(labels, single)),
        v_one=float(v_measure_score(labels, one)),
        ari_one=float(adjusted_rand_score(labels, one)),
        outliers=sum(a is None for a in assigned) / max(len(assigned), 1),
        strays=stray_rate(assigned, labels),
        seconds=seconds,
        id_stability=id_stability,
    )


def embed_cached(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """``(n, 384)`` vectors of ``texts`` by the pipeline's encoder, computed once and cached."""
    from contracts.settings import get_settings
    from models.factories import base_embedder, embedding_weights

    settings = get_settings()
    weights = embedding_weights(settings) if settings.embedding_backend == "onnx" else "fp32"
    digest = hashlib.sha256(f"{settings.embedding_backend}:{weights}:all-MiniLM-L6-v2".encode())
    for text in texts:
        digest.update(b"\x00" + text.encode("utf-8"))
    path = CACHE_DIR / f"{digest.hexdigest()}.npy"
    if path.exists():
        return np.load(path).astype(np.float32)
    vectors = base_embedder(settings).embed(list(texts))
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp.npy")
    np.save(temporary, vectors)
    temporary.replace(path)
    return vectors


def youasked_run(texts: list[str], labels: list[str], vectors: npt.NDArray[np.float32],
                 order: str) -> Scored:
    """Stream the rows through the theme path; read back where each row ended."""
    from models.themes.evaluate import evaluate_themes

    started = time.perf_counter()
    result = evaluate_themes(texts=texts, labels=labels, vectors=vectors, final_themes=True)
    assigned: list[str | None] = result["final_themes"]
    return score("youasked (streaming)", order, labels, assigned,
                 seconds=time.perf_counter() - started, id_stability=float(result["id_stability"]))


def bertopic_run(texts: list[str], labels: list[str], vectors: npt.NDArray[np.float32], order: str,
                 seed: int) -> Scored:
    """BERTopic's defaults on the given vectors, UMAP seeded with ``seed``."""
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from umap import UMAP

    started = time.perf_counter()
    umap_model = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed)
    hdbscan_model = HDBSCAN(min_cluster_size=10, metric="euclidean", cluster_selection_method="eom",
                            prediction_data=True)
    model = BERTopic(umap_model=umap_model, hdbscan_model=hdbscan_model, verbose=False)
    topics, _ = model.fit_transform(texts, embeddings=vectors)
    assigned = [None if topic == -1 else f"topic-{topic}" for topic in topics]
    return score("BERTopic 0.17 (batch)", order, labels, assigned, seconds=time.perf_counter() - started)


def read_rows(path: Path, *, text_col: str, label_col: str, split: str | None,
              split_col: str) -> tuple[list[str], list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if split is not None:
        rows = [row for row in rows if row.get(split_col) == split]
    if not rows:
        raise SystemExit(f"{path}: no rows" + (f" with {split_col} == {split!r}" if split else ""))
    return [row[text_col] for row in rows], [row[label_col] for row in rows]


def table(results: list[Scored], gold: int) -> str:
    lines = [
        f"gold labels: {gold}",
        "| method | order | clusters | V / ARI (alone as singletons) | V / ARI (alone as one cluster) "
        "| outliers | strays | id stability | seconds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        stability = f"{r.id_stability:.3f}" if r.id_stability is not None else "n/a"
        lines.append(
            f"| {r.method} | {r.order} | {r.clusters} | {r.v_single:.3f} / {r.ari_single:.3f} | "
            f"{r.v_one:.3f} / {r.ari_one:.3f} | {r.outliers:.1%} | {r.strays:.1%} | {stability} | {r.seconds:.1f} |"
        )
    for method in dict.fromkeys(r.method for r in results):
        shuffled = [r for r in results if r.method == method and r.order.startswith("shuffle")]
        if len(shuffled) < 2:
            continue
        mean = {name: float(np.mean([getattr(r, name) for r in shuffled]))
                for name in ("clusters", "v_single", "ari_single", "v_one", "ari_one", "outliers", "strays")}
        stabilities = [r.id_stability for r in shuffled if r.id_stability is not None]
        stability = f"{np.mean(stabilities):.3f}" if stabilities else "n/a"
        lines.append(
            f"| **{method}** | **mean of {len(shuffled)} shuffled** | {mean['clusters']:.0f} | "
            f"{mean['v_single']:.3f} / {mean['ari_single']:.3f} | {mean['v_one']:.3f} / "
            f"{mean['ari_one']:.3f} | {mean['outliers']:.1%} | {mean['strays']:.1%} | {stability} | |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", type=Path, nargs="?", default=None)
    parser.add_argument("--reviews", default=None, metavar="PRODUCT",
                        help="instead of a CSV: the hand-grouped asks of PRODUCT's reviews "
                             "(benchmarks/labels/themes-PRODUCT.csv, placed as the worker places them)")
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--label-col", default="label")
    parser.add_argument("--split", default=None, help="keep rows whose split column holds this (hwu64: test)")
    parser.add_argument("--split-col", default="split")
    parser.add_argument("--shuffle", type=int, nargs="*", default=[0, 1, 2, 3, 4], help="order seeds")
    parser.add_argument("--file-order", action="store_true", help="also stream in file order (UMAP seed 0)")
    parser.add_argument("--no-bertopic", action="store_true", help="youasked alone")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    from models.themes.evaluate import shuffled

    if args.reviews is not None:
        from benchmarks.themes_small import review_asks

        texts, labels, vectors = review_asks(args.reviews)
        source = f"the asks of {args.reviews}'s reviews grouped by hand"
    elif args.csv is not None:
        texts, labels = read_rows(args.csv, text_col=args.text_col, label_col=args.label_col,
                                  split=args.split, split_col=args.split_col)
        vectors = embed_cached(texts)
        source = args.csv.name + (f" (split {args.split})" if args.split else "")
    else:
        parser.error("give a CSV or --reviews PRODUCT")
    orders: list[tuple[str, int | None]] = [("file order", None)] if args.file_order else []
    orders += [(f"shuffle {seed}", seed) for seed in args.shuffle]
    results: list[Scored] = []
    for name, seed in orders:
        order = shuffled(len(texts), seed)
        ordered_texts = [texts[i] for i in order]
        ordered_labels = [labels[i] for i in order]
        ordered_vectors = vectors[order]
        results.append(youasked_run(ordered_texts, ordered_labels, ordered_vectors, name))
        print(f"{name}: youasked done", file=sys.stderr, flush=True)
        if not args.no_bertopic:
            results.append(bertopic_run(ordered_texts, ordered_labels, ordered_vectors, name, seed or 0))
            print(f"{name}: BERTopic done", file=sys.stderr, flush=True)
    print(f"{source}: {len(texts)} rows, the pipeline's MiniLM vectors for both")
    print(table(results, gold=len(set(labels))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
