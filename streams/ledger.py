"""Exactly-once effects on output topics, by reading the output back.

faust's ``exactly_once`` guarantee is not dependable, so agents run at-least-once and make
their outputs idempotent: each output record has a stable key, is written to the partition
numbered like its input's, and before a worker processes a partition it reads that output
partition back to its end. A key already there was produced before (by this worker or by one
that crashed) and is not produced again. The output topic is the ledger: a record and its
"done" mark are the same write, so no crash can separate them. The horizon of this memory is
the output topic's retention.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

logger = logging.getLogger(__name__)


class OutputLedger:
    """The set of keys already written to each partition of one output topic.

    ``key_of`` turns a record's raw key into the ledger key (default: the UTF-8 text);
    ``entry_of``, when given, turns a record's raw key and value into it instead (a compacted
    topic that publishes new versions of one key remembers each version).
    """

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        topic: str,
        key_of: Callable[[bytes], str] | None = None,
        entry_of: Callable[[bytes, bytes | None], str] | None = None,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self._key_of = key_of or (lambda raw: raw.decode("utf-8", "replace"))
        self._entry_of = entry_of
        self._keys: dict[int, set[str]] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def forget(self) -> None:
        """Drop every loaded partition: after a rebalance, partitions are read back again."""
        self._keys.clear()

    async def keys(self, partition: int) -> set[str]:
        """The keys of ``partition``, reading it back from the broker on first use."""
        loaded = self._keys.get(partition)
        if loaded is not None:
            return loaded
        lock = self._locks.setdefault(partition, asyncio.Lock())
        async with lock:
            loaded = self._keys.get(partition)
            if loaded is None:
                loaded = await self._read_partition(partition)
                self._keys[partition] = loaded
        return loaded

    async def contains(self, partition: int, key: str) -> bool:
        """True when ``key`` was already written to ``partition``."""
        return key in await self.keys(partition)

    async def add(self, partition: int, key: str) -> None:
        """Record that ``key`` was written (and acknowledged) on ``partition``."""
        (await self.keys(partition)).add(key)

    async def _read_partition(self, partition: int) -> set[str]:
        tp = TopicPartition(self.topic, partition)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            enable_auto_commit=False,
            group_id=None,
            isolation_level="read_committed",
            client_id=f"youasked-ledger-{self.topic}",
        )
        await consumer.start()
        keys: set[str] = set()
        try:
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            end = (await consumer.end_offsets([tp]))[tp]
            while await consumer.position(tp) < end:
                batch = await consumer.getmany(tp, timeout_ms=1000, max_records=5000)
                for record in batch.get(tp, []):
                    if record.key is not None and self._entry_of is not None:
                        keys.add(self._entry_of(record.key, record.value))
                    elif record.key is not None:
                        keys.add(self._key_of(record.key))
        finally:
            await consumer.stop()
        logger.info("ledger %s[%d]: %d keys read back", self.topic, partition, len(keys))
        return keys
