"""Release notes in: which open themes a release note ships, proposed for a person to confirm.

Open themes come from the compacted ``feedback.themes`` (the latest snapshot per theme).
A theme's direction is the normalized mean embedding of its label's keywords and its
representative suggestion (the snapshot carries no centroid); the note's is its own
embedding. :func:`models.release_match.propose_release_matches` does the matching and never
changes a theme: shipping stays a ``set_status`` command.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from contracts.events import LIVE_THEME_STATUSES, ThemeChanged
from contracts.settings import Settings
from contracts.topics import THEMES
from messaging.readback import read_topic

if TYPE_CHECKING:
    from models.embedding import Embedder
    from models.release_match import OpenTheme

logger = logging.getLogger(__name__)

_DAY = re.compile(r"(\d{4})\D+(\d{1,2})\D+(\d{1,2})")


@dataclass(frozen=True)
class ReleaseNote:
    version: str
    released: date | None
    text: str


def parse_day(value: str) -> date | None:
    """A date written ``2021-12-13``, ``2021/12/13`` or ``2021年12月13日``; None when unreadable."""
    match = _DAY.search(value or "")
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def read_release_notes(path: Path) -> list[ReleaseNote]:
    """Release notes from a CSV with columns ``version``, ``date`` and ``release`` (blank notes skipped)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    notes = []
    for row in rows:
        text = (row.get("release") or "").strip()
        if text:
            version = (row.get("version") or "").strip()
            notes.append(ReleaseNote(version, parse_day(row.get("date") or ""), text))
    return notes


def latest_themes(settings: Settings, *, product: str) -> list[ThemeChanged]:
    """The latest snapshot of every theme of ``product`` on ``feedback.themes``."""
    latest: dict[str, ThemeChanged] = {}
    for record in read_topic(settings, THEMES, timeout=15.0, settle=1.0):
        try:
            snapshot = ThemeChanged.model_validate_json(record.value)
        except ValueError:
            continue
        if snapshot.product == product:
            latest[snapshot.theme_id] = snapshot
    return list(latest.values())


def open_themes(settings: Settings, model: Embedder, *, product: str) -> list[OpenTheme]:
    """``product``'s live themes that are still open, with a direction to compare notes with."""
    from models.lifecycle import OPEN_STATUSES
    from models.release_match import OpenTheme

    snapshots = [
        s for s in latest_themes(settings, product=product)
        if s.status in LIVE_THEME_STATUSES and s.lifecycle_status in OPEN_STATUSES
    ]
    if not snapshots:
        return []
    texts = [" ".join(s.keywords) or s.label for s in snapshots]
    texts += [s.representative_text or s.label for s in snapshots]
    vectors = model.embed(texts)
    n = len(snapshots)
    themes = []
    for i, snapshot in enumerate(snapshots):
        centroid = vectors[i] + vectors[n + i]
        themes.append(OpenTheme(snapshot.theme_id, snapshot.label, snapshot.representative_text or "",
                                np.asarray(centroid / max(float(np.linalg.norm(centroid)), 1e-9))))
    return themes


def propose_for_notes(
    notes: Sequence[ReleaseNote],
    themes: Sequence[OpenTheme],
    model: Embedder,
    *,
    min_similarity: float,
    limit: int,
) -> list[dict[str, Any]]:
    """One proposal record per release note: the themes it likely ships, best first."""
    from models.release_match import propose_release_matches

    vectors = model.embed([note.text for note in notes]) if themes and notes else None
    proposals = []
    for i, note in enumerate(notes):
        matches = [] if vectors is None else propose_release_matches(
            release_note=note.text, note_embedding=vectors[i], themes=themes, min_similarity=min_similarity,
            limit=limit,
        )
        proposals.append({
            "version": note.version,
            "date": note.released.isoformat() if note.released else None,
            "note": note.text[:280],
            "proposals": [
                {"theme_id": m.theme_id, "label": m.label, "similarity": round(m.similarity, 4),
                 "shared_keywords": list(m.keywords)}
                for m in matches
            ],
        })
    return proposals
