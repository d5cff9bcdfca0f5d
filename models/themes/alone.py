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
  repeat is not another ask), neither of them in another language (below): a re-cluster founds an
  emerging theme of the two unless one of them joins a theme first;
- ``near_theme``: within reach of a live theme (cosine to the theme's centre at least
  ``reassign_threshold``): a re-cluster places it there if it is still that close to the centre
  the service keeps for the theme then;
- ``other_language``: written in Spanish, Portuguese, French, German or Italian, which the
  model reads mostly by its surface: it joins a theme it comes close to (as ``near_theme``
  says, tested first) but founds none (``ThemeConfig.other_languages_found``), so it waits
  for a product manager to place it;
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
from typing import Any

import numpy as np
import numpy.typing as npt

from contracts.events import ATTACHING
from models.embedding import l2_normalize
from models.themes.config import ThemeConfig

REASONS = ("repeat", "under_review", "near_ask", "near_theme", "other_language", "unique")
"""Every reason an ask waits alone, in the order they are tested."""


@dataclass(frozen=True)
class AloneAsk:
    """One ask in no theme: its id, its author, whether it repeats another ask (``exact`` or
    ``auto``) or may (``review``), and whether it is in another language (it founds no theme).
    """

    suggestion_id: str
    author: str
    duplicate_kind: str | None = None
    duplicate_of: str | None = None
    other_language: bool = False


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


def theme_centres(
    theme_of_member: Sequence[str], member_vectors: npt.NDArray[np.float32]
) -> tuple[list[str], npt.NDArray[np.float32]]:
    """Each theme's unit mean direction from its members' ``(n, dim)`` vectors: theme ids (in
    first-seen order) and an ``(themes, dim)`` matrix.
    """
    ids = list(dict.fromkeys(theme_of_member))
    if not ids:
        return [], np.zeros((0, member_vectors.shape[1] if member_vectors.ndim == 2 else 0), dtype=np.float32)
    rows = l2_normalize(member_vectors)
    index = {theme_id: k for k, theme_id in enumerate(ids)}
    codes = np.fromiter((index[t] for t in theme_of_member), dtype=np.int64, count=len(theme_of_member))
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0])
    sums = np.add.reduceat(rows[order], starts, axis=0)  # one row per theme, in code order
    return ids, l2_normalize(sums)


def _repeats(ask: AloneAsk) -> bool:
    return ask.duplicate_kind in ATTACHING and ask.duplicate_of is not None


def alone_reasons(
    asks: Sequence[AloneAsk],
    vectors: npt.NDArray[np.float32],
    *,
    theme_ids: Sequence[str],
    centres: npt.NDArray[np.floating[Any]],
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
    out: list[AloneReason] = []
    if n == 0:
        return out
    rows = l2_normalize(vectors)
    known = np.linalg.norm(rows, axis=1) > 0
    theme_best = np.full(n, -1, dtype=np.int64)
    theme_sims = np.full(n, np.nan, dtype=np.float32)
    if len(theme_ids):
        to_theme = rows @ np.asarray(centres, dtype=np.float32).T
        theme_best = np.argmax(to_theme, axis=1)
        theme_sims = to_theme[np.arange(n), theme_best]
    # another person's ask: not the same author, not a repeat (a repeat is a mention of the ask
    # it repeats, not a second person's ask beside it), and with a vector
    codes = np.unique(np.array([ask.author for ask in asks], dtype=object), return_inverse=True)[1]
    repeats = np.array([_repeats(ask) for ask in asks], dtype=bool)
    to_ask = rows @ rows.T
    to_ask[codes[:, None] == codes[None, :]] = -np.inf
    to_ask[:, repeats | ~known] = -np.inf
    ask_best = np.argmax(to_ask, axis=1)
    ask_sims = to_ask[np.arange(n), ask_best]
    for i, ask in enumerate(asks):
        theme, theme_sim = None, None
        if known[i] and theme_best[i] >= 0:
            theme, theme_sim = theme_ids[int(theme_best[i])], round(float(theme_sims[i]), 4)
        other, ask_sim = None, None
        if known[i] and np.isfinite(ask_sims[i]):
            other, ask_sim = asks[int(ask_best[i])].suggestion_id, round(float(ask_sims[i]), 4)
        if repeats[i]:
            reason = "repeat"
        elif ask.duplicate_kind == "review":
            reason = "under_review"
        elif ask_sim is not None and ask_sim >= config.emerging_threshold and (
            config.other_languages_found or not (ask.other_language or asks[int(ask_best[i])].other_language)
        ):
            reason = "near_ask"
        elif theme_sim is not None and theme_sim >= config.reassign_threshold:
            reason = "near_theme"
        elif ask.other_language and not config.other_languages_found:
            reason = "other_language"
        else:
            reason = "unique"
        out.append(AloneReason(ask.suggestion_id, reason, theme, theme_sim, other, ask_sim))
    return out
