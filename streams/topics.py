"""faust topics of raw bytes: every topic of youasked carries our own JSON, not faust models."""

from __future__ import annotations

from typing import Any

import faust

from contracts.settings import Settings
from contracts.topics import TopicSpec


def raw_topic(app: faust.App, spec: TopicSpec, settings: Settings) -> Any:
    """A faust topic of raw bytes (keys and values are our own JSON, not faust models)."""
    return app.topic(
        settings.topic_name(spec),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.topic_partitions,
        internal=False,
    )
