"""Publishing a record exactly once: the one sequence every agent uses for it.

An agent that must not publish a record twice (a closure, a command's outcome, a dead letter)
keys it stably and writes it to the partition numbered like its input's; the
:class:`~streams.ledger.OutputLedger` of the output topic knows the keys already there.
"""

from __future__ import annotations

from typing import Any

from streams.ledger import OutputLedger


async def send_once(
    topic: Any, *, key: str, value: bytes | None, partition: int, ledger: OutputLedger
) -> bool:
    """Send ``value`` under ``key`` to ``partition`` of the faust ``topic`` unless ``ledger`` has the
    key there; wait for the broker's acknowledgement, then record the key. True when sent now.
    """
    if await ledger.contains(partition, key):
        return False
    sent = await topic.send(key=key.encode(), value=value, partition=partition, force=True)
    await sent
    await ledger.add(partition, key)
    return True
