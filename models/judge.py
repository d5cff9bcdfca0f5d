"""The production path of suggestion detection: moderation rules, then per unit of a comment the
first stage and the classifier.

:class:`SuggestionJudge` is used by the stream agent and by ``youasked eval suggestions`` alike,
so that an evaluation measures exactly what runs.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from contracts.events import Verdict
from models.ask_context import announced_items, ask_spans, placement_text, product_words
from models.embedding import Embedder, FloatMatrix
from models.moderation import (
    ModerationPolicy,
    RateLimitState,
    check_author_rates,
    moderate,
    rate_limited_verdict,
)
from models.non_asks import FIX_REASON, INSTRUCTION_REASON, PRAISE_REASON, SERVICE_REASON, non_ask_kind
from models.text import fold_text, own_words
from models.units import Unit, split_units

CLASSIFIER_REASON = "classifier"
FIRST_STAGE_REASON = "first_stage"
NO_UNITS_REASON = "no_units"


class SuggestionScorer(Protocol):
    """A trained classifier: probability that each text asks for a product change."""

    @property
    def threshold(self) -> float:
        """Scores at or above this are suggestions."""
        ...

    @property
    def version(self) -> str:
        """Identifies the trained artifact."""
        ...

    def predict_proba(self, texts: Sequence[str], vectors: FloatMatrix) -> np.ndarray:
        """Probabilities, shape ``(n,)``, for ``texts`` and their ``(n, dim)`` embeddings."""
        ...


class FirstStageScorer(Protocol):
    """A text-only model in front of the classifier: which texts are worth embedding."""

    @property
    def threshold(self) -> float:
        """Scores at or above this go on to the embedding model and the classifier."""
        ...

    @property
    def version(self) -> str:
        """Identifies the trained artifact."""
        ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Scores, shape ``(n,)``, for ``texts``; no embedding needed."""
        ...


@dataclass(frozen=True, slots=True)
class JudgeInput:
    """One comment to judge: its text, who wrote it (``platform:author_id``), when, and the
    product it is about (its name's words say nothing about what is asked for).
    """

    text: str
    author_key: str
    created_at: datetime
    product: str = ""
    rating: int | None = None
    """Its store rating, where it has one (a unit of a top-rated review may be a remark: see
    :func:`models.non_asks.is_top_rated_remark`)."""


@dataclass(frozen=True, slots=True)
class Ask:
    """One unit of a comment judged an ask: its text, its span in the comment (end exclusive)
    and the classifier's score.
    """

    text: str
    start: int
    end: int
    score: float


@dataclass(frozen=True, slots=True)
class Judgement:
    """The outcome for one comment. ``score`` is None when moderation stopped it first, the
    first stage's best unit score when that stage rejected every unit (``reason``
    ``first_stage``), else the classifier's best unit score. ``asks`` are the units scored at or
    above the threshold, in order of position, a repeated one (same folded text) once (empty
    unless the verdict is ``suggestion``).
    """

    verdict: Verdict
    reason: str
    detail: str
    score: float | None
    asks: tuple[Ask, ...] = ()


BRAND_REPLY = Judgement(
    Verdict.BRAND_REPLY,
    "brand_reply",
    "written by the brand's own account: measured as dialogue, never a suggestion",
    None,
)
"""The judgement of every brand reply: it is not judged at all."""


