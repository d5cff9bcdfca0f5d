"""Consumer lag of the worker's group: how far each input topic is from being fully processed."""

from __future__ import annotations

import time

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from contracts.settings import Settings


def group_lag(settings: Settings, topics: list[str]) -> dict[str, int]:
    """Records not yet committed by the worker's consumer group, per topic (end - committed)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="youasked-lag")
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, group_id=None, client_id="youasked-lag"
    )
    try:
        committed = admin.list_consumer_group_offsets(settings.app_id)
        lag: dict[str, int] = {}
        for topic in topics:
            tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
            ends = consumer.end_offsets(tps) if tps else {}
            total = 0
            for tp in tps:
                done = committed.get(tp)
                total += ends[tp] - (done.offset if done is not None and done.offset >= 0 else 0)
            lag[topic] = total
        return lag
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
