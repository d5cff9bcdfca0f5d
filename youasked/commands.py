"""Publish theme commands and read their outcomes, closures and monthly updates back.

The CLI uses these now; the API publishes through the same :func:`publish_command`. A command
is keyed by product so it reaches the partition that holds the product's themes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from contracts.events import event_json
from contracts.impact import ClosureImpact
from contracts.lifecycle import ClosureEvent, CommandOutcome, MonthlyUpdate, ThemeCommand
from contracts.settings import Settings
from contracts.topics import (
    CLOSURE_IMPACT,
    CLOSURES,
    MONTHLY_UPDATES,
    THEME_COMMANDS,
    THEME_OUTCOMES,
    TopicSpec,
)
from messaging.readback import read_topic


def publish(settings: Settings, spec: TopicSpec, records: Iterable[tuple[bytes, bytes]]) -> int:
    """Send ``(key, value)`` records to ``spec``'s topic and wait until the broker has them all."""
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_request_size=settings.kafka_message_max_bytes,
    )
    try:
        futures = [producer.send(settings.topic_name(spec), key=key, value=value) for key, value in records]
        producer.flush()
        for future in futures:
            future.get(timeout=30)
        return len(futures)
    finally:
        producer.close()


def publish_command(settings: Settings, command: ThemeCommand) -> None:
    """Publish one command to ``feedback.theme-commands`` (keyed by its product)."""
    publish(settings, THEME_COMMANDS, [(command.product.encode(), event_json(command))])


def wait_for_outcome(settings: Settings, command_id: str, *, timeout: float = 60.0) -> CommandOutcome | None:
    """The outcome of ``command_id`` once the worker decided it; None if it did not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in read_topic(settings, THEME_OUTCOMES, timeout=3.0, settle=0.5):
            if record.key == command_id.encode():
                return CommandOutcome.model_validate_json(record.value)
        time.sleep(0.5)
    return None


def read_closures(settings: Settings, *, timeout: float = 10.0) -> list[ClosureEvent]:
    """Every closure on ``feedback.closures``, oldest first (records it cannot read are skipped)."""
    closures: list[ClosureEvent] = []
    for record in read_topic(settings, CLOSURES, timeout=timeout, settle=1.0):
        try:
            closures.append(ClosureEvent.model_validate_json(record.value))
        except ValueError:
            continue
    return sorted(closures, key=lambda c: (c.generated_at, c.closure_key))


def read_impacts(settings: Settings, *, timeout: float = 10.0) -> list[ClosureImpact]:
    """Every record of ``feedback.closure-impact`` (all versions; records it cannot read are skipped)."""
    impacts: list[ClosureImpact] = []
    for record in read_topic(settings, CLOSURE_IMPACT, timeout=timeout, settle=1.0):
        try:
            impacts.append(ClosureImpact.model_validate_json(record.value))
        except ValueError:
            continue
    return impacts


def publish_monthly(settings: Settings, update: MonthlyUpdate) -> None:
    """Publish a monthly update, keyed ``product:YYYY-MM`` (compacted: the latest one stands)."""
    publish(settings, MONTHLY_UPDATES, [(f"{update.product}:{update.month}".encode(), event_json(update))])
