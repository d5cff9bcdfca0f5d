"""An agent stopped half-way through a batch leaves that batch unacknowledged.

The stream here does what faust's does (``Stream.take_events``, ``Stream.__aiter__``): it hands
out events whose messages hold one reference (the conductor's ``incref``) and acknowledges them
in a ``finally`` clause; the messages are faust's own, so their reference counting is the real one.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from typing import Any

from faust.types.tuples import ConsumerMessage

from streams.holding import held_batches, held_events


class Consumer:
    """Records the offsets marked done (faust's ``Consumer.ack`` on a message's final ack)."""

    def __init__(self) -> None:
        self.done: list[int] = []

    def ack(self, message: ConsumerMessage) -> bool:
        if message.acked:
            return False
        message.acked = True
        self.done.append(message.offset)
        return True


class Event:
    def __init__(self, message: ConsumerMessage, consumer: Consumer) -> None:
        self.message = message
        self.consumer = consumer

    def ack(self) -> bool:
        return self.message.ack(self.consumer)  # type: ignore[arg-type]


class Stream:
    """Events of offsets 0..n-1, acknowledged in ``finally`` clauses as faust does."""

    def __init__(self, n: int) -> None:
        self.consumer = Consumer()
        self.handed: list[Event] = []
        for offset in range(n):
            message = ConsumerMessage("feedback.comments", 0, offset, 0.0, 0, None, None, b"{}", None)
            message.incref()  # one stream subscribes: faust's conductor
            self.handed.append(Event(message, self.consumer))

    async def take_events(self, size: int, within: float) -> AsyncIterator[list[Event]]:
        for start in range(0, len(self.handed), size):
            batch = self.handed[start : start + size]
            try:
                yield batch
            finally:
                for event in batch:
                    event.ack()

    async def events(self) -> AsyncIterator[Event]:
        for event in self.handed:
            try:
                yield event
            finally:
                event.ack()


def stop_in_second_batch(batches: Any) -> None:
    """Process the first batch, then be cancelled while processing the second (a stopping worker)."""
    started = asyncio.Event()

    async def agent() -> None:
        seen = 0
        async for _ in batches:
            seen += 1
            if seen == 2:
                started.set()
                await asyncio.sleep(3600)

    async def main() -> None:
        task = asyncio.create_task(agent())
        await started.wait()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        gc.collect()  # faust's wait_empty collects too: abandoned generators are finalized
        await asyncio.sleep(0.05)

    asyncio.run(main())


def test_a_batch_abandoned_by_a_stop_is_not_acknowledged_one_processed_is() -> None:
    stream = Stream(9)
    stop_in_second_batch(held_batches(stream, 3, within=0.1))
    assert stream.consumer.done == [0, 1, 2]


def test_faust_alone_acknowledges_the_abandoned_batch() -> None:
    stream = Stream(9)
    stop_in_second_batch(stream.take_events(3, within=0.1))
    assert stream.consumer.done == [0, 1, 2, 3, 4, 5]  # 3..5 were never processed


def test_an_event_abandoned_by_a_stop_is_not_acknowledged() -> None:
    stream = Stream(4)
    stop_in_second_batch(held_events(stream))
    assert stream.consumer.done == [0]


def test_every_processed_batch_is_acknowledged_once() -> None:
    stream = Stream(7)

    async def agent() -> None:
        async for batch in held_batches(stream, 3, within=0.1):
            assert all(event.message.refcount == 2 for event in batch)

    asyncio.run(agent())
    assert stream.consumer.done == list(range(7))
    assert all(event.message.refcount == 0 for event in stream.handed)
