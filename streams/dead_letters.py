"""A dead-letter path for every stage: a record a stage cannot process is set aside, and the stage
moves on.

Each agent wraps the work it does for one input record (or one batch) in :meth:`StageGuard.run`:

* a **transient** error (the broker unreachable, a request timed out, a leader moving: aiokafka's
  retriable errors, connection and time-outs; and faust's ``PartitionsMismatch`` of a table whose
  changelog topic the worker's metadata does not show whole yet, as on a broker where the topic
  was just created) is retried with exponential backoff, for as long as it lasts: the stage
  waits for the broker instead of setting a good record aside;
* **any other exception** on a record sets that record aside on its input topic's dead-letter
  topic (``<input>.dlq``, :data:`~contracts.topics.DEAD_LETTER_TOPICS`), with the stage,
  the reason, the exception's type and the original bytes (:mod:`models.dead_letters`), and
  the stage goes on with the next record.

A dead letter is keyed ``topic:partition:offset`` and written to the partition numbered like
its input's, and it is published once (:func:`~streams.publish.send_once`): a record set aside
before a crash is not set aside twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import faust
from aiokafka.errors import (
    BrokerNotAvailableError,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    KafkaUnavailableError,
    NodeNotReadyError,
    ProducerClosed,
    ReplicaNotAvailableError,
)
from faust.exceptions import PartitionsMismatch

from contracts.events import DeadLetterReason, SourceRef, event_json
from contracts.settings import Settings
from contracts.topics import DEAD_LETTER_TOPICS, TopicSpec
from models.dead_letters import dead_letter_key, stage_dead_letter
from streams.ledger import OutputLedger
from streams.metrics import WorkerMetrics
from streams.publish import send_once
from streams.topics import raw_topic

logger = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0


class UnreadableRecordError(ValueError):
    """A stage's input record is not what its topic carries (not our own schema)."""


BROKER_UNAVAILABLE: tuple[type[KafkaError], ...] = (
    KafkaConnectionError,
    KafkaTimeoutError,
    KafkaUnavailableError,
    BrokerNotAvailableError,
    NodeNotReadyError,
    ReplicaNotAvailableError,
    ProducerClosed,
)
"""aiokafka errors that do not call themselves retriable but say only that the cluster could not
take a request for now: a send that expired while a partition had no leader (``KafkaTimeoutError``
after ``request_timeout_ms``), no broker answering, the producer closed under a worker that is
stopping. A record is never set aside for them."""


def is_transient(error: BaseException) -> bool:
    """True for errors that pass by themselves: the broker unreachable or busy, a time-out, a
    table's changelog topic not yet known in full (never a fault of the record being processed).
    """
    if isinstance(error, PartitionsMismatch):
        return True
    if isinstance(error, KafkaError):
        return bool(getattr(error, "retriable", False)) or isinstance(error, BROKER_UNAVAILABLE)
    return isinstance(error, ConnectionError | TimeoutError)


def qualified_name(error: BaseException) -> str:
    """``module.Type`` of an exception, for a dead letter's ``exception_type``."""
    kind = type(error)
    return f"{kind.__module__}.{kind.__qualname__}"


class StageGuard:
    """The dead-letter path and transient retries of one stage (agent) of the worker."""

    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        *,
        stage: str,
        inputs: tuple[TopicSpec, ...],
        metrics: WorkerMetrics,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.stage = stage
        self.metrics = metrics
        self.max_record_bytes = settings.kafka_message_max_bytes
        self._sleep = sleep
        self._topics: dict[str, Any] = {}
        self._ledgers: dict[str, OutputLedger] = {}
        for spec in inputs:
            dlq = DEAD_LETTER_TOPICS[spec.name]
            name = settings.topic_name(spec)
            self._topics[name] = raw_topic(app, dlq, settings)
            self._ledgers[name] = OutputLedger(
                bootstrap_servers=settings.bootstrap_servers, topic=settings.topic_name(dlq)
            )

    def forget(self) -> None:
        """After a rebalance, the ledgers read their partitions back again."""
        for ledger in self._ledgers.values():
            ledger.forget()

    async def retrying(self, work: Callable[[], Awaitable[T]], *, what: str) -> T:
        """Run ``work`` until it returns or raises a non-transient error, backing off on transient ones."""
        delay = RETRY_FIRST_S
        while True:
            try:
                return await work()
            except Exception as error:
                if not is_transient(error):
                    raise
                logger.warning(
                    "%s: transient error on %s (%s: %s); retrying in %.1f s",
                    self.stage,
                    what,
                    type(error).__name__,
                    error,
                    delay,
                )
                await self._sleep(delay)
                delay = min(RETRY_MAX_S, delay * 2)

    async def run(
        self,
        message: Any,
        work: Callable[[], Awaitable[T]],
        *,
        on_set_aside: Callable[[BaseException], Awaitable[None]] | None = None,
    ) -> T | None:
        """Process one input record: ``work()``'s result, or None when the record was set aside
        (then ``on_set_aside(error)`` runs, e.g. to answer whoever waits on the record).
        """
        try:
            return await self.retrying(work, what=_where(message))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            await self.set_aside(message, error)
            if on_set_aside is not None:
                await on_set_aside(error)
            return None

    async def settle(self, sent: list[tuple[Any, Any]], redo: Callable[[Any], Awaitable[Any]]) -> None:
        """Wait for the sends of a batch (``(message, future)`` pairs); a message whose send
        failed is done again alone, through :meth:`run` (``redo(message)`` sends and waits).
        """
        results = await asyncio.gather(*(future for _, future in sent), return_exceptions=True)
        for (message, _), result in zip(sent, results, strict=True):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, BaseException):
                logger.warning(
                    "%s: a send for %s failed (%r); once more alone", self.stage, _where(message), result
                )
                await self.run(message, partial(redo, message))

    async def set_aside(self, message: Any, error: BaseException) -> None:
        """Set ``message`` aside because processing it raised ``error``."""
        unreadable = isinstance(error, UnreadableRecordError)
        reason = DeadLetterReason.UNREADABLE_RECORD if unreadable else DeadLetterReason.PROCESSING_FAILED
        logger.error(
            "%s: set aside %s (%s): %s: %s",
            self.stage,
            _where(message),
            reason.value,
            type(error).__name__,
            error,
            exc_info=error if not unreadable else None,
        )
        await self.reject(
            message,
            reason=reason,
            detail=f"{type(error).__name__}: {error}",
            exception_type=qualified_name(error),
        )

    async def reject(
        self, message: Any, *, reason: DeadLetterReason, detail: str, exception_type: str | None = None
    ) -> None:
        """Write ``message``'s dead letter (once per input offset) and count it."""
        source = SourceRef(topic=message.topic, partition=message.partition, offset=message.offset)
        key = dead_letter_key(source)
        ledger, topic = self._ledgers[message.topic], self._topics[message.topic]

        async def write() -> None:
            record = stage_dead_letter(
                message.value,
                key=message.key,
                stage=self.stage,
                reason=reason,
                detail=detail,
                source=source,
                failed_at=datetime.now(UTC),
                max_record_bytes=self.max_record_bytes,
                exception_type=exception_type,
            )
            value = event_json(record)
            if await send_once(topic, key=key, value=value, partition=message.partition, ledger=ledger):
                labels = {"stage": self.stage, "topic": message.topic, "reason": reason.value}
                self.metrics.dead_letters.labels(**labels).inc()

        await self.retrying(write, what=f"the dead letter of {_where(message)}")


def _where(message: Any) -> str:
    return f"{message.topic}[{message.partition}]@{message.offset}"
