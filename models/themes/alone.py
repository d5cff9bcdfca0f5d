"""Why an ask is in no theme: each ask that waits alone, with the reason a product manager reads.

The themes service places an ask in a theme when it comes close to one (``join_threshold`` on
arrival, ``reassign_threshold`` at a re-cluster) or when enough asks like it found one (a theme
of ``min_cluster_size`` asks, or an emerging theme of ``emerging_min_authors`` people whose asks
are all pairwise at ``emerging_threshold``). An ask in none of them is, in this order:

- ``repeat``: an exact or automatic repeat of another ask that is alone: it counts as a mention
  of that ask and goes where it goes;
- ``under_review``: a possible duplicate of another ask, waiting for a person to say whether it
  is one;
- ``near_ask``: close to another person's alone ask (cosine at least ``emerging_threshold``; a
  repeat is not another ask): a re-cluster founds an emerging theme of the two unless one of
  them joins a theme first;
- ``near_theme``: within reach of a live theme (cosine to the theme's centre at least
  ``reassign_threshold``): a re-cluster places it there if it is still that close to the centre
  the service keeps for the theme then;
- ``unique``: no theme and no other person's ask is that close yet: it is an idea of one person
  so far, with the closest theme and its cosine for whoever wants to file it by hand.

The centres are those of the themes' members as the read model holds them (the mean direction
of their vectors), the same vectors the service placed them by; the service's own centres come
from a bounded sample of the same members, so the two differ a little on large themes, and a
reason says what the next re-cluster will most likely do, not what it must do.

Pure: arrays in, reasons out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.themes.config import ThemeConfig

REASONS = ("repeat", "under_review", "near_ask", "near_theme", "unique")
"""Every reason an ask waits alone, in the order they are tested."""


@dataclass(frozen=True)
class AloneAsk:
    """One ask in no theme: its id, its author and whether it repeats another ask (``exact`` or
    ``auto``) or may (``review``).
    """

    suggestion_id: str
    author: str
    duplicate_kind: str | None = None
    duplicate_of: str | None = None


@dataclass(frozen=True)
class AloneReason:
    """Why one ask is alone: the ``reason`` (one of :data:`REASONS`), the closest live theme and
    its cosine (None when the product has no theme), and the closest other person's alone ask
    and its cosine (None when there is none).
    """

    suggestion_id: str
    reason: str
    nearest_theme: str | None
    theme_similarity: float | None
    nearest_ask: str | None
    ask_similarity: float | None


def _unit_rows(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    data = np.asarray(vectors, dtype=np.float64)
    if len(data) == 0:
        return data
    norms = np.linalg.norm(data, axis=1, keepdims=True)
    out: npt.NDArray[np.float64] = data / np.maximum(norms, 1e-12)
    return out


def theme_centres(
    theme_of_member: Sequence[str], member_vectors: npt.NDArray[np.float32]
) -> tuple[list[str], npt.NDArray[np.float64]]:
    """Each theme's unit mean direction from its members' ``(n, dim)`` vectors: theme ids (in
    first-seen order) and an ``(themes, dim)`` matrix.
    """
    ids = list(dict.fromkeys(theme_of_member))
    if not ids:
        return [], np.zeros((0, member_vectors.shape[1] if member_vectors.ndim == 2 else 0))
    rows = _unit_rows(member_vectors)
    index = {theme_id: k for k, theme_id in enumerate(ids)}
    sums = np.zeros((len(ids), rows.shape[1]))
    np.add.at(sums, [index[t] for t in theme_of_member], rows)
    return ids, _unit_rows(sums.astype(np.float32))


def _repeats(ask: AloneAsk) -> bool:
    return ask.duplicate_kind in ("exact", "auto") and ask.duplicate_of is not None


def alone_reasons(
    asks: Sequence[AloneAsk],
    vectors: npt.NDArray[np.float32],
    *,
    theme_ids: Sequence[str],
    centres: npt.NDArray[np.float64],
    config: ThemeConfig | None = None,
) -> list[AloneReason]:
    """The reason of each ask in ``asks`` (``vectors``: their ``(n, dim)`` embeddings, in the same
    order), given the product's live themes (``theme_ids`` and their unit ``centres``). An ask
    with no vector (a zero row: not projected yet) is measured against nothing (its similarities
    are None) and is ``unique`` unless it repeats; no other ask is measured against it.
    """
    config = config or ThemeConfig()
    n = len(asks)
    if len(vectors) != n or len(theme_ids) != len(centres):
        raise ValueError("asks and vectors, theme_ids and centres must have the same lengths")
    rows = _unit_rows(vectors)
    known = np.linalg.norm(rows, axis=1) > 0 if n else np.zeros(0, dtype=bool)
    to_theme = rows @ centres.T if len(theme_ids) and n else np.zeros((n, 0))
    to_ask = rows @ rows.T if n else np.zeros((0, 0))
    authors = np.array([ask.author for ask in asks], dtype=object)
    # a repeat is a mention of the ask it repeats, not a second person's ask beside it
    repeats = np.array([_repeats(ask) for ask in asks], dtype=bool)
    out: list[AloneReason] = []
    for i, ask in enumerate(asks):
        theme, theme_sim = None, None
        if to_theme.shape[1] and known[i]:
            best = int(np.argmax(to_theme[i]))
            theme, theme_sim = theme_ids[best], round(float(to_theme[i, best]), 4)
        other, ask_sim = None, None
        others = (authors != ask.author) & known & ~repeats
        if known[i] and others.any():
            sims = np.where(others, to_ask[i], -np.inf)
            best = int(np.argmax(sims))
            other, ask_sim = asks[best].suggestion_id, round(float(sims[best]), 4)
        if repeats[i]:
            reason = "repeat"
        elif ask.duplicate_kind == "review":
            reason = "under_review"
        elif ask_sim is not None and ask_sim >= config.emerging_threshold:
            reason = "near_ask"
        elif theme_sim is not None and theme_sim >= config.reassign_threshold:
            reason = "near_theme"
        else:
            reason = "unique"
        out.append(AloneReason(ask.suggestion_id, reason, theme, theme_sim, other, ask_sim))
    return out
