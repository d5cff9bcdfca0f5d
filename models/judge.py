"""The production path of suggestion detection: moderation rules, the first stage, then the classifier.

:class:`SuggestionJudge` is used by the stream agent and by ``youasked eval suggestions`` alike,
so that an evaluation measures exactly what runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from contracts.events import Verdict
from models.embedding import Embedder, FloatMatrix
from models.moderation import (
    ModerationPolicy,
    RateLimitState,
    check_author_rate,
    moderate,
    rate_limited_verdict,
)

CLASSIFIER_REASON = "classifier"
FIRST_STAGE_REASON = "first_stage"


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
    """One comment to judge: its text, who wrote it (``platform:author_id``) and when."""

    text: str
    author_key: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Judgement:
    """The outcome for one comment. ``score`` is None when moderation stopped it first, and the
    first stage's score when that stage rejected it (``reason`` ``first_stage``).
    """

    verdict: Verdict
    reason: str
    detail: str
    score: float | None


class SuggestionJudge:
    """Moderation, then the first stage, then embeddings and the classifier, over a batch of comments.

    Only comments that pass moderation and the first stage are embedded. The per-author rate
    limit is a state passed in and returned, so the caller owns it (one per worker, or none in
    evaluation). ``policy=None`` skips moderation (to measure the classifier alone);
    ``first_stage=None`` embeds every comment moderation lets through.
    """

    def __init__(
        self,
        *,
        embedder: Embedder,
        scorer: SuggestionScorer,
        policy: ModerationPolicy | None,
        first_stage: FirstStageScorer | None = None,
    ) -> None:
        self.embedder = embedder
        self.scorer = scorer
        self.policy = policy
        self.first_stage = first_stage
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
        :class:`Judgement` per item, and an ``(n, dim)`` matrix of embeddings whose rows are
        zero for items that were not embedded (moderated, or rejected by the first stage);
        every suggestion's row is its embedding.
        """
        judgements: list[Judgement | None] = [None] * len(items)
        passing: list[int] = []
        for index, item in enumerate(items):
            verdict = moderate(item.text, self.policy) if self.policy is not None else None
            if verdict is None and rate_state is not None:
                rate_state, allowed = check_author_rate(
                    rate_state, item.author_key, item.created_at, policy=self.policy
                )
                if not allowed:
                    verdict = rate_limited_verdict(self.policy)
            if verdict is not None:
                detail = verdict.message if verdict.detail is None else f"{verdict.message}: {verdict.detail}"
                judgements[index] = Judgement(Verdict.MODERATED, verdict.code.value, detail, None)
            else:
                passing.append(index)
        if passing and self.first_stage is not None:
            passing = self._first_stage(items, passing, judgements)
        vectors = np.zeros((len(items), self.embedder.dim), dtype=np.float32)
        if passing:
            texts = [items[i].text for i in passing]
            embedded = self.embedder.embed(texts)
            vectors[passing] = embedded
            scores = self.scorer.predict_proba(texts, embedded)
            for index, score in zip(passing, scores, strict=True):
                value = float(score)
                is_suggestion = value >= self.scorer.threshold
                judgements[index] = Judgement(
                    Verdict.SUGGESTION if is_suggestion else Verdict.NOT_SUGGESTION,
                    CLASSIFIER_REASON,
                    f"score {value:.3f} {'>=' if is_suggestion else '<'} {self.scorer.threshold:.3f}",
                    value,
                )
        return rate_state, [j for j in judgements if j is not None], vectors

    def _first_stage(
        self, items: Sequence[JudgeInput], passing: list[int], judgements: list[Judgement | None]
    ) -> list[int]:
        """Judge the rows of ``passing`` the first stage rejects; return those it passes on."""
        assert self.first_stage is not None
        cut = self.first_stage.threshold
        scores = self.first_stage.predict_proba([items[i].text for i in passing])
        candidates: list[int] = []
        for index, score in zip(passing, scores, strict=True):
            value = float(score)
            if value >= cut:
                candidates.append(index)
            else:
                judgements[index] = Judgement(
                    Verdict.NOT_SUGGESTION,
                    FIRST_STAGE_REASON,
                    f"first-stage score {value:.3f} < {cut:.3f}",
                    value,
                )
        return candidates
