"""Evaluation of the online theme path on labelled texts (e.g. BANKING77)."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import adjusted_rand_score, v_measure_score

from models.duplicates import DuplicateConfig
from models.themes.config import ThemeConfig
from models.themes.emerging import is_emerging
from models.themes.engine import ThemeEngine
from models.themes.events import SuggestionPlaced, ThemeEvent, ThemeMerged, ThemeSplit
from models.themes.records import Suggestion
from models.themes.workflow import ProductWork, StepResult, place_suggestion, tick

logger = logging.getLogger(__name__)

EVAL_START = datetime(2026, 1, 5, tzinfo=UTC)
EVAL_STEP = timedelta(minutes=1)


class Ledger:
    """Where every suggestion is, replayed from engine events (what a downstream consumer keeps).

    ``place[sid]`` is the theme id at the suggestion's last placement (``None`` = pool);
    ``successor`` maps merged ids to the id they were merged into.
    """

    def __init__(self) -> None:
        self.place: dict[str, str | None] = {}
        self.first: dict[str, str] = {}
        self.successor: dict[str, str] = {}
        self.duplicate_of: dict[str, str] = {}

    def resolve(self, theme_id: str) -> str:
        """Follow merges from ``theme_id`` to the id that holds its members now."""
        while theme_id in self.successor:
            theme_id = self.successor[theme_id]
        return theme_id

    def where(self, suggestion_id: str) -> str | None:
        """Current theme id of ``suggestion_id`` (``None`` = pool or unknown)."""
        seen: set[str] = set()
        while suggestion_id in self.duplicate_of and suggestion_id not in seen:
            seen.add(suggestion_id)
            suggestion_id = self.duplicate_of[suggestion_id]
        placed = self.place.get(suggestion_id)
        return None if placed is None else self.resolve(placed)

    def apply_step(self, result: StepResult) -> None:
        """Replay one workflow step (what the stream agent publishes)."""
        for old, new in result.merged.items():
            self.successor[old] = new
        for placement in result.placements:
            if placement.duplicate_of is not None and placement.duplicate_kind == "exact":
                self.duplicate_of[placement.suggestion_id] = placement.duplicate_of
                continue
            self.place[placement.suggestion_id] = placement.theme_id
            if placement.theme_id is not None:
                self.first.setdefault(placement.suggestion_id, placement.theme_id)

    def apply(self, events: Sequence[ThemeEvent]) -> None:
        """Replay ``events`` in order."""
        for event in events:
            if isinstance(event, SuggestionPlaced):
                self.place[event.suggestion_id] = event.theme_id
                if event.theme_id is not None:
                    self.first.setdefault(event.suggestion_id, event.theme_id)
            elif isinstance(event, ThemeMerged):
                for old in event.old_ids:
                    self.successor[old] = event.new_id
            elif isinstance(event, ThemeSplit):
                for new_id, moved in event.moved_ids:
                    for sid in moved:
                        self.place[sid] = new_id


def shuffled(count: int, seed: int | None) -> list[int]:
    """The order rows arrive in: file order when ``seed`` is None, else a permutation by ``seed``
    (numpy's default generator, so the same seed gives the same order everywhere).
    """
    if seed is None:
        return list(range(count))
    return [int(i) for i in np.random.default_rng(seed).permutation(count)]


def stray_rate(assigned: Sequence[str | None], labels: Sequence[Any]) -> float:
    """The share of the rows in a cluster (``assigned[i]`` not None) whose label is not their
    cluster's most frequent one: the asks a theme holds of another idea, which thanking its every
    member would get wrong. 0.0 when no row is in a cluster.
    """
    of_cluster: dict[str, Counter[Any]] = {}
    for cluster, label in zip(assigned, labels, strict=True):
        if cluster is not None:
            of_cluster.setdefault(cluster, Counter())[label] += 1
    clustered = sum(sum(counts.values()) for counts in of_cluster.values())
    majority = sum(max(counts.values()) for counts in of_cluster.values())
    return (clustered - majority) / clustered if clustered else 0.0


def evaluate_themes(
    *,
    texts: Sequence[str],
    labels: Sequence[Any],
    vectors: npt.NDArray[np.float32],
    config: ThemeConfig | None = None,
    duplicates: DuplicateConfig | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    final_themes: bool = False,
) -> dict[str, Any]:
    """Stream rows one at a time (file order) through the online path and score the final themes.

    The path is the stream agent's (:func:`models.themes.workflow.place_suggestion`):
    exact and automatic duplicates count as mentions of what they duplicate (and are scored
    in its theme); a pause at the end triggers the idle re-cluster, as in the worker.

    ``vectors`` is ``(n, dim)`` L2-normalized. Row ``i`` arrives at ``EVAL_START + i`` minutes
    with author ``author-i``; after the last row the clock advances by ``recluster_interval``
    and :meth:`ThemeEngine.tick` runs (the periodic time trigger). Returns ``n``, ``themes``,
    ``emerging_themes`` (of ``themes``, those still emerging: scored as themes like any other),
    ``v_measure`` and ``ari`` (pool rows scored as singleton clusters; ``*_pool_as_one`` the same
    with the pool scored as one cluster, as BERTopic's outlier topic is often scored), ``outlier_rate``
    (share of rows in the pool at the end), ``id_stability`` (share of rows that ever got a
    theme whose final theme is their first theme id or its merge successor),
    ``stray_rate`` (share of the rows in a theme whose gold label is not the theme's most frequent
    one: asks a closure of that theme would thank for something else), ``reclusters`` and
    timing; with ``final_themes`` also each row's final theme id (None = pool) in input order.
    ``on_progress(done, n)`` hears after each row.
    """
    config = config or ThemeConfig()
    engine = ThemeEngine(config)
    n = len(texts)
    if n != len(labels) or n != len(vectors):
        raise ValueError("texts, labels and vectors must have the same length")
    duplicates = duplicates or DuplicateConfig()
    work = ProductWork.new(product="eval", dim=int(vectors.shape[1]))
    ledger = Ledger()
    reclusters = 0
    started = time.perf_counter()
    now = EVAL_START
    for i in range(n):
        now = EVAL_START + i * EVAL_STEP
        suggestion = Suggestion(
            suggestion_id=f"s{i}",
            product="eval",
            author_key=f"author-{i}",
            platform="eval",
            created_at=now,
            text=texts[i],
            vector=np.asarray(vectors[i], dtype=np.float32),
        )
        result = place_suggestion(
            work, suggestion, engine=engine, duplicates=duplicates, theme_of=ledger.where, now=now
        )
        reclusters += result.reclustered
        ledger.apply_step(result)
        if on_progress is not None:
            on_progress(i + 1, n)
    # The stream ends: the worker re-clusters a product whose suggestions paused.
    result = tick(work, engine=engine, now=now + EVAL_STEP, idle=True)
    reclusters += result.reclustered
    ledger.apply_step(result)
    state = work.themes
    elapsed = time.perf_counter() - started
    final = [ledger.where(f"s{i}") for i in range(n)]
    duplicates_merged = len(ledger.duplicate_of)
    predicted = [f if f is not None else f"pool-{i}" for i, f in enumerate(final)]
    themed = [i for i in range(n) if f"s{i}" in ledger.first]
    stable = sum(1 for i in themed if final[i] == ledger.resolve(ledger.first[f"s{i}"]))
    pool_ids = set(state.pool)
    mismatched = sum(
        1
        for i in range(n)
        if f"s{i}" not in ledger.duplicate_of and (final[i] is None) != (f"s{i}" in pool_ids)
    )
    if mismatched:
        logger.warning("ledger and state disagree on %d rows", mismatched)
    as_one = [f if f is not None else "pool" for f in final]
    return {
        "n": n,
        "themes": len(state.themes),
        "emerging_themes": sum(is_emerging(theme, config) for theme in state.themes.values()),
        "gold_labels": len(set(labels)),
        "v_measure": round(float(v_measure_score(list(labels), predicted)), 4),
        "ari": round(float(adjusted_rand_score(list(labels), predicted)), 4),
        "v_measure_pool_as_one": round(float(v_measure_score(list(labels), as_one)), 4),
        "ari_pool_as_one": round(float(adjusted_rand_score(list(labels), as_one)), 4),
        "outlier_rate": round(sum(f is None for f in final) / max(n, 1), 4),
        "stray_rate": round(stray_rate(final, labels), 4),
        "id_stability": round(stable / max(len(themed), 1), 4),
        "reclusters": reclusters,
        "duplicates_merged": duplicates_merged,
        "seconds": round(elapsed, 2),
        "ms_per_row": round(1000 * elapsed / max(n, 1), 3),
        "config": config.to_dict(),
        **({"final_themes": final} if final_themes else {}),
    }
