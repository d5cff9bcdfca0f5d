"""Which open themes a release note ships: proposals for a product manager to confirm.

:func:`propose_release_matches` compares the release note's embedding with each open theme's
centroid (cosine similarity; both are L2-normalized here, so callers need not) and lists the
themes at or above ``min_similarity``, best first, each with the words the note shares with the
theme's label and representative text, so the PM sees why it was proposed. It never changes
a theme's status: shipping stays a person's decision (a ``SetStatus`` command).

Default ``min_similarity = 0.45`` (cosine, all-MiniLM-L6-v2 embeddings): a release note
describes the change in the product's words while requests describe the need in the user's,
so the match sits below the 0.60 used for duplicate requests (:mod:`models.duplicates`);
below about 0.45 notes and requests usually share only the product's general vocabulary. It
is a starting point, not tuned on labelled release notes; a false proposal costs one click
to dismiss, a missed one a manual search.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

logger = logging.getLogger(__name__)

DEFAULT_MIN_SIMILARITY = 0.45
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


@dataclass(frozen=True)
class OpenTheme:
    """An open theme as matching needs it: ``centroid`` is its mean embedding, shape ``(d,)``."""

    theme_id: str
    label: str
    representative_text: str
    centroid: Sequence[float] | npt.NDArray[np.floating[Any]]


@dataclass(frozen=True)
class ReleaseMatch:
    """A proposed (theme, release) pair: ``similarity`` is a cosine in [-1, 1]."""

    theme_id: str
    label: str
    similarity: float
    keywords: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"theme_id": self.theme_id, "label": self.label, "similarity": self.similarity,
                "keywords": list(self.keywords)}


def _stem(word: str) -> str:
    """A light English stem so 'exports' meets 'export' and 'syncing' meets 'sync'."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> dict[str, str]:
    """Stem -> first surface form of the non-stop words of ``text`` (3+ letters, lower case)."""
    words: dict[str, str] = {}
    for match in _WORD.finditer(text.lower()):
        word = match.group(0)
        if word not in ENGLISH_STOP_WORDS:
            words.setdefault(_stem(word), word)
    return words


def shared_keywords(release_note: str, theme_text: str) -> tuple[str, ...]:
    """Words of ``release_note`` whose stem also occurs in ``theme_text``, in note order."""
    theme_stems = content_words(theme_text)
    return tuple(word for stem, word in content_words(release_note).items() if stem in theme_stems)


def _unit(vector: npt.ArrayLike) -> npt.NDArray[np.float64] | None:
    array = np.asarray(vector, dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(array))
    if not np.isfinite(norm) or norm == 0.0:
        return None
    return array / norm


def propose_release_matches(
    *,
    release_note: str,
    note_embedding: npt.ArrayLike,
    themes: Sequence[OpenTheme],
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
    limit: int | None = None,
) -> list[ReleaseMatch]:
    """Open themes the release note likely ships, cosine >= ``min_similarity``, best first.

    ``note_embedding`` has shape ``(d,)`` like every theme centroid (ValueError otherwise);
    a zero vector matches nothing. Ties order by theme id; ``limit`` keeps the first ones.
    """
    note_vector = _unit(note_embedding)
    if note_vector is None:
        logger.warning("release note embedding is zero or not finite; no proposals")
        return []
    matches: list[ReleaseMatch] = []
    for theme in themes:
        centroid = _unit(theme.centroid)
        if centroid is None:
            logger.debug("theme %s has no usable centroid", theme.theme_id)
            continue
        if centroid.shape != note_vector.shape:
            raise ValueError(
                f"theme {theme.theme_id} centroid has {centroid.shape[0]} dimensions, "
                f"the release note {note_vector.shape[0]}"
            )
        similarity = float(np.clip(centroid @ note_vector, -1.0, 1.0))
        if similarity >= min_similarity:
            keywords = shared_keywords(release_note, f"{theme.label} {theme.representative_text}")
            matches.append(ReleaseMatch(theme.theme_id, theme.label, similarity, keywords))
    matches.sort(key=lambda match: (-match.similarity, match.theme_id))
    return matches[:limit] if limit is not None else matches
