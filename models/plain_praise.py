"""Plain praise: a unit that praises the product and asks for nothing is not an ask.

The unit judge reads a sentence embedding, and MiniLM places praise of a feature ("I really like
the added feature to connect with my family", "Love the ability to decide categories", "Screen
share is a great tool too") beside the asks for features: such units score above the judge's
threshold, and in a replay they gather into themes of praise. A unit is *plain praise* when

* it praises: it opens with a word of praise or with "I/we (really) love/like/enjoy/appreciate",
  or it says something is great, useful, easy, the best ("... is extremely useful", "works
  great", "thank you", "easy to use"); and
* it carries no sign of a request, a wish, a complaint or a problem: no question mark, no "wish",
  "would", "could", "should", "please", "need", "want", "hope", "add", "if", "but", "only",
  "more", "missing", "back", "again", "not"..., and no sentence that opens with a change verb
  ("Give us a way to switch it back", "Put our bookmarks back").

The second test is deliberately wide: a unit that praises *and* asks ("Love it, but it needs a
dark mode", "I'd love the ability to export", "Great app, please add widgets") is judged as
before. Plain-praise units are not embedded or scored; a comment whose every unit is plain praise
is not a suggestion (reason :data:`PRAISE_REASON`). English only: praise in another language is
judged as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

PRAISE_REASON = "praise"
"""The reason of a ``not_suggestion`` verdict whose every unit is plain praise."""

RULE_VERSION = "plain-praise-1"

_INTENSIFIER = (
    r"(?:so|really|very|extremely|super|pretty|just|absolutely|truly|incredibly|quite|such|a|an|the|"
    r"most|always|definitely)"
)
_GOOD = (
    r"(?:great|awesome|amazing|excellent|fantastic|wonderful|perfect|useful|helpful|easy|cool|fun|good|"
    r"nice|intuitive|brilliant|handy|fast|smooth|beautiful|lovely|incredible|superb|outstanding|best|"
    r"game\s*changer|lifesaver|life\s+saver|godsend|flawless(?:ly)?|perfectly|well)"
)
_PRAISE: tuple[re.Pattern[str], ...] = (
    # "I really love ...", "We like ...", "Everyone enjoys ..."
    re.compile(
        r"^\W*(?:i|we|everyone|everybody)\s+(?:\w+\s+){0,2}?(?:love[sd]?|like[sd]?|enjoy(?:s|ed)?|"
        r"appreciate[sd]?|adore[sd]?)\b",
        re.IGNORECASE,
    ),
    # "Love the ...", "Great app", "Awesome build-in support!", "Thanks"
    re.compile(
        r"^\W*(?:love|loving|loved|great|awesome|amazing|excellent|fantastic|wonderful|perfect|nice|cool|"
        r"brilliant|superb|outstanding|best|solid|beautiful|thank|thanks|thx|kudos|incredible|impressive|"
        r"lovely|fabulous|terrific|stellar|wow|yay)\b",
        re.IGNORECASE,
    ),
    # "... is extremely useful", "works great", "has been a lifesaver"
    re.compile(
        r"\b(?:is|are|was|were|'s|’s|has\s+been|have\s+been|looks|seems|works)\s+(?:"
        + _INTENSIFIER
        + r"\s+){0,2}"
        + _GOOD
        + r"\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:thank\s+you|thanks|well\s+done|good\s+job|great\s+job|great\s+work|keep\s+(?:it\s+)?up|"
        r"easy\s+to\s+use|best\s+app|5\s+stars|five\s+stars|love\s+(?:it|this|the|that|how|being))\b",
        re.IGNORECASE,
    ),
)

_NOT_PLAIN = re.compile(
    r"\?"
    r"|n'?t\b|n’t\b"
    r"|\b(?:wish|wishes|would|wud|could|should|shud|should'?ve|must|can\s+(?:you|u|we|i|they)"
    r"|please|pls|plz|plea+se|need|needs|needed|require[sd]?|want|wants|wanted|hope|hoping|hopefully"
    r"|expect|ask|asking|add|allow|let\s+(?:me|us|users|people)|make\s+(?:it|the|a|an|this|them)"
    r"|bring|give|put|change|switch|return|restore|turn|revert|go\s+back|back|before|used\s+to|old"
    r"|again|instead|rather|prefer|upgrade|option|options|idea|ideas|suggest|suggestion|suggestions"
    r"|request|requests|feature\s+request|hint"
    r"|why|if|only|but|however|except|exception|though|although|despite|besides|other\s+than"
    r"|apart\s+from|almost|yet|still|also|plus|more"
    r"|missing|miss|lack|lacks|lacking|shortcomings?|improve|improved|improvement|improvements"
    r"|can'?t\s+wait|cannot\s+wait|waiting|wait\s+for|looking\s+forward|soon|future|next|someday"
    r"|one\s+day|eventually"
    r"|not|no|never|nothing|without|fix|bug|bugs|crash\w*|issue|issues|problem|problems|shame"
    r"|unfortunately|sadly|too\s+bad"
    r"|i'?d|i’d|we'?d|we’d|it'?d|it’d|you'?d|you’d)\b",
    re.IGNORECASE,
)

_CHANGE_VERB_OPENING = re.compile(
    r"(?:^|[.!;]\s+)\W*(?:(?:please|pls|plz)\s+)?(?:add|make|let|give|allow|include|bring|support|show|"
    r"put|enable|implement|create|integrate|offer|provide|introduce|fix|change|stop|keep|remove|update|"
    r"get|go|have|switch|consider)\b",
    re.IGNORECASE,
)


def is_plain_praise(text: str) -> bool:
    """Whether ``text`` (one unit of a comment) praises and asks for nothing: see the module."""
    flat = " ".join(text.split())
    if _NOT_PLAIN.search(flat) or _CHANGE_VERB_OPENING.search(flat):
        return False
    return any(pattern.search(flat) for pattern in _PRAISE)


class _Gate(Protocol):
    """What the gate reads of the first stage in front of which it stands."""

    @property
    def threshold(self) -> float: ...

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]: ...


class PlainPraiseGate:
    """A unit gate (as :class:`models.judge_eval.UnitGate`) that rejects plain praise and passes
    the rest to ``inner`` (the first stage), or passes them all without one: the judge's path
    before the embedding, for the evaluation's contenders.
    """

    def __init__(self, inner: _Gate | None = None) -> None:
        self.inner = inner

    @property
    def threshold(self) -> float:
        return self.inner.threshold if self.inner is not None else 0.5

    @property
    def version(self) -> str:
        inner = getattr(self.inner, "version", None)
        return f"{inner}+{RULE_VERSION}" if inner else RULE_VERSION

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        plain = np.array([is_plain_praise(text) for text in texts], dtype=np.bool_)
        scores = (
            np.asarray(self.inner.predict_proba(texts), dtype=np.float64).copy()
            if self.inner is not None
            else np.ones(len(texts), dtype=np.float64)
        )
        scores[plain] = -1.0  # below any threshold
        return scores
