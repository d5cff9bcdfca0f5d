"""faust's Kafka transport with an idempotent producer.

faust's aiokafka producer sends with the configured ``acks`` but turns idempotence on only
inside transactions. Without it, a batch whose acknowledgement is lost when a partition's
leader fails is retried by the client and written twice. This transport's producer always
sends with ``acks=all`` and ``enable_idempotence``, so a retry is written once. It is registered
under the URL scheme ``youasked-kafka`` (the ``faust.transports`` entry point in
``pyproject.toml``); :func:`streams.app.create_app` uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from faust.transport.drivers import aiokafka

SCHEME = "youasked-kafka"


class IdempotentProducer(aiokafka.Producer):
    """faust's aiokafka producer, idempotent in and out of transactions."""

    def _settings_extra(self) -> Mapping[str, Any]:
        return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}


class Transport(aiokafka.Transport):
    """faust's aiokafka transport with :class:`IdempotentProducer`."""

    Producer: ClassVar[Any] = IdempotentProducer
