"""The impact of what shipped, as pure functions: event-time weeks, praise, and a week's figures.

A shipped closure has a cut-off (:func:`models.closure_selection.shipped_cutoff`): asks made
after it are asks after shipping. Its impact is followed for :data:`IMPACT_WEEKS` event-time
weeks after the cut-off: week ``k`` (1-based) is ``(cutoff + (k-1) weeks, cutoff + k weeks]``.

* **Before**: the asks made in the :data:`~contracts.impact.WEEKS_BEFORE` (26) weeks up to the
  cut-off, as a rate per week over the weeks observed: 26, or fewer when the theme's first ask in
  that span is younger (rounded up, at least one week), so that a theme born a fortnight before
  shipping is not averaged over months it did not exist.
* **After**: the asks of week ``k`` alone, and of weeks 1 to ``k`` as a rate per week over ``k``.
* **Praise** (:func:`is_praise`): a comment that is not an ask and is positive. It follows a
  closure when it was written after the cut-off, within the 12 weeks, and either its author asked
  in the theme before shipping or its embedding is in the theme's neighbourhood (cosine to the
  theme's centre at least the theme's own lowest decile: as close as nine in ten of its members).

Nothing here touches a broker, a database or a clock: callers pass times and vectors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.events import CommentClassified, CommentFields, Verdict
from contracts.impact import IMPACT_WEEKS, WEEKS_BEFORE, ClosureImpact
from models.text import own_words

WEEK = timedelta(days=7)
PRAISE_RATING = 4
"""A store rating at least this high is praise (when the comment is not an ask)."""
JUDGED_REASONS = frozenset(
    {"classifier", "first_stage", "praise", "service_request", "fix_request", "instruction"}
)
"""Reasons of a ``not_suggestion`` verdict given by judging the words (not moderation, not empty)."""

_PRAISE_WORDS = re.compile(
    r"\b(love|loving|loved|great|awesome|excellent|amazing|perfect|perfectly|fantastic|thanks?|"
    r"thank you|finally|works (well|great|fine|perfectly|now)|helpful|brilliant|nice|wonderful)\b",
    re.IGNORECASE,
)
_COMPLAINT_WORDS = re.compile(
    r"\b(not|no|never|can't|cannot|won't|doesn't|don't|isn't|didn't|bug|bugs|crash|crashes|crashing|"
    r"broken|broke|fails?|failing|worst|terrible|awful|hate|useless|slow|please)\b|n't\b",
    re.IGNORECASE,
)


PRAISE_WORDS_EMBEDDED = 48
"""Praise is embedded by its opening words only: what a person says works sits up front, and a
long five-star review would otherwise cost the encoder as much as several asks."""


def praise_text(comment: CommentFields) -> str:
    """The words of a praise comment that are embedded (its first :data:`PRAISE_WORDS_EMBEDDED`)."""
    return " ".join(own_words(comment.text).split()[:PRAISE_WORDS_EMBEDDED])


def is_praise(classified: CommentClassified) -> bool:
    """Whether a judged comment is praise (:func:`judged_praise` of its comment and verdict)."""
    return judged_praise(classified.comment, verdict=classified.verdict, reason=classified.reason)


def judged_praise(comment: CommentFields, *, verdict: Verdict, reason: str) -> bool:
    """Whether ``comment``, judged ``verdict`` for ``reason``, is praise: judged not an ask by its
    words (not moderated, not empty), and positive: its store rating is at least
    :data:`PRAISE_RATING`, or, without a rating, it has words of praise and none of complaint or
    request.
    """
    if verdict is not Verdict.NOT_SUGGESTION or reason not in JUDGED_REASONS:
        return False
    if comment.rating is not None:
        return comment.rating >= PRAISE_RATING
    return bool(_PRAISE_WORDS.search(comment.text)) and not _COMPLAINT_WORDS.search(comment.text)


def week_after(at: datetime, cutoff: datetime) -> int | None:
    """The week after shipping (1 to 12) that ``at`` falls in, None before the cut-off or after week 12."""
    if at <= cutoff:
        return None
    week = math.ceil((at - cutoff) / WEEK)
    return week if week <= IMPACT_WEEKS else None


def week_bounds(cutoff: datetime, week: int) -> tuple[datetime, datetime]:
    """``(start, end]`` of week ``week`` after ``cutoff``."""
    return cutoff + (week - 1) * WEEK, cutoff + week * WEEK


def weeks_ended(cutoff: datetime, seen: datetime | None) -> int:
    """How many weeks after ``cutoff`` have ended by event time ``seen`` (0 to 12): week ``k``
    has ended once something written after its end has been seen.
    """
    if seen is None or seen <= cutoff:
        return 0
    return min(IMPACT_WEEKS, math.ceil((seen - cutoff) / WEEK) - 1)


@dataclass(frozen=True)
class Ask:
    """One ask of a theme: when it was made and by whom (an author hash)."""

    at: datetime
    person: str


@dataclass(frozen=True)
class Praise:
    """One follow-up praise comment: when, by whom, and whether they asked before shipping."""

    at: datetime
    person: str
    asker: bool


@dataclass(frozen=True)
class WeekFigures:
    """The figures of one week after shipping (see :class:`contracts.impact.ClosureImpact`)."""

    weeks_before: int
    asks_before: int
    people_before: int
    asks_before_per_week: float
    asks_in_week: int
    people_in_week: int
    asks_after: int
    people_after: int
    asks_after_per_week: float
    change: float | None
    praise_in_week: int
    follow_up_praise: int
    praising_askers: int
    praising_people: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def before_figures(asks: Iterable[Ask], cutoff: datetime) -> tuple[int, int, int, float]:
    """``(weeks observed, asks, distinct people, asks per week)`` of the asks made in the 26 weeks
    up to ``cutoff``.
    """
    start = cutoff - WEEKS_BEFORE * WEEK
    before = [ask for ask in asks if start < ask.at <= cutoff]
    if not before:
        return WEEKS_BEFORE, 0, 0, 0.0
    observed = cutoff - min(ask.at for ask in before)
    weeks = min(WEEKS_BEFORE, max(1, math.ceil(observed / WEEK)))
    return weeks, len(before), len({ask.person for ask in before}), round(len(before) / weeks, 4)


def week_figures(
    asks: Iterable[Ask], praise: Iterable[Praise], *, cutoff: datetime, week: int
) -> WeekFigures:
    """The figures of week ``week`` (1 to 12) after ``cutoff`` from a theme's asks (all of them:
    before and after) and its follow-up praise.
    """
    if not 1 <= week <= IMPACT_WEEKS:
        raise ValueError(f"week must be 1 to {IMPACT_WEEKS}, not {week}")
    asks = list(asks)
    weeks_before, asks_before, people_before, rate_before = before_figures(asks, cutoff)
    placed = [(week_after(ask.at, cutoff), ask) for ask in asks]
    in_week = [ask for k, ask in placed if k == week]
    so_far = [ask for k, ask in placed if k is not None and k <= week]
    praised = [(week_after(p.at, cutoff), p) for p in praise]
    praise_so_far = [p for k, p in praised if k is not None and k <= week]
    rate_after = round(len(so_far) / week, 4)
    return WeekFigures(
        weeks_before=weeks_before,
        asks_before=asks_before,
        people_before=people_before,
        asks_before_per_week=rate_before,
        asks_in_week=len(in_week),
        people_in_week=len({ask.person for ask in in_week}),
        asks_after=len(so_far),
        people_after=len({ask.person for ask in so_far}),
        asks_after_per_week=rate_after,
        change=round(rate_after / rate_before - 1.0, 4) if rate_before > 0 else None,
        praise_in_week=sum(1 for k, _ in praised if k == week),
        follow_up_praise=len(praise_so_far),
        praising_askers=len({p.person for p in praise_so_far if p.asker}),
        praising_people=len({p.person for p in praise_so_far}),
    )


def in_neighbourhood(cosine: float, threshold: float | None) -> bool:
    """Whether a comment at ``cosine`` to a theme's centre is in its neighbourhood (``threshold``
    None: the theme's centre was not known when it shipped, so nothing is).
    """
    return threshold is not None and cosine >= threshold


def month_end(month: str) -> datetime:
    """The first moment after ``month`` (``YYYY-MM``, UTC)."""
    year, number = (int(part) for part in month.split("-"))
    return datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)


def impact_sentences(impacts: Iterable[ClosureImpact], *, product: str, month: str) -> list[str]:
    """For a monthly update of ``product`` for ``month``: one sentence per closure shipped before
    ``month`` with at least one week ended by the month's end, on how the asking changed (the
    latest such week of each: before rate, after rate, change) and who said it works; oldest first.
    """
    start, end = month_end(month) - timedelta(days=1), month_end(month)
    start = start.replace(day=1)
    latest: dict[str, ClosureImpact] = {}
    for impact in impacts:
        if impact.product != product or impact.shipped_at >= start or impact.week_end > end:
            continue
        known = latest.get(impact.closure_id)
        if known is None or (impact.week, impact.version) > (known.week, known.version):
            latest[impact.closure_id] = impact
    sentences = []
    for impact in sorted(latest.values(), key=lambda i: (i.shipped_at, i.closure_id)):
        weeks = f"{impact.week} {'week' if impact.week == 1 else 'weeks'}"
        change = "" if impact.change is None else f" ({impact.change:+.0%})"
        praise = (
            f"; {impact.follow_up_praise} said it works ({impact.praising_askers} of those who asked)"
            if impact.follow_up_praise else ""
        )
        sentences.append(
            f"“{impact.title}” (shipped {impact.shipped_at:%Y-%m-%d}): {impact.asks_before_per_week:.1f} "
            f"asks a week before, {impact.asks_after_per_week:.1f} in the {weeks} after{change}{praise}."
        )
    return sentences
