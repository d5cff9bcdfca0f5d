"""Units that ask for a change in so many words: "Please add ...", "Can you add ...", "Bring back ...".

The unit judge reads a sentence embedding, and it scores some plain requests below its threshold
("Could you guys add a 'delete your comment' button?", "also implement Chrome extensions.",
"Can you add GPX export of the elevation profile?"); the first stage, trained for recall, lets
most of them through but not all. A unit that opens (after a greeting, "so", "also", "and", "but"
or a handle) with a request verb for a change, "add", "implement", "include", "introduce" or
"bring back", with "please" or "can/could/would/will you" before it at most, or with a revert
("Change it back!", "Please switch it back"), or that says "you (guys) need to / should add ...",
"they need to implement ...", "there should be an option / a way / a setting ...", asks for a
product change by its words (:func:`is_explicit_request`), unless:

* the verb is a noun's first word: "Add-ons still could read them", "Add contact does not make
  the text field active" (a verb within two words of it: "is", "does", "doesn't", "won't" ...);
* it is a how-to: "first", "then", "before you", "in order to", "can't find", "where is", "how
  do" ("You need to add the route first", "There should be a button for it but I can't find it");
* it asks to be added, or to add what is the writer's ("add me", "add us to the beta", "add my
  points"): a service to the writer (the judge still reads "add my bookmarks bar under the address
  bar", without the floor).

Such a unit always goes on past the first stage (:class:`ExplicitAskGate`) and scores at least the
classifier's threshold (:class:`ExplicitAskScorer`); the classifier's own score stands when it is
higher. The non-ask rules (:mod:`models.non_asks`) still come first: "Please add me", a service
request, never reaches these. Measured on the evaluation splits in ``docs/benchmarks.md``.
The forms above are English; :mod:`models.other_languages` recognises the common ones of five more
languages, which the English embedding cannot read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from models.other_languages import is_other_language_request

if TYPE_CHECKING:  # the judge imports nothing of this module; its protocols type the wrapped parts
    from models.embedding import FloatMatrix
    from models.judge import FirstStageScorer, SuggestionScorer

_EXPLICIT = re.compile(
    # up to two greetings or @handles first; the runs between them are possessive and cannot take a
    # handle's "@", so a long run of punctuation is read once (with "\W*" and "\W+" around a handle
    # that may begin inside them, ".@.@.@..." took time cubic in its length)
    r"^(?:[^\w@＠]|[@＠](?![\w.]))*+(?:(?:hi|hey|hello|so|also|and|but|guys|dear\s+\w+|[@＠][\w.]++)"
    r"(?:[^\w@＠]|[@＠](?![\w.]))++){0,2}"
    r"(?:(?:please|pls|plz|kindly)\s+)?"
    r"(?:(?:can|could|would|will)\s+(?:you|u|y'?all|y’all)\s+(?:guys\s+)?(?:(?:please|pls|plz)\s+)?)?"
    r"(?:add|implement|include|introduce|bring\s+back)(?![-\w'’])"
    # a revert: "Change it back!", "Please switch it back to how it was"
    r"|^\W*+(?:(?:please|pls|plz|just|so)\s+)?(?:change|put|switch|bring|turn)\s+(?:it|this|them|that|everything)"
    r"\s+back\b"
    # anywhere in the unit: "You guys need to add ...", "They should implement ..."
    r"|\b(?:you|u|y'?all|y’all|they|devs?|developers)\s+(?:guys\s+)?(?:really\s+)?"
    r"(?:need|needs|have|has|got|ought|should)\s+(?:to\s+)?(?:really\s+)?(?:add|implement|include|introduce|"
    r"bring\s+back)\b"
    # "There should be an option to ...", "There needs to be a way to ..."
    r"|\bthere\s+(?:really\s+)?(?:should|needs\s+to|has\s+to|must|ought\s+to)\s+be\s+(?:an?\s+|some\s+)?"
    r"(?:option|options|way|setting|settings|button|feature|toggle|ability|mode)\b",
    re.IGNORECASE,
)
_NOT_A_REQUEST = re.compile(
    # the verb opens a noun phrase: a verb follows within two words ("Add contact does not ...")
    r"^\W*(?:\w+\W+){0,8}?(?:add|implement|include|introduce)\s+(?:[\w'’-]+\s+){0,2}?"
    r"(?:is|are|was|were|does|doesn'?t|doesn’t|did|didn'?t|didn’t|won'?t|won’t|isn'?t|isn’t|has|have|"
    r"works|worked|crashes|fails|keeps)\b"
    # a how-to: a step to take first, something to find ("You need to add the route first",
    # "There should be a button for it but I can't find it")
    r"|\b(?:first|then|before\s+you|after\s+you|in\s+order\s+to|can'?t\s+find|can’t\s+find|cannot\s+find|"
    r"where\s+is|how\s+do)\b"
    # being added, or adding what is the writer's ("add my points"), is a service to the writer
    r"|\b(?:add|include)\s+(?:me|us|him|her|them|my)\b(?!\s+(?:an?|the|more|some|option|feature|button|way)\b)",
    re.IGNORECASE,
)


def is_explicit_request(text: str) -> bool:
    """Whether ``text`` (one unit) asks for a change in so many words: see the module (and
    :mod:`models.other_languages` for Spanish, Portuguese, French, German and Italian).
    """
    flat = " ".join(text.split())
    if _EXPLICIT.search(flat) and not _NOT_A_REQUEST.search(flat):
        return True
    return is_other_language_request(flat)


def _floored(texts: Sequence[str], scores: npt.ArrayLike, floor: float) -> npt.NDArray[np.float64]:
    out = np.asarray(scores, dtype=np.float64).copy()
    for index, text in enumerate(texts):
        if out[index] < floor and is_explicit_request(text):
            out[index] = floor
    return out


class _Floor:
    """What both wrappers share: the wrapped model (``inner``), its threshold and version."""

    def __init__(self, inner: SuggestionScorer | FirstStageScorer) -> None:
        self.inner = inner

    @property
    def threshold(self) -> float:
        return self.inner.threshold

    @property
    def version(self) -> str:
        return self.inner.version


class ExplicitAskScorer(_Floor):
    """The judge's classifier (``inner``), with an explicit request scored at least its threshold."""

    inner: SuggestionScorer

    def __init__(self, inner: SuggestionScorer) -> None:
        super().__init__(inner)

    def predict_proba(self, texts: Sequence[str], vectors: FloatMatrix) -> npt.NDArray[np.float64]:
        return _floored(texts, self.inner.predict_proba(texts, vectors), self.inner.threshold)


class ExplicitAskGate(_Floor):
    """The first stage (``inner``), passing every explicit request on whatever it scores."""

    inner: FirstStageScorer

    def __init__(self, inner: FirstStageScorer) -> None:
        super().__init__(inner)

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        return _floored(texts, self.inner.predict_proba(texts), self.inner.threshold)


def with_explicit_asks(
    scorer: SuggestionScorer, gate: FirstStageScorer | None
) -> tuple[SuggestionScorer, FirstStageScorer | None]:
    """``scorer`` and ``gate`` (the first stage, if any) wrapped so that explicit requests pass and count."""
    return ExplicitAskScorer(scorer), ExplicitAskGate(gate) if gate is not None else None
