"""Read a topic back from its beginning: for summaries, the demo and tests."""

from __future__ import annotations

import time
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition

from contracts.settings import Settings
from contracts.topics import TopicSpec


@dataclass(frozen=True, slots=True)
class Record:
    """One record read back."""

    key: bytes | None
    value: bytes
    partition: int
    offset: int


def fetch_limits(settings: Settings) -> dict[str, int]:
    """kafka-python consumer options that can read any record the cluster takes: its network
    frames are capped at 1,000,000 bytes by default, below the broker's 1,048,588-byte records.
    """
    largest = settings.kafka_message_max_bytes
    return {
        "max_partition_fetch_bytes": largest,
        "fetch_max_bytes": 4 * largest,
        "receive_message_max_bytes": 5 * largest + 65_536,
    }


SCAN_OPTIONS: dict[str, bool] = {"check_crcs": False}
"""kafka-python options for reading a whole topic: without a C CRC-32C module (the LGPL
``crc32c`` package, not a dependency) kafka-python checks each batch's checksum in pure Python,
about 3.6 MB/s on one core, so reading back a topic of tens of megabytes cost more CPU than the
workers writing it. The broker checks every batch's CRC when it appends it, and the transport
has its own checksums; a scan trusts them.
"""


def read_topic(
    settings: Settings, spec: TopicSpec, *, expect: int = 0, timeout: float = 30.0, settle: float = 2.0
) -> list[Record]:
    """Read ``spec``'s topic from the beginning until at least ``expect`` records arrived and
    nothing more came for ``settle`` seconds (so that extra records are seen too), or until
    ``timeout`` seconds passed. Records come in partition order within each poll.
    """
    topic = settings.topic_name(spec)
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        client_id="youasked-readback",
        **SCAN_OPTIONS,
        **fetch_limits(settings),
    )
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list[Record] = []
        deadline = time.monotonic() + timeout
        last_growth = time.monotonic()
        while time.monotonic() < deadline:
            for items in consumer.poll(timeout_ms=300).values():
                for item in items:
                    records.append(Record(item.key, item.value, item.partition, item.offset))
                    last_growth = time.monotonic()
            if len(records) >= expect and time.monotonic() - last_growth >= settle:
                break
        return records
    finally:
        consumer.close()
