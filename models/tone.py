"""How an ask was said: urgently or not, and with what store rating.

Two of the impact score's factors (:mod:`models.scoring`) read them, summed over a theme's
mentions as a :class:`Tone`:

- **urgency**, the share of mentions whose comment says the ask cannot wait: words of urgency
  ("urgent", "asap", "desperately need", "deal breaker") or of leaving ("uninstalling",
  "cancel my subscription", "switching to another app", "one star until ..."). The cues are
  English word patterns (:data:`URGENT_CUES`), read over the whole comment, since a comment's
  threat to leave is often in another sentence than its ask; a comment in another language, or
  one that is urgent in other words, counts as not urgent, never as urgent by mistake.
- **negative tone**, the share of *rated* mentions whose store rating is 1 or 2 stars (of 5).
  Comments without a rating (posts, replies, forums) tell nothing about it: a theme none of whose
  mentions carries a rating has an unknown tone, which adds nothing to its impact and is said so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

NEGATIVE_RATING_MAX = 2
"""A store rating at or below this (of 5) makes a mention negative."""

URGENT_CUES = re.compile(
    r"""
    \burgent(?:ly)?\b | \basap\b | \bas\ soon\ as\ possible\b
    | \bdesperate(?:ly)?\b | \bbadly\ needs?\b | \bneeds?\ (?:\w+\ ){0,3}badly\b
    | \bdeal[\s-]?breakers?\b | \bshow[\s-]?stoppers?\b
    | (?:\buninstall(?:ed|ing|s)?\b | \bdelet(?:e|ed|ing)\ (?:the|this)\ app\b)
      (?!\W+(?:\w+\W+){0,3}?re-?(?:install|download))
    | \bcancel(?:l?ed|l?ing|s)?\ (?:my|our|the)\ (?:subscription|membership|plan|account)\b
    | \b(?:switch(?:ed|ing)?|mov(?:e|ed|ing)|go(?:ing)?\ back|went\ back)
      \ to\ (?:an?other|a\ different|a\ competitor(?:'s)?)
      \ (?:app|browser|platform|service|program|product|tool|provider|company)\b
    | \b(?:will|i'?ll|gonna|going\ to|about\ to|might|may|probably)\ (?:just\ )?(?:stop|quit)\ using\b
    | \b(?:one|1)[\s-]stars?\ until\b | \buntil\ (?:then|this\ is\ fixed|you\ (?:add|fix))\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
"""Words of urgency or of leaving the product, in English."""


def is_urgent(text: str) -> bool:
    """Whether ``text`` (a whole comment) says its ask cannot wait (:data:`URGENT_CUES`)."""
    return URGENT_CUES.search(text) is not None


@dataclass(frozen=True, slots=True)
class Tone:
    """How a number of mentions were said: ``urgent`` of them urgently, ``rated`` of them with a
    store rating, ``negative`` of those with 1 or 2 stars. Sums and differences are counts; a
    difference never goes below 0 (a mention taken away that was counted before a version that
    knew its tone).
    """

    urgent: int = 0
    rated: int = 0
    negative: int = 0

    @classmethod
    def of(cls, text: str, rating: int | None) -> Tone:
        """The tone of one mention: its whole comment's ``text`` and its store ``rating``."""
        rated = rating is not None
        return cls(
            urgent=int(is_urgent(text)),
            rated=int(rated),
            negative=int(rating is not None and rating <= NEGATIVE_RATING_MAX),
        )

    def __add__(self, other: Tone) -> Tone:
        return Tone(self.urgent + other.urgent, self.rated + other.rated, self.negative + other.negative)

    def __sub__(self, other: Tone) -> Tone:
        return Tone(
            max(0, self.urgent - other.urgent),
            max(0, self.rated - other.rated),
            max(0, self.negative - other.negative),
        )

    @property
    def negative_share(self) -> float | None:
        """Negative mentions over rated ones; None when no mention was rated (tone unknown)."""
        return min(1.0, self.negative / self.rated) if self.rated else None

    def to_dict(self) -> dict[str, int]:
        """JSON-able form (the zero counts left out)."""
        counts = {"urgent": self.urgent, "rated": self.rated, "negative": self.negative}
        return {k: v for k, v in counts.items() if v}

    @classmethod
    def from_dict(cls, data: Any) -> Tone:
        """Inverse of :meth:`to_dict`; a record written before tones existed reads as no tone."""
        if not isinstance(data, dict):
            return cls()
        return cls(*(max(0, int(data.get(k, 0))) for k in ("urgent", "rated", "negative")))


NO_TONE = Tone()
