"""Which data a shipped suggestion judge may learn from: the training-source policy.

The project is Apache-2.0 and ships its trained artifacts; an artifact learns from its training
data, so only data whose licence allows that may go into one. Every source the judges know is
listed in :data:`SOURCES` with its licence and whether a shipped artifact may learn from it:

* ``tizard`` (the VLC forum sentences' training split, CC BY), ``written`` (the project's own
  written posts, Apache-2.0 with the project) and ``banking77`` (the BANKING77 training queries,
  CC BY 4.0, all non-asks: support and how-to traffic) are **permissive**: the default;
* ``clap``, ``maalej`` and ``reviews`` (the hand labels over the RoseMatcher App Store reviews)
  come with no stated licence: **evaluation only**; a research run may still train on their
  training splits (``research=True``), and its artifact says so in its manifest;
* ``tweets`` (the TWCS tweet labels, CC BY-NC-SA) has no training split at all: every labelled
  tweet is a test comment, so no run may train on it.

:func:`check_sources` is the one gate: training code calls it before reading any data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrainingSource:
    """One data source: ``shippable`` when a shipped artifact may learn from it, ``trainable``
    when it has a training split at all.
    """

    name: str
    title: str
    licence: str
    shippable: bool
    trainable: bool = True


SOURCES: dict[str, TrainingSource] = {
    source.name: source
    for source in (
        TrainingSource("tizard", "Tizard VLC forum sentences, training split", "CC BY", shippable=True),
        TrainingSource(
            "written",
            "the project's written posts (models/training/written_social.csv)",
            "Apache-2.0 (the project's own)",
            shippable=True,
        ),
        TrainingSource(
            "banking77",
            "BANKING77 customer queries, training file (every query a non-ask)",
            "CC BY 4.0",
            shippable=True,
        ),
        TrainingSource("clap", "CLAP Google Play reviews, training split", "not stated", shippable=False),
        TrainingSource(
            "maalej", "Maalej App Store / Google Play reviews, training split", "not stated", shippable=False
        ),
        TrainingSource(
            "reviews",
            "hand labels over RoseMatcher App Store reviews (models/labels/review_asks.csv), train rows",
            "not stated",
            shippable=False,
        ),
        TrainingSource(
            "tweets",
            "hand labels over TWCS tweets to brands (models/labels/twcs_asks.csv)",
            "CC BY-NC-SA",
            shippable=False,
            trainable=False,
        ),
    )
}
PERMISSIVE_SOURCES: tuple[str, ...] = tuple(name for name, s in SOURCES.items() if s.shippable)
"""The default: the sources a shipped artifact may learn from."""


class TrainingSourceError(ValueError):
    """A training run asked for a source it may not use (the message says which and why)."""


def check_sources(names: Iterable[str], *, research: bool = False) -> tuple[str, ...]:
    """The requested sources, checked, in the order of :data:`SOURCES`.

    Raises :class:`TrainingSourceError` for an unknown source, a source without a training split,
    an empty list, or an evaluation-only source when ``research`` is false.
    """
    requested = {name.strip().lower() for name in names if name.strip()}
    if not requested:
        raise TrainingSourceError(
            "no training source given; permissive ones: " + ", ".join(PERMISSIVE_SOURCES)
        )
    unknown = sorted(requested - SOURCES.keys())
    if unknown:
        raise TrainingSourceError(f"unknown training source(s) {unknown}; known: {', '.join(SOURCES)}")
    untrainable = [SOURCES[name] for name in sorted(requested) if not SOURCES[name].trainable]
    if untrainable:
        named = "; ".join(f"{s.name} ({s.title}, {s.licence})" for s in untrainable)
        raise TrainingSourceError(f"evaluation only, never trained on: {named}")
    restricted = [SOURCES[name] for name in SOURCES if name in requested and not SOURCES[name].shippable]
    if restricted and not research:
        named = "; ".join(f"{s.name} ({s.title}; licence {s.licence})" for s in restricted)
        raise TrainingSourceError(
            f"refusing to train a shipped artifact on evaluation-only data: {named}. No licence that "
            "allows redistributing a model learnt from them is stated; train on "
            f"{', '.join(PERMISSIVE_SOURCES)} only, or pass the research flag for an artifact that "
            "is not shipped."
        )
    return tuple(name for name in SOURCES if name in requested)


def shippable(names: Iterable[str]) -> bool:
    """True when a shipped artifact may learn from every source in ``names``."""
    return all(SOURCES[name].shippable for name in names)


def sources_manifest(names: Iterable[str], *, research: bool) -> dict[str, Any]:
    """What an artifact's manifest records of its training data: each source with its licence,
    whether the artifact may be shipped, and whether it came from a research run.
    """
    chosen = [SOURCES[name] for name in names]
    return {
        "sources": [{"name": s.name, "title": s.title, "licence": s.licence} for s in chosen],
        "shippable": shippable(s.name for s in chosen),
        "research": research,
    }
