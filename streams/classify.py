"""The classify agent: judge every accepted comment in batches; pass valid suggestions on.

Reads ``feedback.comments.accepted`` in batches (``stream.take_events``), runs moderation and
the classifier (:class:`models.judge.SuggestionJudge`) with the embedding model in a worker
thread, and writes

* every comment's :class:`CommentClassified` (a brand's own reply is not judged: its verdict is
  ``brand_reply``) to ``feedback.comments.classified`` (key
  ``platform:comment_id``, the input's partition number; exactly once through the ledger),
* one :class:`SuggestionDetected` per ask of each valid suggestion to ``feedback.suggestions``
  keyed by product (at least once: consumers de-duplicate on ``suggestion_id``,
  ``platform:comment_id#n``),
* one :class:`~contracts.impact.PraiseDetected` per comment judged praise
  (:func:`models.impact.judged_praise`) to ``feedback.praise`` keyed by product (at least once:
  the themes agent de-duplicates on the comment key), so that the impact of what shipped meets
  its themes in their partition. Praise is not embedded here: the themes agent embeds the few
  that need a vector (written after something of the product shipped, by someone who did not ask
  for it), where the product's closures are known.

The suggestion is written and acknowledged before the classification, so a crash between
the two repeats the suggestion (harmless) and never loses it; a batch's offsets are
acknowledged after all of its outputs are. A batch that fails is done again one comment at a
time, and a comment that fails alone goes to ``feedback.comments.accepted.dlq``
(:class:`~streams.dead_letters.StageGuard`). A batch is what is ready (``classify_batch_wait_s``
is short; ``classify_batch_size`` is reached under load), and the model sorts it by length and
runs it in small pieces (``classify_embedding_batch_tokens``), so that it pads little.

The per-author rate limit (:func:`models.moderation.check_author_rate`) keeps its windows in
this process. It holds across workers because ingest writes each comment to its author's
partition (:func:`models.ingest.author_partition`): one worker at a time sees all of an author's
comments, in order. When a partition moves to another worker (a rebalance), the new owner
starts its authors' windows empty, so an author may pass up to twice the limit within one
window across a move; the windows are not kept in a changelog (a table would cost a changelog
write per comment for a limit that is a guard against floods, not a count anyone reads).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import Any

import faust

from contracts.events import (
    AskSpan,
    CommentAccepted,
    CommentClassified,
    ScoredAsk,
    Speaker,
    SuggestionDetected,
    Verdict,
    event_json,
    suggestion_id_of,
)
from contracts.impact import PraiseDetected
from contracts.settings import Settings
from contracts.topics import COMMENTS_ACCEPTED, COMMENTS_CLASSIFIED, PRAISE, SUGGESTIONS
from models.impact import judged_praise
from models.ingest import author_key
from models.judge import BRAND_REPLY, JudgeInput, Judgement, SuggestionJudge
from models.moderation import RateLimitState
from streams.continuity import continuity_guard
from streams.dead_letters import StageGuard, UnreadableRecordError
from streams.holding import held_batches
from streams.ledger import OutputLedger
from streams.metrics import WorkerMetrics
from streams.topics import raw_topic

logger = logging.getLogger(__name__)


def register_classify(
    app: faust.App, settings: Settings, judge: SuggestionJudge, *, metrics: WorkerMetrics | None = None
) -> None:
    """Declare the classify agent on ``app`` with its ``judge`` (model loaded before the worker
    starts consuming: loading holds the interpreter for seconds and would starve heartbeats);
    the model's time per batch goes to ``metrics``.
    """
    metrics = metrics if metrics is not None else WorkerMetrics()
    accepted = raw_topic(app, COMMENTS_ACCEPTED, settings)
    classified = raw_topic(app, COMMENTS_CLASSIFIED, settings)
    suggestions = raw_topic(app, SUGGESTIONS, settings)
    praise = raw_topic(app, PRAISE, settings)
    ledger = OutputLedger(
        bootstrap_servers=settings.bootstrap_servers, topic=settings.topic_name(COMMENTS_CLASSIFIED)
    )
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="youasked-model")
    holder: dict[str, Any] = {"rate": RateLimitState()}
    guard = continuity_guard(app, settings, [settings.topic_name(COMMENTS_ACCEPTED)])
    stage = StageGuard(app, settings, stage="classify", inputs=(COMMENTS_ACCEPTED,), metrics=metrics)

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def _reload_ledger(app: faust.App, assigned: Any, **_: Any) -> None:
        ledger.forget()
        stage.forget()

    def judge_batch(batch: list[tuple[Any, CommentAccepted]]) -> tuple[list[Judgement], Any, list[int]]:
        """Run in the model thread (one thread: batches run in order and own the rate-limit state).
        Returns the judgements, the asks' vectors and the indices of the praise comments.
        """
        customers = [c for _, c in batch if c.speaker is not Speaker.BRAND]
        inputs = [JudgeInput(c.text, author_key(c), c.created_at, c.product, c.rating) for c in customers]
        if not inputs:  # brand replies only: nothing to judge, nothing embedded
            return [BRAND_REPLY] * len(batch), [], []
        with metrics.model_batch_seconds.time():
            holder["rate"], judged, vectors = judge.judge(inputs, holder["rate"])
            answers = iter(judged)
            judgements = [BRAND_REPLY if c.speaker is Speaker.BRAND else next(answers) for _, c in batch]
            praised = [
                index for index, ((_, comment), judgement) in enumerate(zip(batch, judgements, strict=True))
                if judged_praise(comment, verdict=judgement.verdict, reason=judgement.reason)
            ]
        metrics.model_texts.inc(len(inputs))
        return judgements, vectors, praised

    async def emit(
        batch: list[tuple[Any, CommentAccepted]], judgements: list[Judgement], vectors: Any,
        praised: list[int],
    ) -> None:
        """Send a batch's suggestions and praise, then its classifications; return when the broker
        has them all.
        """
        now = datetime.now(UTC)
        pending = []
        for index in praised:
            comment = batch[index][1]
            event = PraiseDetected(comment=comment, detected_at=now)
            sent = await praise.send(key=comment.product.encode(), value=event_json(event), force=True)
            pending.append(sent)
        row = 0
        for (_, comment), judgement in zip(batch, judgements, strict=True):
            asks = len(judgement.asks)
            for detected in suggestions_detected(
                comment, judgement, vectors[row : row + asks], model=settings.embedding_model_name, now=now
            ):
                sent = await suggestions.send(
                    key=comment.product.encode(), value=event_json(detected), force=True
                )
                pending.append(sent)
            row += asks
        await asyncio.gather(*pending)
        pending = []
        for (message, comment), judgement in zip(batch, judgements, strict=True):
            record = comment_classified(comment, judgement, judge=judge, now=now)
            sent = await classified.send(
                key=comment.key.encode(), value=event_json(record), partition=message.partition, force=True
            )
            pending.append(sent)
        await asyncio.gather(*pending)

    def read(message: Any) -> CommentAccepted:
        try:
            return CommentAccepted.model_validate_json(message.value)
        except ValueError as exc:
            raise UnreadableRecordError(f"not a CommentAccepted: {exc}") from exc

    async def admit(message: Any) -> CommentAccepted | None:
        """The comment of ``message``, or None when it was classified before (a re-delivery)."""
        comment = read(message)
        return None if await ledger.contains(message.partition, comment.key) else comment

    async def process(todo: list[tuple[Any, CommentAccepted]]) -> None:
        """Judge ``todo`` and send its outputs; the classified keys go into the ledger."""
        loop = asyncio.get_running_loop()
        with metrics.steps("classify").running():  # the model's batch runs in a thread: busy, not stalled
            judgements, vectors, praised = await loop.run_in_executor(executor, judge_batch, todo)
        await emit(todo, judgements, vectors, praised)
        for message, comment in todo:
            await ledger.add(message.partition, comment.key)

    async def process_alone(message: Any) -> None:
        comment = await admit(message)
        if comment is not None:
            await process([(message, comment)])

    @app.agent(accepted, name="classify", concurrency=1)
    async def classify(stream: Any) -> None:
        async for events in held_batches(
            stream, settings.classify_batch_size, within=settings.classify_batch_wait_s
        ):
            todo: list[tuple[Any, CommentAccepted]] = []
            for event in events:
                # faust acknowledges a batch's events after the batch: skipped offsets the guard
                # reports here are committed only once the batch they joined is written.
                async for message in guard.in_order(event.message):
                    comment = await stage.run(message, partial(admit, message))
                    if comment is not None:
                        todo.append((message, comment))
            if not todo:
                continue
            try:
                await stage.retrying(partial(process, todo), what=f"a batch of {len(todo)} comments")
            except asyncio.CancelledError:
                raise
            except Exception:
                # One record may have failed the batch: each is done alone, and what fails alone
                # is set aside. The ledger is read back first: part of the batch may be out.
                logger.exception("classify: a batch of %d failed; each comment once more alone", len(todo))
                ledger.forget()
                for message, _ in todo:
                    await stage.run(message, partial(process_alone, message))


def suggestions_detected(
    comment: CommentAccepted, judgement: Judgement, vectors: Any, *, model: str, now: datetime
) -> list[SuggestionDetected]:
    """One event per ask of ``judgement`` (``vectors``: the asks' embeddings, one row each, sent
    with 6 decimals); none unless the comment is a suggestion.
    """
    if judgement.verdict is not Verdict.SUGGESTION:
        return []
    return [
        SuggestionDetected(
            suggestion_id=suggestion_id_of(comment.key, ordinal),
            comment=comment,
            ask=AskSpan(text=ask.text, start=ask.start, end=ask.end),
            score=ask.score,
            embedding=[round(float(x), 6) for x in vector],
            embedding_model=model,
            detected_at=now,
        )
        for ordinal, (ask, vector) in enumerate(zip(judgement.asks, vectors, strict=True), start=1)
    ]


def comment_classified(
    comment: CommentAccepted, judgement: Judgement, *, judge: SuggestionJudge, now: datetime
) -> CommentClassified:
    """The judgement of one comment, with the classifier's threshold and version."""
    return CommentClassified(
        key=comment.key,
        comment=comment,
        verdict=judgement.verdict,
        reason=judgement.reason,
        reason_detail=judgement.detail,
        score=judgement.score,
        threshold=judge.threshold,
        asks=[ScoredAsk(text=a.text, start=a.start, end=a.end, score=a.score) for a in judgement.asks],
        classifier_version=judge.version,
        classified_at=now,
    )
