"""Who a closure thanks: the asks made before the change shipped that asked for what shipped.

A theme's members are candidates, not thanks. Each ask gets one verdict (:class:`Verdict`)
and the rule that decided it:

1. **Time** (:func:`shipped_cutoff`). An ask made after the change shipped (after the end, UTC,
   of the release's date; the ship command's time when the release has no date) did not ask for
   this release: it stays in the theme, ``asked_after_shipping``, and is never thanked for it.
2. **Relevance** (:func:`judge_relevance`). Each remaining ask is compared (cosine, the pipeline's
   embeddings) with what shipped (the product manager's title and the release note's line closest
   to the theme; the best of them counts) and with the theme's centre. The bands are not fixed
   cosines: they come from the theme's own spread (:class:`ThemeSpread`), the cosines of its
   sampled members to its centre: ``low`` is their lowest decile, ``width`` the distance from
   there to their median (at least :data:`MIN_WIDTH`), and ``floor = low - width`` the edge of
   the theme (its loosest members stand about there). Two questions decide:

   - *did it ask for what shipped?* Its cosine to what shipped is at least ``floor`` (as close to
     what shipped as this theme's members are to their centre) and falls short of the cosine its
     place in the theme predicts by at most ``width``. When what shipped is an ordinary member of
     the theme (``c0``, its cosine to the centre, at least ``low``), the prediction is
     ``centre cosine * c0`` (one line of text sits farther from every ask than the averaged centre
     does); otherwise the ask's centre cosine itself: what shipped is one item of a wider theme,
     and an ask much closer to the theme's average than to the change asked for something else
     nearby (a catch-all's "more features", another item of the same screen).
   - *did the theme as a whole ask for it?* When ``c0`` is at least ``low``, an ask that is a real
     member of the theme (centre cosine at least ``floor``) asked for what shipped, whatever its
     cosine to one line: a short title ("GPX export") sits far from every long ask.

   *Thanked* when either says yes. When the theme as a whole asked for it, *left out* only when
   the ask is one width beyond ``floor`` both from the centre and from what shipped; otherwise
   *left out* when its release cosine is below ``floor - width`` or it falls short of the
   prediction by more than ``2 * width``; *held* for a product manager in between.

   Without a model (no embedder), relevance is not judged: every ask made before shipping is
   thanked, and the rule says so.

Nothing here touches a broker, a database or a clock: the caller passes vectors and times.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from models.embedding import l2_normalize

FloatMatrix = npt.NDArray[np.float32]

RULE_AFTER_SHIPPING = "time: asked after the change shipped"
RULE_DECLINED = "declined: everyone who asked hears why"
RULE_NO_MODEL = "time only: asked before shipping (relevance not judged without a model)"
RULE_MATCHES_RELEASE = "relevance: close to what shipped, as close as its place in the theme predicts"
RULE_FAR_FROM_RELEASE = "relevance: farther from what shipped than the theme's members are from its centre"
RULE_SOMETHING_ELSE = (
    "relevance: much farther from what shipped than its place in the theme predicts "
    "(asked for something else)"
)
RULE_UNCERTAIN = "relevance: between the bands, held for a product manager"
RULE_MEMBER_OF_WHAT_SHIPPED = (
    "relevance: what shipped is what the theme as a whole asked for, and this ask is one of its members"
)
RULE_LOOSE_MEMBER = (
    "relevance: farther from the theme's centre than its loosest members and from what shipped"
)

# Cosine differences this small between two texts say nothing (two phrasings of one ask differ by
# more): a theme of near-identical members (exact repeats, a test's synthetic vectors) gets bands
# at least this wide instead of bands that split it on noise.
MIN_WIDTH = 0.02
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
    """How tightly a theme's members sit around its centre, from the cosines of its sampled members
    to the centre: ``typical`` is their median, ``low`` their 10th percentile; ``width`` the
    distance between the two (how far apart two ordinary members of this theme may stand).
    """

    typical: float
    low: float

    @property
    def width(self) -> float:
        """``typical - low``, and never under :data:`MIN_WIDTH`."""
        return max(self.typical - self.low, MIN_WIDTH)

    @property
    def floor(self) -> float:
        """Where the theme's loosest members stand: one width below its lowest decile."""
        return self.low - self.width

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


def embed_what_shipped(
    title: str,
    note: str | None,
    centre: npt.NDArray[np.float32],
    embed: Callable[[list[str]], FloatMatrix],
    *,
    fallback: str = "this change",
) -> tuple[list[str], FloatMatrix]:
    """What shipped (:func:`shipped_texts`) and its unit embeddings, from one call of ``embed``
    over the title and the note's lines; ``fallback`` stands in when neither names anything.
    """
    lines = note_lines(note)
    clean_title = title.strip("“”\"' ") or fallback
    vectors = l2_normalize(embed([clean_title, *lines]))
    row_of = {clean_title: 0, **{line: 1 + i for i, line in enumerate(lines)}}
    texts = shipped_texts(clean_title, note, vectors[1:] if lines else None, centre) or [clean_title]
    return texts, vectors[[row_of[text] for text in texts]]


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
    floor, width = spread.floor, spread.width
    centre_to_release = float((shipped @ np.asarray(centre, dtype=np.float64)).max())
    whole_theme = centre_to_release >= spread.low
    judged = []
    for suggestion_id, release, core in zip(suggestion_ids, to_release, to_centre, strict=True):
        gap = (core * centre_to_release if whole_theme else core) - release
        if release >= floor and gap <= width:
            verdict, rule = Verdict.THANKED, RULE_MATCHES_RELEASE
        elif whole_theme and core >= floor:
            # What shipped is what the theme as a whole asked for: a real member asked for it,
            # whatever its cosine to one line (a short title sits far from every long ask).
            verdict, rule = Verdict.THANKED, RULE_MEMBER_OF_WHAT_SHIPPED
        elif whole_theme:
            far = core < floor - width and release < floor - width
            verdict, rule = (Verdict.LEFT_OUT, RULE_LOOSE_MEMBER) if far else (Verdict.HELD, RULE_UNCERTAIN)
        elif release < floor - width:
            verdict, rule = Verdict.LEFT_OUT, RULE_FAR_FROM_RELEASE
        elif gap > 2 * width:
            verdict, rule = Verdict.LEFT_OUT, RULE_SOMETHING_ELSE
        else:
            verdict, rule = Verdict.HELD, RULE_UNCERTAIN
        judged.append(
            AskJudgement(suggestion_id, verdict, rule, round(float(release), 4), round(float(core), 4))
        )
    return judged
