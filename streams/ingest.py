"""The ingest agents: validate raw comments, dead-letter the invalid, pass each identity on once.

Both read in batches (``stream.take_events``: up to ``ingest_batch_size`` records or
``ingest_batch_wait_s`` seconds), send a batch's outputs together and await their
acknowledgements before the batch's offsets are acknowledged.

``validate`` reads ``feedback.comments`` (any key), writes each invalid record to
``feedback.comments.dlq`` (key ``topic:partition:offset``, same partition number) and each valid
one to ``feedback.comments.validated`` keyed by ``platform:comment_id``, in its author's
partition (:func:`~models.ingest.author_partition`): copies of one comment meet in one partition,
and so do all of an author's comments. ``accept`` reads that topic and writes each identity once
to ``feedback.comments.accepted`` (same key, same partition number), so the classify stage's
per-author rate limit sees all of an author's comments in one worker, in order; a record it
cannot read goes to ``feedback.comments.validated.dlq``. Both run at concurrency 1;
:class:`~streams.ledger.OutputLedger` makes re-deliveries after a crash produce nothing twice,
:class:`~streams.dead_letters.StageGuard` sets aside what a stage cannot process and retries what
the broker could not take, and :class:`~streams.continuity.OffsetGuard` makes sure no input
offset is skipped.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import faust

from contracts.events import CommentAccepted, SourceRef, event_json
from contracts.settings import Settings
from contracts.topics import COMMENTS, COMMENTS_ACCEPTED, COMMENTS_VALIDATED
from models.ingest import (
    IngestLimits,
    InvalidRecord,
    author_partition,
    brand_accounts,
    validate_comment,
)
from streams.continuity import continuity_guard
from streams.dead_letters import StageGuard, UnreadableRecordError
from streams.holding import held_batches
from streams.ledger import OutputLedger
from streams.metrics import WorkerMetrics
from streams.topics import raw_topic

logger = logging.getLogger(__name__)


def register_ingest(app: faust.App, settings: Settings, *, metrics: WorkerMetrics | None = None) -> None:
    """Declare the ingest topics and agents on ``app``; dead letters are counted in ``metrics``."""
    metrics = metrics if metrics is not None else WorkerMetrics()
    limits = IngestLimits(
        max_message_bytes=settings.max_message_bytes,
        max_text_chars=settings.max_text_chars,
        max_future_skew=timedelta(seconds=settings.max_future_skew_s),
        min_created_at=settings.min_created_at,
        max_record_bytes=settings.kafka_message_max_bytes,
    )
    brand_authors = brand_accounts(settings.brand_authors)
    comments = raw_topic(app, COMMENTS, settings)
    validated = raw_topic(app, COMMENTS_VALIDATED, settings)
    accepted = raw_topic(app, COMMENTS_ACCEPTED, settings)
    identities = OutputLedger(
        bootstrap_servers=settings.bootstrap_servers, topic=settings.topic_name(COMMENTS_ACCEPTED)
    )
    validating = StageGuard(app, settings, stage="ingest-validate", inputs=(COMMENTS,), metrics=metrics)
    accepting = StageGuard(
        app, settings, stage="ingest-accept", inputs=(COMMENTS_VALIDATED,), metrics=metrics
    )

    raw_guard = continuity_guard(app, settings, [settings.topic_name(COMMENTS)])
    validated_guard = continuity_guard(app, settings, [settings.topic_name(COMMENTS_VALIDATED)])

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def _reload_ledgers(app: faust.App, assigned: Any, **_: Any) -> None:
        validating.forget()
        accepting.forget()
        identities.forget()

    async def check(message: Any, now: datetime) -> Any:
        """Send one raw record on, returning the send's future, or to the dead letters (None)."""
        source = SourceRef(topic=message.topic, partition=message.partition, offset=message.offset)
        outcome = validate_comment(
            message.value, source=source, received_at=now, limits=limits, brand_authors=brand_authors
        )
        if isinstance(outcome, InvalidRecord):
            await validating.reject(message, reason=outcome.reason, detail=outcome.detail)
            logger.info("dead-lettered %s:%d:%d: %s", *_at(message), outcome.reason.value)
            return None
        return await validated.send(
            key=outcome.key.encode(),
            value=event_json(outcome),
            partition=author_partition(outcome, settings.topic_partitions),
            force=True,
        )

    async def check_and_wait(message: Any) -> None:
        sent = await check(message, datetime.now(UTC))
        if sent is not None:
            await sent

    def identity_of(message: Any) -> str:
        try:
            return CommentAccepted.model_validate_json(message.value).key
        except ValueError as exc:
            # Only our own validate agent writes here: a record of another shape came from elsewhere.
            raise UnreadableRecordError(f"not a CommentAccepted: {exc}") from exc

    async def pass_on(message: Any, identity: str) -> Any:
        return await accepted.send(
            key=identity.encode(), value=message.value, partition=message.partition, force=True
        )

    async def pass_on_and_wait(message: Any) -> None:
        await (await pass_on(message, identity_of(message)))
        await identities.add(message.partition, identity_of(message))

    batch, wait = settings.ingest_batch_size, settings.ingest_batch_wait_s

    @app.agent(comments, name="ingest-validate", concurrency=1)
    async def validate(stream: Any) -> None:
        # faust acknowledges a batch's events after the batch, that is after every output of it
        # is acknowledged by the broker (and after the skipped records the guard added to it).
        async for events in held_batches(stream, batch, within=wait):
            pending: list[tuple[Any, Any]] = []
            now = datetime.now(UTC)
            for event in events:
                async for message in raw_guard.in_order(event.message):
                    sent = await validating.run(message, partial(check, message, now))
                    if sent is not None:
                        pending.append((message, sent))
            await validating.settle(pending, check_and_wait)

    @app.agent(validated, name="ingest-accept", concurrency=1)
    async def accept(stream: Any) -> None:
        async for events in held_batches(stream, batch, within=wait):
            pending: list[tuple[Any, Any]] = []
            passed: set[tuple[int, str]] = set()
            for event in events:
                async for message in validated_guard.in_order(event.message):
                    identity = await accepting.run(message, partial(_identity, message))
                    if identity is None:
                        continue
                    if (message.partition, identity) in passed or await identities.contains(
                        message.partition, identity
                    ):
                        logger.debug("duplicate %s passed over", identity)
                        continue
                    passed.add((message.partition, identity))
                    sent = await accepting.run(message, partial(pass_on, message, identity))
                    if sent is not None:
                        pending.append((message, sent))
            await accepting.settle(pending, pass_on_and_wait)
            for partition, key in passed:
                await identities.add(partition, key)

    async def _identity(message: Any) -> str:
        return identity_of(message)


def _at(message: Any) -> tuple[str, int, int]:
    return message.topic, message.partition, message.offset
