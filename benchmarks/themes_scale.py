"""Scale benchmark of the online theme engine on synthetic clustered vectors.

Prints one row per size: n, per-suggestion assignment latency p50/p99 (ms, excluding calls
that triggered a re-cluster), the slowest periodic re-cluster and a final forced re-cluster
(seconds), number of re-clusters, themes, and the process's peak RSS (MB), for each re-cluster
space (``--reduction``: UMAP, the default, and PCA, the space before it). Each size and space
runs in its own subprocess so peak RSS is per run.

Usage (from the project root)::

    nice -n 10 .venv/bin/python benchmarks/themes_scale.py            # 1k, 10k, 100k
    nice -n 10 .venv/bin/python benchmarks/themes_scale.py --sizes 1000 10000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DIM = 384
WORDS = [f"w{i}" for i in range(2000)]


def synthetic(n: int, seed: int = 0, noise: float = 0.045) -> tuple[np.ndarray, list[str]]:
    """``n`` unit vectors around ``max(10, n // 200)`` random centres, and texts.

    Per-dimension Gaussian ``noise`` 0.045 gives a cosine to the centre of about 0.75 (the
    join threshold: about half the stream waits in the pool, the hard case); 0.03 about 0.87.
    """
    rng = np.random.default_rng(seed)
    k = max(10, n // 200)
    centres = rng.normal(size=(k, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = rng.integers(0, k, size=n)
    vectors = centres[labels] + rng.normal(scale=noise, size=(n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [
        " ".join([f"topic{label}", f"topic{label}x"] + [WORDS[j] for j in rng.integers(0, len(WORDS), 6)])
        for label in labels
    ]
    return vectors.astype(np.float32), texts


def run_one(n: int, noise: float, reduction: str) -> dict[str, float | str]:
    """Stream ``n`` synthetic suggestions through the engine (re-clusters in ``reduction``'s space)
    and measure."""
    from models.themes import Suggestion, ThemeConfig, ThemeEngine

    vectors, texts = synthetic(n, noise=noise)
    engine = ThemeEngine(replace(ThemeConfig(), reduction=reduction))
    state = engine.new_state(product="bench", dim=DIM)
    counter = iter(range(1, 10**9))

    def new_id() -> str:
        return f"t{next(counter)}"

    start = datetime(2026, 1, 5, tzinfo=UTC)
    assign_ms: list[float] = []
    recluster_s: list[float] = []
    for i in range(n):
        now = start + timedelta(seconds=i)
        suggestion = Suggestion(f"s{i}", "bench", f"a{i % (n // 2 + 1)}", "x", now, texts[i], vectors[i])
        before = state.last_recluster_at
        t0 = time.perf_counter()
        state, _ = engine.add_suggestion(state, suggestion, now=now, new_id=new_id)
        elapsed = time.perf_counter() - t0
        if state.last_recluster_at != before:
            recluster_s.append(elapsed)
        else:
            assign_ms.append(elapsed * 1000)
    t0 = time.perf_counter()
    state, _ = engine.recluster(state, now=start + timedelta(days=30), new_id=new_id)
    final = time.perf_counter() - t0
    biggest = max(len(json.dumps(t.to_dict())) for t in state.themes.values()) if state.themes else 0
    return {
        "n": n,
        "reduction": reduction,
        "assign_p50_ms": float(np.percentile(assign_ms, 50)),
        "assign_p99_ms": float(np.percentile(assign_ms, 99)),
        "recluster_max_s": max(recluster_s) if recluster_s else 0.0,
        "recluster_final_s": final,
        "reclusters": len(recluster_s) + 1,
        "themes": len(state.themes),
        "pooled": len(state.pool),
        "largest_record_kb": biggest / 1024,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--noise", type=float, default=0.045, help="per-dimension noise of synthetic vectors")
    parser.add_argument("--reduction", nargs="+", default=["umap", "pca"],
                        help="re-cluster spaces to run, side by side (the default first, the one before it)")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.noise, args.reduction[0])))
        return 0
    header = (
        f"{'n':>7} {'space':>5} {'p50 ms':>7} {'p99 ms':>7} {'recl max s':>10} {'recl final s':>12} {'#recl':>5} "
        f"{'themes':>6} {'pooled':>6} {'max rec KB':>10} {'peak RSS MB':>11}"
    )
    print(header)
    for n, reduction in ((n, reduction) for n in args.sizes for reduction in args.reduction):
        # One BLAS thread: the figures are per core (the machine is shared).
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--noise", str(args.noise), "--reduction", reduction],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['n']:>7} {r['reduction']:>5} {r['assign_p50_ms']:>7.3f} {r['assign_p99_ms']:>7.3f} "
            f"{r['recluster_max_s']:>10.2f} "
            f"{r['recluster_final_s']:>12.2f} {r['reclusters']:>5} {r['themes']:>6} {r['pooled']:>6} "
            f"{r['largest_record_kb']:>10.1f} {r['peak_rss_mb']:>11.0f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
