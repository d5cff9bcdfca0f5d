"""The ingest agents: validate raw comments, dead-letter the invalid, pass each identity on once.

Both read in batches (``stream.take_events``: up to ``ingest_batch_size`` records or
``ingest_batch_wait_s`` seconds), send a batch's outputs together and await their
acknowledgements before the batch's offsets are acknowledged.

``validate`` reads ``feedback.comments`` (any key), writes each invalid record to
``feedback.comments.dlq`` (key ``topic:partition:offset``, same partition number) and each valid
one to ``feedback.comments.validated`` keyed by ``platform:comment_id``, so that copies of one
comment meet in one partition. ``accept`` reads that topic and writes each identity once to
``feedback.comments.accepted``. Both run at concurrency 1; :class:`~streams.ledger.OutputLedger`
makes re-deliveries after a crash produce nothing twice, and
:class:`~streams.continuity.OffsetGuard` makes sure no input offset is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import faust

from models.ingest import IngestLimits, Rejected, dead_letter, dead_letter_key, validate_comment
from streams.continuity import continuity_guard
from streams.ledger import OutputLedger
from streams.metrics import WorkerMetrics
from youasked.contracts.events import CommentAccepted, SourceRef, event_json
from youasked.contracts.topics import (
    COMMENTS,
    COMMENTS_ACCEPTED,
    COMMENTS_DLQ,
    COMMENTS_VALIDATED,
    TopicSpec,
)
from youasked.settings import Settings

logger = logging.getLogger(__name__)


def raw_topic(app: faust.App, spec: TopicSpec, settings: Settings) -> Any:
    """A faust topic of raw bytes (keys and values are our own JSON, not faust models)."""
    return app.topic(
        settings.topic_name(spec),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.topic_partitions,
        internal=False,
    )


def register_ingest(app: faust.App, settings: Settings, *, metrics: WorkerMetrics | None = None) -> None:
    """Declare the ingest topics and agents on ``app``; dead letters are counted in ``metrics``."""
    metrics = metrics if metrics is not None else WorkerMetrics()
    limits = IngestLimits(
        max_message_bytes=settings.max_message_bytes,
        max_text_chars=settings.max_text_chars,
        max_future_skew=timedelta(seconds=settings.max_future_skew_s),
    )
    comments = raw_topic(app, COMMENTS, settings)
    dlq = raw_topic(app, COMMENTS_DLQ, settings)
    validated = raw_topic(app, COMMENTS_VALIDATED, settings)
    accepted = raw_topic(app, COMMENTS_ACCEPTED, settings)
    dead_letters = OutputLedger(
        bootstrap_servers=settings.bootstrap_servers, topic=settings.topic_name(COMMENTS_DLQ)
    )
    identities = OutputLedger(
        bootstrap_servers=settings.bootstrap_servers, topic=settings.topic_name(COMMENTS_ACCEPTED)
    )

    raw_guard = continuity_guard(app, settings, [settings.topic_name(COMMENTS)])
    validated_guard = continuity_guard(app, settings, [settings.topic_name(COMMENTS_VALIDATED)])

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def _reload_ledgers(app: faust.App, assigned: Any, **_: Any) -> None:
        dead_letters.forget()
        identities.forget()

    async def check(message: Any, now: datetime) -> tuple[Any, str | None]:
        """Send one raw record to the dead letters or on; return the send's future (None when
        the dead letter was written before) and the dead-letter key, if any.
        """
        source = SourceRef(topic=message.topic, partition=message.partition, offset=message.offset)
        outcome = validate_comment(message.value, source=source, received_at=now, limits=limits)
        if isinstance(outcome, Rejected):
            key = dead_letter_key(source)
            if await dead_letters.contains(message.partition, key):
                return None, None
            record = dead_letter(
                message.value, key=message.key, rejected=outcome, source=source, failed_at=now
            )
            sent = await dlq.send(
                key=key.encode(), value=event_json(record), partition=message.partition, force=True
            )
            metrics.dead_letters.labels(topic=message.topic, reason=outcome.reason.value).inc()
            logger.info("dead-lettered %s: %s", key, outcome.reason.value)
            return sent, key
        return await validated.send(key=outcome.key.encode(), value=event_json(outcome), force=True), None

    def identity_of(message: Any) -> str:
        try:
            return CommentAccepted.model_validate_json(message.value).key
        except ValueError:
            # Only our own validate agent writes here; a bad record is a bug, not input.
            logger.exception(
                "unreadable record on %s[%d]@%d", message.topic, message.partition, message.offset
            )
            raise

    batch, wait = settings.ingest_batch_size, settings.ingest_batch_wait_s

    @app.agent(comments, name="ingest-validate", concurrency=1)
    async def validate(stream: Any) -> None:
        # faust acknowledges a batch's events after the batch, that is after every output of it
        # is acknowledged by the broker (and after the skipped records the guard added to it).
        async for events in stream.take_events(batch, within=wait):
            pending, dead = [], []
            now = datetime.now(UTC)
            for event in events:
                async for message in raw_guard.in_order(event.message):
                    sent, letter = await check(message, now)
                    if sent is not None:
                        pending.append(sent)
                    if letter is not None:
                        dead.append((message.partition, letter))
            await asyncio.gather(*pending)
            for partition, key in dead:
                await dead_letters.add(partition, key)

    @app.agent(validated, name="ingest-accept", concurrency=1)
    async def accept(stream: Any) -> None:
        async for events in stream.take_events(batch, within=wait):
            pending = []
            passed: set[tuple[int, str]] = set()
            for event in events:
                async for message in validated_guard.in_order(event.message):
                    identity = (message.partition, identity_of(message))
                    if identity in passed or await identities.contains(*identity):
                        logger.debug("duplicate %s passed over", identity[1])
                        continue
                    passed.add(identity)
                    pending.append(
                        await accepted.send(
                            key=identity[1].encode(),
                            value=message.value,
                            partition=message.partition,
                            force=True,
                        )
                    )
            await asyncio.gather(*pending)
            for partition, key in passed:
                await identities.add(partition, key)