class SuggestionJudge:
    """Moderation per comment, then per unit the first stage, embeddings and the classifier.

    Moderation reads the comment's own words (:func:`models.text.own_words`); each comment
    that passes is split into units (:func:`models.units.split_units`). Only units the first
    stage passes are embedded, each distinct unit text once per batch. A comment is a
    suggestion when at least one unit scores at or above the classifier's threshold. The
    per-author rate limit is a state passed in and returned, so the caller owns it (one per
    worker, which sees all of an author's comments: ingest partitions them by author; or none in
    evaluation). ``policy=None`` skips moderation (to measure the
    classifier alone); ``first_stage=None`` embeds every unit. With ``non_ask_rules`` a unit of
    plain praise, a service request, an instruction to the reader or a request to fix
    (:mod:`models.non_asks`) is neither embedded nor scored, and a comment of nothing else is not a
    suggestion (reason ``praise``, ``service_request``, ``fix_request`` or ``instruction``).
    """

    def __init__(
        self,
        *,
        embedder: Embedder,
        scorer: SuggestionScorer,
        policy: ModerationPolicy | None,
        first_stage: FirstStageScorer | None = None,
        non_ask_rules: bool = True,
    ) -> None:
        self.embedder = embedder
        self.scorer = scorer
        self.policy = policy
        self.first_stage = first_stage
        self.non_ask_rules = non_ask_rules
        self._version = scorer.version  # a digest of the weights: computed once, read per comment

    @property
    def threshold(self) -> float:
        return self.scorer.threshold

    @property
    def version(self) -> str:
        return self._version

    def judge(
        self, items: Sequence[JudgeInput], rate_state: RateLimitState | None
    ) -> tuple[RateLimitState | None, list[Judgement], FloatMatrix]:
        """Judge ``items`` in order.

        Returns the new rate-limit state (None in, None out: no limit applied), one
        :class:`Judgement` per item, and a ``(total asks, dim)`` matrix of the asks' embeddings:
        the rows of the first judgement's asks, then the second's, and so on.
        """
        judgements: list[Judgement | None] = [None] * len(items)
        rate_state, passing = self._moderate(items, rate_state, judgements)
        units = {index: split_units(items[index].text) for index in passing}
        for index in passing:
            if not units[index]:
                judgements[index] = Judgement(
                    Verdict.NOT_SUGGESTION, NO_UNITS_REASON, "no words to judge", None
                )
        candidates = {index: found for index, found in units.items() if found}
        if candidates and self.non_ask_rules:
            candidates = self._without_non_asks(candidates, judgements, items)
        if candidates and self.first_stage is not None:
            candidates = self._first_stage(candidates, judgements)
        texts = list(dict.fromkeys(unit.text for found in candidates.values() for unit in found))
        embedded = self.embedder.embed(texts) if texts else np.zeros((0, self.embedder.dim), np.float32)
        scores = self.scorer.predict_proba(texts, embedded) if texts else np.zeros(0)
        row_of = {text: row for row, text in enumerate(texts)}
        for index, found in candidates.items():
            passed = {unit.start for unit in found}  # every unit, but the first stage's rejects unscored
            unit_scores = [float(scores[row_of[unit.text]]) if unit.start in passed else None
                           for unit in units[index]]
            item = items[index]
            judgements[index] = self._classified(units[index], unit_scores, item.text, item.product)
        ask_texts = [ask.text for judgement in judgements if judgement for ask in judgement.asks]
        vectors = np.zeros((len(ask_texts), self.embedder.dim), np.float32)
        known = [row for row, text in enumerate(ask_texts) if text in row_of]  # a joined ask: placed below
        if known:
            vectors[known] = embedded[[row_of[ask_texts[row]] for row in known]]
        self._place(items, units, judgements, vectors, row_of)
        return rate_state, [j for j in judgements if j is not None], vectors

    def _place(
        self,
        items: Sequence[JudgeInput],
        units: dict[int, list[Unit]],
        judgements: list[Judgement | None],
        vectors: FloatMatrix,
        embedded: Container[str],
    ) -> None:
        """Give each ask whose placement text is not its own words (an ask that names nothing,
        read with its neighbouring unit; one that names little in a two-unit comment, read with
        the comment; an ask that names the product, without the name:
        :func:`models.ask_context.placement_text`), or whose words were not ``embedded`` as one
        unit (an ask joined with the unit beside it), the vector of that text, in place in
        ``vectors``: one embedding call for them all.
        """
        row, rows, texts = 0, [], []
        for index, judgement in enumerate(judgements):
            asks = [Unit(ask.start, ask.end, ask.text) for ask in (judgement.asks if judgement else ())]
            for ask in asks:
                text = placement_text(ask, units.get(index, []), product=items[index].product, asks=asks)
                if text != ask.text or ask.text not in embedded:
                    rows.append(row)
                    texts.append(text)
                row += 1
        if texts:
            vectors[rows] = self.embedder.embed(texts)

    def _moderate(
        self,
        items: Sequence[JudgeInput],
        rate_state: RateLimitState | None,
        judgements: list[Judgement | None],
    ) -> tuple[RateLimitState | None, list[int]]:
        """Judge the items moderation stops; return the new rate state and the others' indices."""
        passing: list[int] = []
        for index, item in enumerate(items):
            own = own_words(item.text)
            verdict = moderate(own, self.policy) if self.policy is not None else None
            if verdict is not None:
                detail = verdict.message if verdict.detail is None else f"{verdict.message}: {verdict.detail}"
                judgements[index] = Judgement(Verdict.MODERATED, verdict.code.value, detail, None)
            else:
                passing.append(index)
        if rate_state is None or not passing:
            return rate_state, passing
        posts = [(items[index].author_key, items[index].created_at) for index in passing]
        rate_state, allowed = check_author_rates(rate_state, posts, policy=self.policy)
        limited = rate_limited_verdict(self.policy)
        detail = limited.message if limited.detail is None else f"{limited.message}: {limited.detail}"
        for index, ok in zip(passing, allowed, strict=True):
            if not ok:
                judgements[index] = Judgement(Verdict.MODERATED, limited.code.value, detail, None)
        return rate_state, [index for index, ok in zip(passing, allowed, strict=True) if ok]

    def _classified(
        self, units: list[Unit], scores: list[float | None], text: str, product: str
    ) -> Judgement:
        """The judgement of a comment (``text``, about ``product``): its ``units`` in order, with the
        classifier's score of each (None: one the first stage did not pass on, no ask).

        Which scored units are asks, and their spans, is :func:`models.ask_context.ask_spans`: a
        reason right after an ask is none; a reason judged an ask after a unit that is not one
        spans both ("Garmin watch support?? Would make this perfect"), as an ask that names
        nothing spans the unit that says what it wants ("No GPX export? Please add it!").
        """
        cut = self.scorer.threshold
        asks: dict[str, Ask] = {}  # by folded text: an ask repeated in one comment is one ask
        scored = [score for score in scores if score is not None]
        asked = [score is not None and score >= cut for score in scores]
        words = product_words(product)
        items, leads = announced_items(text, units, asked, product_words=words)
        if leads:  # a lead-in's list: its items are the asks, scored as the lead-in (rule 7)
            scores = [scores[items[i]] if i in items else score for i, score in enumerate(scores)]
            asked = [(is_ask or i in items) and i not in leads for i, is_ask in enumerate(asked)]
        for start, end, position in ask_spans(text, units, asked, product_words=words):
            unit, score = units[position], scores[position] or 0.0  # an ask was scored
            ask_text = unit.text if (start, end) == (unit.start, unit.end) else text[start:end]  # joined
            asks.setdefault(fold_text(ask_text), Ask(ask_text, start, end, score))
        best = max(scored)
        detail = f"best unit score {best:.3f} {'>=' if asks else '<'} {cut:.3f}"
        if asks:
            detail += f"; {len(asks)} ask{'s' if len(asks) > 1 else ''} of {len(scored)} units scored"
        verdict = Verdict.SUGGESTION if asks else Verdict.NOT_SUGGESTION
        return Judgement(verdict, CLASSIFIER_REASON, detail, best, tuple(asks.values()))

    @staticmethod
    def _without_non_asks(
        candidates: dict[int, list[Unit]], judgements: list[Judgement | None], items: Sequence[JudgeInput]
    ) -> dict[int, list[Unit]]:
        """Judge the comments whose every unit is a non-ask by its words (plain praise or a remark of
        a top-rated review, a service request, an instruction to the reader, a request to fix);
        return the other units, per comment.
        """
        kept: dict[int, list[Unit]] = {}
        for index, found in candidates.items():
            kinds = [non_ask_kind(unit.text, items[index].rating) for unit in found]
            asking = [unit for unit, kind in zip(found, kinds, strict=True) if kind is None]
            if asking:
                kept[index] = asking
            elif all(kind == PRAISE_REASON for kind in kinds):
                judgements[index] = Judgement(
                    Verdict.NOT_SUGGESTION, PRAISE_REASON, "praise that asks for nothing", None
                )
            elif SERVICE_REASON in kinds:
                detail = "asks for a service to its writer, not a change"
                judgements[index] = Judgement(Verdict.NOT_SUGGESTION, SERVICE_REASON, detail, None)
            elif FIX_REASON in kinds:
                detail = "asks to fix something, no change"
                judgements[index] = Judgement(Verdict.NOT_SUGGESTION, FIX_REASON, detail, None)
            else:
                detail = "tells or urges its reader, asks no change"
                judgements[index] = Judgement(Verdict.NOT_SUGGESTION, INSTRUCTION_REASON, detail, None)
        return kept

    def _first_stage(
        self, candidates: dict[int, list[Unit]], judgements: list[Judgement | None]
    ) -> dict[int, list[Unit]]:
        """Judge the comments none of whose units the first stage passes; return the units it
        passes, per comment.
        """
        assert self.first_stage is not None
        cut = self.first_stage.threshold
        texts = list(dict.fromkeys(unit.text for found in candidates.values() for unit in found))
        score_of = dict(zip(texts, (float(s) for s in self.first_stage.predict_proba(texts)), strict=True))
        passed: dict[int, list[Unit]] = {}
        for index, found in candidates.items():
            kept = [unit for unit in found if score_of[unit.text] >= cut]
            if kept:
                passed[index] = kept
            else:
                best = max(score_of[unit.text] for unit in found)
                judgements[index] = Judgement(
                    Verdict.NOT_SUGGESTION,
                    FIRST_STAGE_REASON,
                    f"first-stage score {best:.3f} < {cut:.3f}",
                    best,
                )
        return passed
