"""The dialogue agents: measure how the brand answers in reply threads.

``dialogue-route`` reads ``feedback.comments.classified`` (every accepted comment with its
verdict; a brand reply has the verdict ``brand_reply``) and passes each comment of a thread on
to ``feedback.dialogue-turns`` keyed by product, at least once; a record it cannot read goes
to ``feedback.comments.classified.dlq``. ``dialogue`` reads the turns and applies
:func:`~models.dialogue.service.dialogue_step`: the thread's measures go to the compacted
``feedback.dialogue-threads``, each week it changed to the compacted ``feedback.dialogue-weeks``,
both acknowledged before the two changelog-backed tables are written. A turn counted before
changes nothing (the thread keeps the keys it counted), so re-deliveries count nothing twice;
a turn it cannot process goes to ``feedback.dialogue-turns.dlq``
(:class:`~streams.dead_letters.StageGuard`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from functools import partial
from typing import Any

import faust

from contracts.events import CommentClassified, event_json
from contracts.settings import Settings
from contracts.topics import COMMENTS_CLASSIFIED, DIALOGUE_THREADS, DIALOGUE_TURNS, DIALOGUE_WEEKS
from messaging.admin import changelog_config
from models.dialogue.service import THREADS, WEEKS, dialogue_step, turn_of
from streams.continuity import continuity_guard
from streams.dead_letters import StageGuard, UnreadableRecordError
from streams.holding import held_batches, held_events
from streams.metrics import WorkerMetrics
from streams.topics import raw_topic

logger = logging.getLogger(__name__)


def read_classified(value: bytes | None) -> CommentClassified:
    """The :class:`CommentClassified` of a record, or :class:`UnreadableRecordError`."""
    if value is None:
        raise UnreadableRecordError("not a CommentClassified: the record has no value")
    try:
        return CommentClassified.model_validate_json(value)
    except ValueError as exc:
        raise UnreadableRecordError(f"not a CommentClassified: {exc}") from exc


def register_dialogue(app: faust.App, settings: Settings, *, metrics: WorkerMetrics | None = None) -> None:
    """Declare the dialogue topics, tables and agents on ``app``."""
    metrics = metrics if metrics is not None else WorkerMetrics()
    classified = raw_topic(app, COMMENTS_CLASSIFIED, settings)
    turns = raw_topic(app, DIALOGUE_TURNS, settings)
    outputs = {spec.name: raw_topic(app, spec, settings) for spec in (DIALOGUE_THREADS, DIALOGUE_WEEKS)}
    partitions = settings.topic_partitions
    configs = changelog_config(settings)
    tables = {
        THREADS: app.Table(THREADS, default=None, partitions=partitions, key_type=str,
                           extra_topic_configs=configs),
        WEEKS: app.Table(WEEKS, default=None, partitions=partitions, key_type=str,
                         extra_topic_configs=configs),
    }
    routing = StageGuard(
        app, settings, stage="dialogue-route", inputs=(COMMENTS_CLASSIFIED,), metrics=metrics
    )
    measuring = StageGuard(app, settings, stage="dialogue", inputs=(DIALOGUE_TURNS,), metrics=metrics)
    classified_guard = continuity_guard(app, settings, [settings.topic_name(COMMENTS_CLASSIFIED)])
    turns_guard = continuity_guard(app, settings, [settings.topic_name(DIALOGUE_TURNS)])

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def _forget(app: faust.App, assigned: Any, **_: Any) -> None:
        routing.forget()
        measuring.forget()

    async def route(message: Any) -> Any:
        """Send a thread's comment on keyed by product (the send's future), else None."""
        record = read_classified(message.value)
        if turn_of(record) is None:
            return None
        return await turns.send(key=record.comment.product.encode(), value=message.value, force=True)

    async def route_and_wait(message: Any) -> None:
        sent = await route(message)
        if sent is not None:
            await sent

    async def measure(message: Any) -> None:
        """Apply one turn: its records first, acknowledged, then its table writes."""
        effects = dialogue_step(
            read_classified(message.value),
            threads=tables[THREADS],
            weeks=tables[WEEKS],
            level_of=settings.service_level_of,
            now=datetime.now(UTC),
        )
        if effects.passed_over:
            logger.debug("dialogue: %s", effects.passed_over)
            return
        pending = []
        if effects.thread is not None:
            thread, topic = effects.thread, outputs[DIALOGUE_THREADS.name]
            pending.append(await topic.send(key=thread.key.encode(), value=event_json(thread), force=True))
        for week in effects.weeks:
            topic = outputs[DIALOGUE_WEEKS.name]
            pending.append(await topic.send(key=week.key.encode(), value=event_json(week), force=True))
        await asyncio.gather(*pending)
        for table, key, value in effects.writes:
            if value is None:
                tables[table].pop(key, None)
            else:
                tables[table][key] = value

    batch, wait = settings.ingest_batch_size, settings.ingest_batch_wait_s

    @app.agent(classified, name="dialogue-route", concurrency=1)
    async def route_turns(stream: Any) -> None:
        async for events in held_batches(stream, batch, within=wait):
            pending: list[tuple[Any, Any]] = []
            for event in events:
                async for message in classified_guard.in_order(event.message):
                    sent = await routing.run(message, partial(route, message))
                    if sent is not None:
                        pending.append((message, sent))
            await routing.settle(pending, route_and_wait)

    @app.agent(turns, name="dialogue", concurrency=1)
    async def measure_turns(stream: Any) -> None:
        async for event in held_events(stream):
            async for message in turns_guard.in_order(event.message):
                await measuring.run(message, partial(measure, message))
