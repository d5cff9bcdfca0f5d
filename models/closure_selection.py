"""Who a closure thanks: the asks made before the change shipped that asked for what shipped.

A theme's members are candidates, not thanks. Each ask gets one verdict (:class:`Verdict`)
and the rule that decided it:

1. **Time** (:func:`shipped_cutoff`). An ask made after the change shipped (after the end, UTC,
   of the release's date; the ship command's time when the release has no date) did not ask for
   this release: it stays in the theme, ``asked_after_shipping``, and is never thanked for it.
2. **Relevance** (:func:`judge_relevance`). Each remaining ask is compared (cosine, the pipeline's
   embeddings) with what shipped (the product manager's title and the release note's line closest
   to the theme) and with the theme's centre. The bands are not fixed cosines: they come from
   the theme's own spread (:class:`ThemeSpread`), the cosines of its sampled members to its
   centre. The shipped text is read as the centre of the theme people would have formed had
   they asked for exactly what shipped, with this theme's spread:

   - *thanked*: the ask is at least as close to what shipped as this theme's typical (median)
     member is to its centre, or the ask sits in the core of the theme (its centre cosine at or
     above the typical member's) while being at least as close to what shipped as the theme's
     centre itself is (the theme as a whole asked for it);
   - *left out*: the ask is farther from what shipped than the theme's lowest-decile member is
     from its centre (it would not be a member of a theme about what shipped);
   - *held* for a product manager: between the two.

   Without a model (no embedder), relevance is not judged: every ask made before shipping is
   thanked, and the rule says so.

Nothing here touches a broker, a database or a clock: the caller passes vectors and times.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float32]

RULE_AFTER_SHIPPING = "time: asked after the change shipped"
RULE_DECLINED = "declined: everyone who asked hears why"
RULE_NO_MODEL = "time only: asked before shipping (relevance not judged without a model)"
RULE_MATCHES_RELEASE = "relevance: as close to what shipped as a typical member is to the theme's centre"
RULE_THEME_CORE = "relevance: in the theme's core, and as close to what shipped as the theme's centre is"
RULE_FAR_FROM_RELEASE = (
    "relevance: farther from what shipped than the theme's lowest-decile member is from its centre"
)
RULE_UNCERTAIN = "relevance: between the bands, held for a product manager"

MIN_LINE_WORDS = 3
MAX_LINE_WORDS = 24
_LINE_BREAK = re.compile(r"[\n•]|(?<=[.!?])\s+")


class Verdict(StrEnum):
    """What a closure does with one ask."""

    THANKED = "thanked"
    HELD = "held"
    LEFT_OUT = "left_out"
    AFTER_SHIPPING = "asked_after_shipping"


@dataclass(frozen=True)
class AskJudgement:
    """One ask's verdict, the rule that decided it and its cosines (None when not computed)."""

    suggestion_id: str
    verdict: Verdict
    rule: str
    release_similarity: float | None = None
    centre_similarity: float | None = None


@dataclass(frozen=True)
class ThemeSpread:
    """How tightly a theme's members sit around its centre: cosines of its sampled members to the
    centre. ``typical`` is their median, ``low`` their 10th percentile.
    """

    typical: float
    low: float

    @classmethod
    def of(cls, member_vectors: FloatMatrix, centre: npt.NDArray[np.float32]) -> ThemeSpread:
        """The spread of ``member_vectors`` ``(n, d)`` (unit rows) around ``centre`` ``(d,)`` (unit)."""
        if len(member_vectors) == 0:
            raise ValueError("a theme's spread needs at least one member vector")
        cosines = np.asarray(member_vectors, dtype=np.float64) @ np.asarray(centre, dtype=np.float64)
        return cls(typical=float(np.median(cosines)), low=float(np.percentile(cosines, 10)))


def shipped_cutoff(released_on: date | None, shipped_at: datetime) -> datetime:
    """The last moment an ask counts as made before the change shipped: the end of the release's
    day (UTC) when the release has a date, else ``shipped_at`` (the ship command's time).
    """
    if shipped_at.tzinfo is None:
        raise ValueError("shipped_at must be timezone-aware")
    if released_on is None:
        return shipped_at
    return datetime.combine(released_on + timedelta(days=1), time(0), tzinfo=UTC) - timedelta(microseconds=1)


def asked_before(asked_at: datetime, cutoff: datetime) -> bool:
    """Whether an ask made at ``asked_at`` (timezone-aware) came before the change shipped."""
    if asked_at.tzinfo is None:
        raise ValueError("asked_at must be timezone-aware")
    return asked_at <= cutoff


def note_lines(note: str | None) -> list[str]:
    """The release note's lines that can name a change (3 to 24 words, bullets and periods stripped)."""
    lines = [part.strip(" •-*\t").rstrip(".") for part in _LINE_BREAK.split(note or "")]
    return [line for line in lines if MIN_LINE_WORDS <= len(line.split()) <= MAX_LINE_WORDS]


def shipped_texts(
    title: str, note: str | None, line_vectors: FloatMatrix | None, centre: npt.NDArray[np.float32]
) -> list[str]:
    """What shipped, as texts to embed: the title, and the note's line closest to ``centre``
    when ``line_vectors`` (the embeddings of :func:`note_lines`) are given.
    """
    texts = [title.strip("“”\"' ")] if title.strip("“”\"' ") else []
    lines = note_lines(note)
    if lines and line_vectors is not None and len(line_vectors) == len(lines):
        texts.append(lines[int(np.argmax(np.asarray(line_vectors) @ centre))])
    return texts


def judge_relevance(
    *,
    suggestion_ids: Sequence[str],
    ask_vectors: FloatMatrix,
    shipped_vectors: FloatMatrix,
    centre: npt.NDArray[np.float32],
    spread: ThemeSpread,
) -> list[AskJudgement]:
    """The relevance verdict of each ask made before shipping (see the module's docstring).

    ``ask_vectors`` ``(n, d)`` follow ``suggestion_ids``; ``shipped_vectors`` ``(m, d)``, m >= 1,
    embed what shipped (an ask's release similarity is its best cosine to any of them);
    ``centre`` ``(d,)`` is the theme's unit centre. All rows are unit length.
    """
    if len(suggestion_ids) != len(ask_vectors):
        raise ValueError("one vector per ask")
    if len(shipped_vectors) == 0:
        raise ValueError("relevance needs at least one embedding of what shipped")
    asks = np.asarray(ask_vectors, dtype=np.float64)
    shipped = np.asarray(shipped_vectors, dtype=np.float64)
    to_release = (asks @ shipped.T).max(axis=1) if len(asks) else np.zeros(0)
    to_centre = asks @ np.asarray(centre, dtype=np.float64)
    centre_to_release = float((shipped @ np.asarray(centre, dtype=np.float64)).max())
    judged = []
    for suggestion_id, release, core in zip(suggestion_ids, to_release, to_centre, strict=True):
        if release >= spread.typical:
            verdict, rule = Verdict.THANKED, RULE_MATCHES_RELEASE
        elif core >= spread.typical and release >= centre_to_release:
            verdict, rule = Verdict.THANKED, RULE_THEME_CORE
        elif release < spread.low:
            verdict, rule = Verdict.LEFT_OUT, RULE_FAR_FROM_RELEASE
        else:
            verdict, rule = Verdict.HELD, RULE_UNCERTAIN
        judged.append(
            AskJudgement(suggestion_id, verdict, rule, round(float(release), 4), round(float(core), 4))
        )
    return judged
