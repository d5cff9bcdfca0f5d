"""Where the API's records go: the Kafka cluster in service, an in-memory stand-in in tests.

A publisher raises :class:`BrokerUnavailableError` when the broker cannot take a record now and
:class:`RecordTooLargeError` when no broker ever would; the app turns them into 503 and 413 answers
and bounds every send by ``Settings.api_send_timeout_s``.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from contracts.settings import Settings


class BrokerUnavailableError(Exception):
    """The broker did not take the record (down, not ready, no such topic yet)."""


class RecordTooLargeError(Exception):
    """The record is over the producer's ``max_request_size``."""


class Publisher(Protocol):
    """Where commands, erasures and ingested comments go."""

    async def start(self) -> None:
        """Connect; raises when the broker is not reachable (the app tries again later)."""

    async def stop(self) -> None: ...

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        """Return once the record is acknowledged; raises :class:`BrokerUnavailableError` or
        :class:`RecordTooLargeError`.
        """

    async def reachable(self) -> bool:
        """True when records can be sent now."""


def producer_config(settings: Settings) -> dict[str, Any]:
    """The producer's settings: idempotent with acks=all (a retried batch is written once), and
    its largest request the broker's and the topics' record limit, so that the three agree.
    """
    return {
        "bootstrap_servers": settings.bootstrap_servers,
        "client_id": "youasked-api",
        "acks": "all",
        "enable_idempotence": True,
        "max_request_size": settings.kafka_message_max_bytes,
        "request_timeout_ms": max(1000, int(settings.api_send_timeout_s * 1000)),
    }


def record_fits(settings: Settings, key: bytes, value: bytes) -> bool:
    """True when a record of ``key`` and ``value`` is within the producer's request limit (the
    batch header and the record's framing count, as the producer counts them).
    """
    size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, [])
    return bool(size <= settings.kafka_message_max_bytes)


class KafkaPublisher:
    """Records to the Kafka cluster of ``settings`` (see :func:`producer_config`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Start a new producer; one that failed to start is closed, not reused."""
        producer = AIOKafkaProducer(**producer_config(self.settings))
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self.producer = producer

    async def stop(self) -> None:
        if self.producer is not None:
            await self.producer.stop()

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        if self.producer is None:
            raise BrokerUnavailableError("the producer is not started")
        try:
            await self.producer.send_and_wait(topic, key=key, value=value)
        except MessageSizeTooLargeError as error:
            raise RecordTooLargeError(str(error)) from error
        except KafkaError as error:
            raise BrokerUnavailableError(f"{type(error).__name__}: {error}") from error

    async def reachable(self) -> bool:
        if self.producer is None:
            return False
        try:
            await asyncio.wait_for(
                self.producer.client.fetch_all_metadata(), timeout=self.settings.api_send_timeout_s
            )
            return True
        except Exception:
            return False
