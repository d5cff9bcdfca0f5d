"""Topic creation with kafka-python's admin client, from the declarations in ``contracts.topics``."""

from __future__ import annotations

import logging
import time

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from contracts.settings import Settings
from contracts.topics import ALL_TOPICS, TopicSpec

logger = logging.getLogger(__name__)


def topic_config(spec: TopicSpec, settings: Settings) -> dict[str, str]:
    """Broker-side configuration of a declared topic; its largest record is the one limit the
    broker and every producer share (``Settings.kafka_message_max_bytes``).
    """
    config = {
        "max.message.bytes": str(settings.kafka_message_max_bytes),
        "min.insync.replicas": str(settings.min_insync_replicas),
    }
    if spec.compacted:
        config["cleanup.policy"] = "compact"
    else:
        config["cleanup.policy"] = "delete"
        config["retention.ms"] = str(settings.topic_retention_ms)
    return config


def changelog_config(settings: Settings) -> dict[str, str]:
    """Broker-side configuration of a table changelog, which faust creates when it declares the
    table (compacted by faust): ``segment.bytes`` from ``Settings.changelog_segment_bytes``.
    """
    if settings.changelog_segment_bytes:
        return {"segment.bytes": str(settings.changelog_segment_bytes)}
    return {}


def ensure_topics(
    settings: Settings, specs: tuple[TopicSpec, ...] = ALL_TOPICS, *, timeout_s: float = 30.0
) -> list[str]:
    """Create every declared topic that does not exist yet; return the names created."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="youasked-admin")
            break
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(
                name=settings.topic_name(spec),
                num_partitions=spec.partitions or settings.topic_partitions,
                replication_factor=settings.replication_factor,
                topic_configs=topic_config(spec, settings),
            )
            for spec in specs
            if settings.topic_name(spec) not in existing
        ]
        if not wanted:
            return []
        try:
            admin.create_topics(wanted, timeout_ms=int(timeout_s * 1000))
        except TopicAlreadyExistsError:
            pass  # another worker created them first
        created = [t.name for t in wanted]
        logger.info("created topics %s", ", ".join(created))
        return created
    finally:
        admin.close()
