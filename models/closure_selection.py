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
     the theme (``c0``, its cosine to the centre, at least ``low``, or at least :data:`SAME_IDEA`
     in a theme tighter than that), the prediction is
     ``centre cosine * c0`` (one line of text sits farther from every ask than the averaged centre
     does); otherwise the ask's centre cosine itself: what shipped is one item of a wider theme,
     and an ask much closer to the theme's average than to the change asked for something else
     nearby (a catch-all's "more features", another item of the same screen).
   - *did the theme as a whole ask for it?* When ``c0`` is at least ``low`` (or :data:`SAME_IDEA`),
     an ask that is a real member of the theme (centre cosine at least ``floor``) asked for what
     shipped, whatever its cosine to one line: a short title ("GPX export") sits far from every
     long ask.

   *Thanked* when either says yes. When the theme as a whole asked for it, *left out* only when
   the ask is one width beyond ``floor`` both from the centre and from what shipped; otherwise
   *left out* when its release cosine is below ``floor - width`` or it falls short of the
   prediction by more than ``2 * width``; *held* for a product manager in between.

   When no one but the theme names what shipped (no title from a product manager with the command
   or as the theme's name, and no note line), the title is the theme's own words, picked from its
   asks, and says nothing the theme does not: the theme's centre stands for what shipped
   (:func:`embed_what_shipped`), so the bands thank its real members and hold or leave out the rest.

   Without a model (no embedder), relevance is not judged: every ask made before shipping is
   thanked, and the rule says so.
3. **Contrast** (does the ask match *this* change better than the alternatives?). What shipped
   for the theme is the title and the note's lines that are about the theme (the closest line,
   and any other as close to the centre as the theme's lowest decile: an ask is compared with the
   one it matches best); the note's other lines are the release's other changes. An ask the
   bands would thank is *held* for a product manager when it is closer to one of the release's
   other changes than to what shipped (it asked for that change, which this closure does not
   name), or closer to another theme's centre than to both its own theme's centre and what
   shipped (a catch-all's stray: it asked for what another theme asks). *Left out* instead when
   that other change is more than one width closer than what shipped.

Nothing here touches a broker, a database or a clock: the caller passes vectors and times.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from models.embedding import l2_normalize
from models.themes.config import ThemeConfig

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
RULE_THE_THEME = (
    "what shipped is named only by the theme's own title (no title from a product manager, no note): "
    "the theme's centre stands for it"
)
RULE_MEMBER_OF_WHAT_SHIPPED = (
    "relevance: what shipped is what the theme as a whole asked for, and this ask is one of its members"
)
RULE_LOOSE_MEMBER = (
    "relevance: farther from the theme's centre than its loosest members and from what shipped"
)
RULE_OTHER_CHANGE = (
    "contrast: closer to another change of the release than to what shipped, held for a product manager"
)
RULE_FAR_OTHER_CHANGE = "contrast: much closer to another change of the release than to what shipped"
RULE_OTHER_THEME = (
    "contrast: closer to another theme's centre than to its own theme's and to what shipped, "
    "held for a product manager"
)
RULE_PLACED = "a product manager placed this ask in the theme"


# Cosine differences this small between two texts say nothing (two phrasings of one ask differ by
# more): a theme of near-identical members (exact repeats, a test's synthetic vectors) gets bands
# at least this wide instead of bands that split it on noise.
MIN_WIDTH = 0.02
SAME_IDEA = ThemeConfig.found_threshold
"""Cosine at which what shipped stands for a theme as a whole however tight the theme is: the
theme engine's founding level (``ThemeConfig.found_threshold``, 0.65, "probably the same idea"). A
theme of near-repeats ("share live location with family") has its lowest decile near 0.9, which
no release note's wording reaches: without this cap every member of the tightest themes, the
clearest asks, would be left out."""
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


def placed_judgement(judgement: AskJudgement) -> AskJudgement:
    """The verdict on an ask a product manager placed in the theme (a ``place`` command): a person
    read it and found it asks for the theme's idea, so it is thanked when asked before shipping,
    whatever the cosines say (an ask after shipping stays so).
    """
    if judgement.verdict is Verdict.AFTER_SHIPPING:
        return judgement
    return replace(judgement, verdict=Verdict.THANKED, rule=RULE_PLACED)


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

    @property
    def whole(self) -> float:
        """The centre cosine from which what shipped is what the theme as a whole asked for: the
        lowest decile, at most :data:`SAME_IDEA`.
        """
        return min(self.low, SAME_IDEA)

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
    lines = [part.strip(" •-*\t").rstrip(".").strip() for part in _LINE_BREAK.split(note or "")]
    return [line for line in lines if MIN_LINE_WORDS <= len(line.split()) <= MAX_LINE_WORDS]


def theme_line_indices(
    line_vectors: FloatMatrix, centre: npt.NDArray[np.float32], spread: ThemeSpread | None = None
) -> list[int]:
    """Which note lines ``(k, d)`` are about the theme: the one closest to ``centre``, and, given
    the theme's ``spread``, every other line at least as close to the centre as its lowest decile.
    """
    if len(line_vectors) == 0:
        return []
    cosines = np.asarray(line_vectors, dtype=np.float64) @ np.asarray(centre, dtype=np.float64)
    closest = int(np.argmax(cosines))
    if spread is None:
        return [closest]
    return [i for i, cosine in enumerate(cosines) if i == closest or cosine >= spread.low]


def shipped_texts(
    title: str,
    note: str | None,
    line_vectors: FloatMatrix | None,
    centre: npt.NDArray[np.float32],
    spread: ThemeSpread | None = None,
) -> list[str]:
    """What shipped, as texts to embed: the title, and the note's lines about the theme
    (:func:`theme_line_indices`; without ``spread`` the line closest to ``centre``) when
    ``line_vectors`` (the embeddings of :func:`note_lines`) are given.
    """
    texts = [title.strip("“”\"' ")] if title.strip("“”\"' ") else []
    lines = note_lines(note)
    if lines and line_vectors is not None and len(line_vectors) == len(lines):
        texts += [lines[i] for i in theme_line_indices(line_vectors, centre, spread) if lines[i] not in texts]
    return texts


@dataclass(frozen=True)
class WhatShipped:
    """What a closure names, embedded: ``texts`` and their unit ``vectors`` ``(m, d)`` (the title
    and the note's lines about the theme), and ``other_vectors`` ``(k, d)``, the note's other lines
    (the release's other changes; ``(0, d)`` when there are none).
    """

    texts: list[str]
    vectors: FloatMatrix
    other_vectors: FloatMatrix
    by_theme: bool = False
    """True when the theme's centre stands for what shipped (:data:`RULE_THE_THEME`)."""


def embed_what_shipped(
    title: str,
    note: str | None,
    centre: npt.NDArray[np.float32],
    embed: Callable[[list[str]], FloatMatrix],
    *,
    spread: ThemeSpread | None = None,
    fallback: str = "this change",
    named: bool = True,
) -> WhatShipped:
    """What shipped (:func:`shipped_texts`) and the release's other changes, with their unit
    embeddings, from one call of ``embed`` over the title and the note's lines; ``fallback``
    stands in when neither names anything.

    ``named`` False says the title is the theme's own (picked from its asks: no product manager
    wrote it, with the command or as the theme's name). With no note line either, nothing but the
    theme says what shipped, so the theme's ``centre`` stands for it (:data:`RULE_THE_THEME`): its
    real members are thanked, its loose ones held, its strays left out. A title of a word or two
    picked from the asks ("Live", "Km") sits far from every ask and would leave them all out.
    """
    lines = note_lines(note)
    clean_title = title.strip("“”\"' ") or fallback
    if not named and not lines:
        unit_centre = l2_normalize(np.asarray(centre, dtype=np.float32)[None, :])
        none = np.zeros((0, unit_centre.shape[1]), dtype=np.float32)
        return WhatShipped([clean_title], unit_centre, none, by_theme=True)
    vectors = l2_normalize(embed([clean_title, *lines]))
    row_of = {clean_title: 0, **{line: 1 + i for i, line in enumerate(lines)}}
    line_vectors = vectors[1:] if lines else None
    texts = shipped_texts(clean_title, note, line_vectors, centre, spread) or [clean_title]
    others = [1 + i for i, line in enumerate(lines) if line not in texts]
    return WhatShipped(texts, vectors[[row_of[text] for text in texts]], vectors[others])


def judge_relevance(
    *,
    suggestion_ids: Sequence[str],
    ask_vectors: FloatMatrix,
    shipped_vectors: FloatMatrix,
    centre: npt.NDArray[np.float32],
    spread: ThemeSpread,
    other_changes: FloatMatrix | None = None,
    other_centres: FloatMatrix | None = None,
) -> list[AskJudgement]:
    """The relevance verdict of each ask made before shipping (see the module's docstring).

    ``ask_vectors`` ``(n, d)`` follow ``suggestion_ids``; ``shipped_vectors`` ``(m, d)``, m >= 1,
    embed what shipped (an ask's release similarity is its best cosine to any of them);
    ``centre`` ``(d,)`` is the theme's unit centre. ``other_changes`` ``(k, d)`` embed the
    release's other changes (:attr:`WhatShipped.other_vectors`) and ``other_centres`` ``(t, d)``
    the product's other themes' unit centres, for the contrast (none: no contrast). All rows
    are unit length.
    """
    if len(suggestion_ids) != len(ask_vectors):
        raise ValueError("one vector per ask")
    if len(shipped_vectors) == 0:
        raise ValueError("relevance needs at least one embedding of what shipped")
    asks = np.asarray(ask_vectors, dtype=np.float64)
    shipped = np.asarray(shipped_vectors, dtype=np.float64)
    to_release = (asks @ shipped.T).max(axis=1) if len(asks) else np.zeros(0)
    to_centre = asks @ np.asarray(centre, dtype=np.float64)
    to_change = _best_cosines(asks, other_changes)
    to_theme = _best_cosines(asks, other_centres)
    centre_to_release = float((shipped @ np.asarray(centre, dtype=np.float64)).max())
    judged = []
    for i, suggestion_id in enumerate(suggestion_ids):
        release, core = float(to_release[i]), float(to_centre[i])
        verdict, rule = _band_verdict(release, core, centre_to_release, spread)
        if verdict is Verdict.THANKED:
            verdict, rule = _contrast(release, core, float(to_change[i]), float(to_theme[i]), spread.width,
                                      (verdict, rule))
        judged.append(AskJudgement(suggestion_id, verdict, rule, round(release, 4), round(core, 4)))
    return judged


def _best_cosines(asks: npt.NDArray[np.float64], others: FloatMatrix | None) -> npt.NDArray[np.float64]:
    """Each ask's best cosine to any row of ``others`` (``-1`` when there are none)."""
    if others is None or len(others) == 0 or len(asks) == 0:
        return np.full(len(asks), -1.0)
    best: npt.NDArray[np.float64] = (asks @ np.asarray(others, dtype=np.float64).T).max(axis=1)
    return best


def _band_verdict(
    release: float, core: float, centre_to_release: float, spread: ThemeSpread
) -> tuple[Verdict, str]:
    """The verdict of the relevance bands (rule 2 of the module's docstring)."""
    floor, width = spread.floor, spread.width
    whole_theme = centre_to_release >= spread.whole
    gap = (core * centre_to_release if whole_theme else core) - release
    if release >= floor and gap <= width:
        return Verdict.THANKED, RULE_MATCHES_RELEASE
    if whole_theme and core >= floor:
        # What shipped is what the theme as a whole asked for: a real member asked for it,
        # whatever its cosine to one line (a short title sits far from every long ask).
        return Verdict.THANKED, RULE_MEMBER_OF_WHAT_SHIPPED
    if whole_theme:
        far = core < floor - width and release < floor - width
        return (Verdict.LEFT_OUT, RULE_LOOSE_MEMBER) if far else (Verdict.HELD, RULE_UNCERTAIN)
    if release < floor - width:
        return Verdict.LEFT_OUT, RULE_FAR_FROM_RELEASE
    if gap > 2 * width:
        return Verdict.LEFT_OUT, RULE_SOMETHING_ELSE
    return Verdict.HELD, RULE_UNCERTAIN


def _contrast(
    release: float, core: float, to_change: float, to_theme: float, width: float, thanked: tuple[Verdict, str]
) -> tuple[Verdict, str]:
    """Rule 3 of the module's docstring, for an ask the bands thank (``thanked``): whether it
    matches this change better than the release's other changes and the other themes.
    """
    if to_change > release + width:
        return Verdict.LEFT_OUT, RULE_FAR_OTHER_CHANGE
    if to_change > release:
        return Verdict.HELD, RULE_OTHER_CHANGE
    if to_theme > max(core, release):
        return Verdict.HELD, RULE_OTHER_THEME
    return thanked
