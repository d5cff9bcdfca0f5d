"""An agent's records are acknowledged when the agent is done with them, never when it is stopped
half-way through.

faust acknowledges the events it hands to an agent in a ``finally`` clause
(``Stream.take_events`` after each batch, ``Stream.__aiter__`` after each event). When the agent
is cancelled while it still processes them (the worker stopping after its consumer thread
crashed, as when the broker leading its partitions is lost), the abandoned generator is
finalized, the clause runs, and the events count as done: the next offset commit passes records
whose outputs were never written. A graceful stop is not exposed (faust waits for the agents to
finish what they hold, ``Consumer.wait_empty``); a crashing one is.

Each event handed out here holds one more reference on its message than faust's own, let go only
when the agent asks for the next batch (or event), that is after its body ran to the end. faust's
acknowledgement then is the last one and marks the offset done, as before. An abandoned batch
keeps its extra reference: its offsets are not committed, and the records come again after the
restart, where the output ledgers (:mod:`streams.ledger`) pass over what was written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any


async def held_batches(stream: Any, size: int, *, within: float) -> AsyncIterator[list[Any]]:
    """``stream.take_events(size, within=within)``, each batch acknowledged only once the agent
    has processed it.
    """
    async for events in stream.take_events(size, within=within):
        batch = list(events)
        for event in batch:
            event.message.incref()
        yield batch
        for event in batch:  # reached only when the agent asks for the next batch
            event.ack()


async def held_events(stream: Any) -> AsyncIterator[Any]:
    """``stream.events()``, each event acknowledged only once the agent has processed it."""
    async for event in stream.events():
        event.message.incref()
        yield event
        event.ack()
