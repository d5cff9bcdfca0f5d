"""Publishing a record exactly once: the one sequence every agent uses for it.

An agent that must not publish a record twice (a closure, a command's outcome, a dead letter)
keys it stably and writes it to the partition numbered like its input's; the
:class:`~streams.ledger.OutputLedger` of the output topic knows the keys already there.
"""

from __future__ import annotations

from typing import Any

from streams.ledger import OutputLedger


async def send_once(
    topic: Any,
    *,
    key: str,
    value: bytes | None,
    partition: int,
    ledger: OutputLedger,
    ledger_key: str | None = None,
) -> bool:
    """Send ``value`` under ``key`` to ``partition`` of the faust ``topic`` unless ``ledger`` has the
    key there (``ledger_key`` when the ledger remembers something else than the key, such as a
    version); wait for the broker's acknowledgement, then record it. True when sent now.
    """
    entry = key if ledger_key is None else ledger_key
    if await ledger.contains(partition, entry):
        return False
    sent = await topic.send(key=key.encode(), value=value, partition=partition, force=True)
    await sent
    await ledger.add(partition, entry)
    return True
