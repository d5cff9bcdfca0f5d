"""Consumer lag of the worker's group: how far each input topic is from being fully processed.

Every kafka-python reader of lag (this module's :func:`group_lag`, the supervisor, the
dashboard) reads the offsets with :func:`read_lag`, which counts by the one rule of
:mod:`messaging.offsets`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from contracts.settings import Settings
from messaging.offsets import counted_from, has_commit, partition_lag


@dataclass(frozen=True)
class PartitionLag:
    """One partition as a consumer group sees it (offsets, records)."""

    topic: str
    partition: int
    end_offset: int
    counted_from: int  # the group's committed offset, or the log start offset where it has none
    lag: int


def read_lag(admin: Any, consumer: Any, group_id: str, topics: Iterable[str]) -> list[PartitionLag]:
    """The lag of ``group_id`` on every partition of ``topics`` (in that order, partitions
    ascending), read with a kafka-python ``KafkaAdminClient`` and ``KafkaConsumer``; the log start
    offsets are asked for only where the group has committed nothing.
    """
    offsets = admin.list_consumer_group_offsets(group_id)
    committed = {tp: meta.offset for tp, meta in offsets.items() if has_commit(meta.offset)}
    tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or [])]
    if not tps:
        return []
    ends = consumer.end_offsets(tps)
    uncommitted = [tp for tp in tps if tp not in committed]
    starts = consumer.beginning_offsets(uncommitted) if uncommitted else {}
    return [
        PartitionLag(
            topic=tp.topic,
            partition=tp.partition,
            end_offset=ends[tp],
            counted_from=counted_from(committed=committed.get(tp), log_start=starts.get(tp)),
            lag=partition_lag(end_offset=ends[tp], committed=committed.get(tp), log_start=starts.get(tp)),
        )
        for tp in tps
    ]


def group_lag(settings: Settings, topics: list[str]) -> dict[str, int]:
    """Records not yet committed by the worker's consumer group, per topic (see :func:`read_lag`)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="youasked-lag")
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, group_id=None, client_id="youasked-lag"
    )
    try:
        partitions = read_lag(admin, consumer, settings.app_id, topics)
        return {topic: sum(p.lag for p in partitions if p.topic == topic) for topic in topics}
    finally:
        consumer.close()
        admin.close()


def wait_for_zero_lag(
    settings: Settings, topics: list[str], *, timeout: float = 120.0, poll: float = 1.0
) -> dict[str, int]:
    """Poll :func:`group_lag` until every topic's lag is 0 or ``timeout`` passes; return the last lag."""
    deadline = time.monotonic() + timeout
    lag: dict[str, int] = dict.fromkeys(topics, -1)
    while True:
        try:
            lag = group_lag(settings, topics)
        except KafkaError:  # a fresh cluster: the group coordinator is not ready yet
            lag = dict.fromkeys(topics, -1)
        if not any(lag.values()) or time.monotonic() >= deadline:
            return lag
        time.sleep(poll)
