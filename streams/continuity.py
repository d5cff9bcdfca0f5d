"""Every offset of an input partition reaches its agent, even when faust's fetch path skips some.

faust-streaming can deliver a partition with a hole in it: records fetched while the consumer
is between recovery and the seek to committed offsets are dropped, and its "gap" bookkeeping
(meant for compacted topics and transaction markers) then commits the missing offsets as if
they had been processed (faust-streaming issues #216 and #606). Seen here after a SIGKILL and
restart: 11 of 1,500 comments never validated, their offsets committed. When the gap is not
filled instead, the hole is never acknowledged and the partition's commits stop for good.

:class:`OffsetGuard` checks continuity in the agent itself. It knows, per partition, the next
offset the agent should see: the group's committed offset on first sight after an assignment,
then one past the last admitted record. A record above that offset means faust skipped the
offsets in between: the guard reads them straight from the broker so that the agent handles
them first, in order, then tells faust's consumer they are done so that commits move on. A
record below it was already handled in this assignment (faust seeks back to committed offsets
after recovery) and is passed over. Every output is idempotent, so a record handled twice
costs a duplicate at most; a record never handled would be a silent loss.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faust.types import TP

from contracts.settings import Settings

logger = logging.getLogger(__name__)

READ_CHUNK = 500
IDLE_S = 15.0


@dataclass(frozen=True)
class Admission:
    """What to do with one delivered record.

    ``repeat``: already handled in this assignment, pass it over. ``skipped``: the offsets
    before it that faust never delivered; handle them (``OffsetGuard.read``) before it.
    """

    repeat: bool = False
    skipped: range = field(default_factory=lambda: range(0))


class OffsetGuard:
    """Per-partition continuity of the records an agent sees, for the consumer group ``group_id``.

    ``faust_consumer`` returns faust's consumer (``app.consumer``, which does not exist yet while
    agents are declared); it hears about skipped offsets once the agent has handled them.
    ``None`` leaves commits to faust alone (tests). ``generation`` returns the consumer group
    generation (``app.consumer_generation_id``): what the guard knows holds for one generation,
    since after a rebalance each partition starts again from its committed offset. (faust's
    ``on_partitions_assigned`` signal is no substitute: records of the new generation can reach
    the agents before it is sent.)
    """

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        group_id: str,
        faust_consumer: Callable[[], Any] | None = None,
        generation: Callable[[], int] | None = None,
        topics: Iterable[str] = (),
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.group_id = group_id
        self.faust_consumer = faust_consumer
        self.generation = generation
        self.topics = set(topics)
        self._generation_seen: int | None = None
        self._next: dict[tuple[str, int], int] = {}
        self._committed: dict[tuple[str, int], int] | None = None
        self._last_seen: dict[tuple[str, int], float] = {}

    def forget(self) -> None:
        """Drop what is known: after a rebalance each partition starts from its committed offset."""
        self._next.clear()
        self._committed = None
        self._last_seen.clear()

    def _check_generation(self) -> None:
        if self.generation is not None:
            current = self.generation()
            if current != self._generation_seen:
                self.forget()
                self._generation_seen = current

    async def admit(self, message: Any) -> Admission:
        """Check ``message`` (anything with ``topic``, ``partition``, ``offset``) against the
        partition's next expected offset, and move that offset past it.
        """
        self._check_generation()
        key = (message.topic, message.partition)
        self._last_seen[key] = time.monotonic()
        expected = self._next.get(key)
        if expected is None:
            expected = await self._start_offset(message.topic, message.partition)
        if message.offset < expected:
            return Admission(repeat=True)
        self._next[key] = message.offset + 1
        skipped = range(expected, message.offset)
        if skipped:
            logger.warning(
                "%s[%d]: offsets %d..%d were not delivered by the stream; reading them from the broker",
                message.topic,
                message.partition,
                skipped.start,
                skipped.stop - 1,
            )
        return Admission(skipped=skipped)

    def wait_for_step(self) -> None:
        """The agent is busy with a step: no partition's idle time counts while it runs."""
        now = time.monotonic()
        for key in self._last_seen:
            self._last_seen[key] = now

    async def nudge(self, *, idle_s: float) -> list[tuple[str, int]]:
        """Seek back partitions of ``topics`` that have records waiting but delivered none for
        ``idle_s`` seconds; return them.

        The other way faust loses track of a partition: the records it fetched and dropped were
        the last ones, so no later record reveals the hole, and the partition sits idle with
        input waiting (and its commits stopped). Seeking the partition to the next offset the
        agent needs makes faust fetch and deliver from there through its normal path; records
        it then delivers twice are repeats and passed over.
        """
        if self.faust_consumer is None:
            return []
        consumer = self.faust_consumer()
        self._check_generation()
        now = time.monotonic()
        nudged = []
        for tp in sorted(consumer.assignment()):
            if tp.topic not in self.topics:
                continue
            key = (tp.topic, tp.partition)
            high = consumer.highwater(tp)
            if high is None:  # nothing fetched for it yet: ask the broker
                high = (await consumer.highwaters(tp)).get(tp)
            if high is None:
                continue
            expected = self._next.get(key)
            if expected is None:
                expected = await self._start_offset(tp.topic, tp.partition)
            last = self._last_seen.setdefault(key, now)
            if high <= expected:
                self._last_seen[key] = now
                continue
            if now - last < idle_s:
                continue
            logger.warning(
                "%s[%d]: %d records waiting, none delivered for %.0f s; seeking back to offset %d",
                tp.topic,
                tp.partition,
                high - expected,
                now - last,
                expected,
            )
            await consumer.seek(TP(tp.topic, tp.partition), expected)
            self._last_seen[key] = now
            nudged.append(key)
        return nudged

    async def in_order(self, message: Any) -> AsyncIterator[Any]:
        """The records to handle for ``message``: those faust skipped before it, then itself;
        nothing for a repeat. faust hears that the skipped offsets are done once the loop asks
        for ``message``, that is after the caller has handled them.
        """
        admission = await self.admit(message)
        if admission.repeat:
            return
        async for record in self.read(message.topic, message.partition, admission.skipped):
            yield record
        await self.settle(message.topic, message.partition, admission.skipped)
        yield message

    async def read(self, topic: str, partition: int, offsets: range) -> AsyncIterator[Any]:
        """The records at ``offsets`` of ``topic[partition]``, in order, straight from the broker
        (aiokafka ``ConsumerRecord``: ``topic``, ``partition``, ``offset``, ``key``, ``value``).
        Offsets the log no longer holds (retention) are simply not there.
        """
        if not offsets:
            return
        tp = TopicPartition(topic, partition)
        reader = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            enable_auto_commit=False,
            group_id=None,
            client_id=f"youasked-continuity-{topic}",
        )
        await reader.start()
        try:
            reader.assign([tp])
            reader.seek(tp, offsets.start)
            end = min(offsets.stop, (await reader.end_offsets([tp]))[tp])
            while await reader.position(tp) < end:
                batch = await reader.getmany(tp, timeout_ms=1000, max_records=READ_CHUNK)
                for record in batch.get(tp, []):
                    if offsets.start <= record.offset < offsets.stop:
                        yield record
        finally:
            await reader.stop()

    async def settle(self, topic: str, partition: int, offsets: range) -> None:
        """Tell faust's consumer that ``offsets`` are handled, so that its commits pass them."""
        if offsets and self.faust_consumer is not None:
            # faust's own bookkeeping for offsets no record will come for (private, version-pinned)
            await self.faust_consumer()._add_gap(TP(topic, partition), offsets.start, offsets.stop - 1)

    async def _start_offset(self, topic: str, partition: int) -> int:
        """The group's committed offset of the partition, or the log's start when there is none.

        One request fetches the group's offsets of every partition; they stay valid for the
        assignment, because faust commits nothing for a partition before its first record is
        handled.
        """
        if self._committed is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
            await admin.start()
            try:
                offsets = await admin.list_consumer_group_offsets(self.group_id)
            finally:
                await admin.close()
            self._committed = {
                (tp.topic, tp.partition): int(meta.offset) for tp, meta in offsets.items() if meta.offset >= 0
            }
        known = self._committed.get((topic, partition))
        if known is not None:
            return known
        tp = TopicPartition(topic, partition)
        reader = AIOKafkaConsumer(bootstrap_servers=self.bootstrap_servers, group_id=None)
        await reader.start()
        try:
            start = int((await reader.beginning_offsets([tp]))[tp])
        finally:
            await reader.stop()
        self._committed[(topic, partition)] = start  # asked once per generation, not on every timer tick
        return start


def continuity_guard(
    app: faust.App, settings: Settings, topics: Iterable[str], *, busy: Callable[[], float] | None = None
) -> OffsetGuard:
    """An :class:`OffsetGuard` for the agent of ``app`` that reads ``topics`` (the group is the
    app id), with a timer that nudges its idle partitions every few seconds. ``busy`` says how
    long a step of the agent has been running (0: none): records wait behind it, and are not
    taken for lost until it ends.
    """
    guard = OffsetGuard(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=app.conf.id,
        faust_consumer=lambda: app.consumer,
        generation=lambda: int(app.consumer_generation_id),
        topics=topics,
    )

    async def nudge_idle_partitions() -> None:
        if app.rebalancing or not app.consumer.assignment():
            return
        if busy is not None and busy() > 0:
            guard.wait_for_step()
            return
        await guard.nudge(idle_s=IDLE_S)

    app.timer(interval=IDLE_S / 3)(nudge_idle_partitions)
    return guard
