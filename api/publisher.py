"""Where the API's records go: the Kafka cluster in service, an in-memory stand-in in tests."""

from __future__ import annotations

import asyncio
from typing import Protocol

from aiokafka import AIOKafkaProducer

from youasked.settings import Settings


class Publisher(Protocol):
    """Where commands, erasures and ingested comments go."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        """Return once the record is acknowledged."""

    async def reachable(self) -> bool:
        """True when records can be sent now."""


class KafkaPublisher:
    """Records to the Kafka cluster of ``settings`` (acks=all)."""

    def __init__(self, settings: Settings) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        await self.producer.send_and_wait(topic, key=key, value=value)

    async def reachable(self) -> bool:
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout=5)
            return True
        except Exception:
            return False
