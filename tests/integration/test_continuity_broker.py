"""The offset guard against the real broker: skipped offsets are read back, repeats passed over."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from faust.types import TP
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.structs import OffsetAndMetadata

from streams.continuity import OffsetGuard

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Delivered:
    """What faust hands an agent, as far as the guard looks at it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None = None
    value: bytes = b""


class FaustConsumerStandIn:
    """Records what faust's consumer is told, and what the agent had handled at that moment."""

    def __init__(self, handled: list[int], topic: str, highwater: int) -> None:
        self.handled = handled
        self.topic = topic
        self.high = highwater
        self.gaps: list[tuple[Any, int, int, list[int]]] = []
        self.seeks: list[tuple[int, int]] = []

    async def _add_gap(self, tp: Any, offset_from: int, offset_to: int) -> None:
        self.gaps.append((tp, offset_from, offset_to, list(self.handled)))

    def assignment(self) -> set[TP]:
        return {TP(self.topic, 0), TP(self.topic, 1), TP("a-changelog", 0)}

    def highwater(self, tp: TP) -> int | None:
        return self.high if tp.partition == 0 else None

    async def highwaters(self, *tps: TP) -> dict[TP, int]:
        return {tp: self.high for tp in tps}

    async def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp.partition, offset))


def make_topic(bootstrap: str, per_partition: int) -> str:
    topic = f"continuity-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for partition in (0, 1):
        for i in range(per_partition):
            key, value = f"k{partition}-{i}".encode(), f"v{i}".encode()
            producer.send(topic, key=key, value=value, partition=partition)
    producer.flush()
    producer.close()
    return topic


def commit(bootstrap: str, group: str, topic: str, partition: int, offset: int) -> None:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    consumer.commit({TopicPartition(topic, partition): OffsetAndMetadata(offset, "", -1)})
    consumer.close()


def test_skipped_offsets_are_handled_in_order_before_the_record_that_revealed_them(
    kafka_bootstrap: str,
) -> None:
    topic = make_topic(kafka_bootstrap, per_partition=12)
    group = f"continuity-{uuid.uuid4().hex[:8]}"
    commit(kafka_bootstrap, group, topic, 0, 3)  # partition 1 has no committed offset
    handled: list[int] = []
    values: dict[int, bytes] = {}
    faust_consumer = FaustConsumerStandIn(handled, topic, highwater=12)
    generation = {"id": 1}
    guard = OffsetGuard(
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        faust_consumer=lambda: faust_consumer,
        generation=lambda: generation["id"],
        topics=[topic],
    )

    async def deliver(partition: int, offset: int) -> list[int]:
        seen = []
        async for record in guard.in_order(Delivered(topic, partition, offset, value=b"delivered")):
            handled.append(record.offset)
            values[record.offset] = record.value
            seen.append(record.offset)
        return seen

    async def scenario() -> None:
        assert await deliver(0, 3) == [3]  # the committed offset: nothing before it is owed
        assert await deliver(0, 4) == [4]
        assert await deliver(0, 8) == [5, 6, 7, 8]  # faust skipped 5..7
        assert [values[o] for o in (5, 6, 7)] == [b"v5", b"v6", b"v7"]  # read from the broker
        assert values[8] == b"delivered"
        assert await deliver(0, 6) == []  # a redelivery after faust seeks back
        assert await deliver(0, 9) == [9]
        # 10 and 11 wait but faust delivers nothing: partition 0 is sought back to 10, once per
        # idle period; partition 1 (never delivered, committed nothing) back to its start
        assert await guard.nudge(idle_s=60) == []
        assert await guard.nudge(idle_s=0) == [(topic, 0), (topic, 1)]
        assert await guard.nudge(idle_s=60) == []
        assert faust_consumer.seeks == [(0, 10), (1, 0)]
        assert await deliver(1, 2) == [0, 1, 2]  # no committed offset: the log's start is owed
        generation["id"] = 2  # a rebalance: partition 0 starts again from its committed offset (3)
        assert await deliver(0, 5) == [3, 4, 5]

    asyncio.run(scenario())
    told = [(tp.partition, start, stop, before) for tp, start, stop, before in faust_consumer.gaps]
    assert told[0] == (0, 5, 7, [3, 4, 5, 6, 7])  # told only once 5..7 were handled
    assert told[1][:3] == (1, 0, 1)
    assert told[2][:3] == (0, 3, 4)
    assert all(tp.topic == topic for tp, *_ in faust_consumer.gaps)
