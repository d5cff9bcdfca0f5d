"""Cost of one suggestion step of the themes service as a product's themes grow.

The worker's themes agent runs :meth:`models.themes.service.ThemesService.suggestion` for every
suggestion: place it, then the effects (theme snapshot, member record, table writes). This
places ``--n`` synthetic suggestions of one product (unit vectors around ``--themes`` random
centres, cosine about 0.87 to their centre, as ``benchmarks/recovery.py`` fills a product) through
the service on in-memory tables, then times ``--steps`` more suggestions that re-cluster nothing,
in the same process on copies of the same state, the variants taking turns step by step:

* **shipped**: the service as it is;
* **baseline, snapshot**: the same service serializing every theme's record before each step
  (what it did before the snapshot was limited to steps that may re-cluster);
* **baseline, scan**: the same service asking whether the suggestion is already a member by
  scanning every theme's sampled and provisional members (what
  :meth:`~models.themes.records.ThemeRecord.holds` did before it kept their ids in a set);
* **without agreement**: the same service without measuring the snapshot's agreement
  (:func:`models.theme_mapping.theme_agreement`, and so without the mixed theme's share in its
  score): what the shipped step pays for it.

Run (from the project root)::

    nice -n 10 .venv/bin/python benchmarks/themes_step.py --n 10000 --themes 500
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contracts.events import AskSpan, CommentAccepted, SourceRef, SuggestionDetected
from models import theme_mapping
from models.closure import load_templates
from models.themes.config import ThemeConfig
from models.themes.effects import Effects, TableWrite
from models.themes.engine import ThemeEngine
from models.themes.records import ThemeRecord
from models.themes.service import ThemesService
from models.themes.step_effects import snapshot_before
from tests.fakes import MemoryThemeTables

PRODUCT = "trailmate"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def vectors_around(n: int, centres: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    middle = rng.normal(size=(centres, 384))
    middle /= np.linalg.norm(middle, axis=1, keepdims=True)
    rows = middle[np.arange(n) % centres] + rng.normal(0, 0.03, size=(n, 384))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def detected(index: int, vector: np.ndarray) -> SuggestionDetected:
    at = T0 + timedelta(seconds=index)
    text = f"idea {index % 997} words {index}"
    comment = CommentAccepted(
        comment_id=f"s{index}", platform="x", product=PRODUCT, author_id=f"user{index % 20000}",
        author_handle=f"@user{index % 20000}", text=text, created_at=at, url=f"https://x.com/u/status/{index}",
        key=f"x:s{index}", received_at=at, source=SourceRef(topic="feedback.comments", partition=0, offset=index),
    )
    return SuggestionDetected(
        suggestion_id=f"x:s{index}#1", comment=comment, ask=AskSpan(text=text, start=0, end=len(text)),
        score=0.9, embedding=[round(float(x), 6) for x in vector], embedding_model="synthetic", detected_at=at,
    )


def apply(tables: MemoryThemeTables, effects: Effects) -> None:
    """What the worker's effect sink does to the tables (emits go nowhere here)."""
    for item in effects.items:
        if isinstance(item, TableWrite):
            table = tables.state_table if item.table == "theme-state" else tables.members_table
            if item.value is None:
                table.pop(item.key, None)
            else:
                table[item.key] = item.value


def scanning_holds(self: ThemeRecord, suggestion_id: str) -> bool:
    """:meth:`ThemeRecord.holds` as it was: a scan of the theme's members."""
    return any(m.suggestion_id == suggestion_id for m in self.sample) or any(
        m.suggestion_id == suggestion_id for m in self.provisional
    )


def timed_step(service: ThemesService, tables: MemoryThemeTables, event: SuggestionDetected,
               now: datetime, *, baseline: str) -> float:
    """Seconds of one step; ``baseline`` adds what every step paid before: serializing every
    theme's record (``"snapshot"``: :func:`~models.themes.step_effects.snapshot_before`), scanning
    every theme's members for the suggestion (``"scan"``), or takes away the snapshot's agreement
    (``"no-agreement"``)."""
    shipped_holds = ThemeRecord.holds
    shipped_agreement = theme_mapping.theme_agreement
    if baseline == "scan":
        ThemeRecord.holds = scanning_holds  # type: ignore[method-assign]
    if baseline == "no-agreement":
        theme_mapping.theme_agreement = lambda record, found_threshold: None
    try:
        started = time.perf_counter()
        if baseline == "snapshot":
            snapshot_before(tables.work(PRODUCT))
        apply(tables, service.suggestion(tables, event, now=now))
        return time.perf_counter() - started
    finally:
        ThemeRecord.holds = shipped_holds  # type: ignore[method-assign]
        theme_mapping.theme_agreement = shipped_agreement


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="suggestions placed before timing")
    parser.add_argument("--themes", type=int, default=500, help="centres of the synthetic suggestions")
    parser.add_argument("--steps", type=int, default=300, help="suggestions timed per variant")
    args = parser.parse_args()

    # re-clusters by count while filling, as the worker does; none while timing (checked below)
    service = ThemesService(engine=ThemeEngine(ThemeConfig()), templates=load_templates())
    tables = MemoryThemeTables()
    vectors = vectors_around(args.n + args.steps, args.themes)
    started = time.perf_counter()
    for index in range(args.n):
        apply(tables, service.suggestion(tables, detected(index, vectors[index]), now=T0))
    fill_s = time.perf_counter() - started
    work = tables.work(PRODUCT)
    themes, reclusters_at = len(work.themes.themes), work.themes.last_recluster_at
    print(f"{args.n:,} suggestions placed through the service in {fill_s:.0f} s ({args.n / fill_s:.0f}/s): "
          f"{themes} themes, {len(work.themes.pool)} pooled")

    timing = [detected(args.n + i, vectors[args.n + i]) for i in range(args.steps)]
    variants = (
        ("shipped", ""),
        ("baseline, snapshot: every theme serialized before each step", "snapshot"),
        ("baseline, scan: every theme's members scanned for the suggestion", "scan"),
        ("without agreement: the snapshot's agreement not measured", "no-agreement"),
    )
    # The variants take turns, one step each, so the machine's load falls on all of them alike.
    copies = [copy.deepcopy(tables) for _ in variants]
    seconds: list[list[float]] = [[] for _ in variants]
    for event in timing:
        for i, (_, baseline) in enumerate(variants):
            seconds[i].append(timed_step(service, copies[i], event, T0, baseline=baseline))
    for copied in copies:
        assert copied.work(PRODUCT).themes.last_recluster_at == reclusters_at, "a timed step re-clustered"
    rows = [(name, spent) for (name, _), spent in zip(variants, seconds, strict=True)]

    print(f"\n{args.steps} more suggestions, none re-clustering, {themes} themes:\n")
    print("| step | p50 | p99 | steps/s |")
    print("| --- | --- | --- | --- |")
    for name, seconds in rows:
        ordered = sorted(seconds)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        print(f"| {name} | {statistics.median(seconds) * 1000:.2f} ms | {p99 * 1000:.2f} ms | "
              f"{len(seconds) / sum(seconds):.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
