"""Contracts of what happened after a theme shipped: the praise that follows it and its impact.

* :class:`PraiseDetected` on ``feedback.praise`` (keyed by product, so that a product's praise
  meets its themes and closures in the themes agent's partition): a comment judged praise
  rather than an ask, with the embedding of its words.
* :class:`ClosureImpact` on the compacted ``feedback.closure-impact`` (keyed
  ``{closure_id}:{week}``): for one shipped closure and one event-time week after shipping, how
  many people kept asking against the weeks before, and who said afterwards that it works.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from contracts.events import CommentAccepted, Event, ReleaseRef

__all__ = ["IMPACT_WEEKS", "WEEKS_BEFORE", "ClosureImpact", "PraiseDetected"]

IMPACT_WEEKS = 12
"""How many weeks after shipping a closure's impact is followed."""
WEEKS_BEFORE = 26
"""How many weeks before the ship date a theme's asks are averaged over (fewer when the theme is
younger). Half a year, not twelve weeks: most asks wait in the pool until they form or join a
theme, so a theme's members are sparse, and a theme is asked for over months before it ships;
a shorter span would give many themes a rate of zero by chance."""


class PraiseDetected(Event):
    """A comment judged praise: not an ask, and positive (a store rating of 4 or 5, or, without a
    rating, words of praise and none of complaint); ``comment`` is the accepted comment.

    ``embedding`` (optional) is the unit vector of its opening words (the first 48) from
    ``embedding_model``. Since version 2 the classify stage sends none: only praise written in the
    12 weeks after a product shipped something, by someone who did not ask for it, needs a vector
    (the theme's neighbourhood), and the themes stage embeds those few itself. A producer may still
    send one; version 1 records, which always carried one, are read as before.
    """

    schema_version: Literal[1, 2] = 2
    comment: CommentAccepted
    embedding: list[float] | None = Field(default=None, min_length=1, max_length=4096)
    embedding_model: str | None = None
    detected_at: AwareDatetime


class ClosureImpact(Event):
    """The impact of one shipped closure in week ``week`` (1 to 12) after it shipped.

    Weeks are event-time weeks after ``shipped_at`` (the closure's cut-off: the end of the
    release's day, or the ship command's time): week ``k`` holds what was written in
    ``(week_start, week_end]``. A week is published once the event time of the product's
    comments passes its end; late records change its figures and publish it again with a
    higher ``version`` (latest wins on the compacted topic, keyed ``{closure_id}:{week}``).

    *Before*: the theme's asks (its members, the themes merged into it and their duplicates) made
    in the ``weeks_before`` weeks up to the cut-off (26, or fewer when the first ask is younger;
    at least 1), as a rate per week. *After*: the asks placed in the same themes in week ``week``
    and, cumulated, in weeks 1 to ``week`` (a rate per week over ``week`` weeks). ``change`` is
    the after rate over the before rate, minus one (-1.0: nobody asks any more; None: nobody
    asked before). *Praise*: comments judged praise in weeks 1 to ``week`` whose author asked in
    the theme before shipping, or that sit in the theme's neighbourhood.
    """

    schema_version: Literal[1] = 1
    closure_id: str
    product: str
    theme_id: str
    title: str
    release: ReleaseRef | None = None
    shipped_at: AwareDatetime = Field(description="The cut-off: asks after it are asks after shipping.")
    week: int = Field(ge=1, le=IMPACT_WEEKS)
    week_start: AwareDatetime
    week_end: AwareDatetime
    version: int = Field(ge=1, description="Raised each time the week's figures change.")
    weeks_before: int = Field(ge=1, le=WEEKS_BEFORE)
    asks_before: int = Field(ge=0)
    people_before: int = Field(ge=0, description="Distinct people among asks_before.")
    asks_before_per_week: float = Field(ge=0.0)
    asks_in_week: int = Field(ge=0)
    people_in_week: int = Field(ge=0)
    asks_after: int = Field(ge=0, description="Asks in weeks 1 to week.")
    people_after: int = Field(ge=0, description="Distinct people among asks_after.")
    asks_after_per_week: float = Field(ge=0.0)
    change: float | None = None
    praise_in_week: int = Field(ge=0)
    follow_up_praise: int = Field(ge=0, description="Praise comments in weeks 1 to week.")
    praising_askers: int = Field(
        ge=0, description="Distinct people who asked before shipping and praised in weeks 1 to week."
    )
    praising_people: int = Field(ge=0, description="Distinct people among follow_up_praise.")
    computed_at: AwareDatetime
