"""The projection: a consumer of the public topics that keeps the read model up to date.

It reads ``feedback.themes``, ``feedback.theme-members``, ``feedback.comments.classified``,
``feedback.closures``, ``feedback.theme-outcomes``, ``feedback.monthly-updates`` and
``feedback.suggestions`` (for the embeddings semantic search compares) and ``feedback.erasures``
in its own consumer group
(``<app id>-readmodel``), applies each batch in one database transaction, and commits the
batch's offsets only after the transaction: at least once, and every upsert is idempotent, so
a crash repeats a batch without changing the result. A database that is down stops the
projection (it retries the same batch) instead of skipping records.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from youasked.contracts.topics import (
    CLOSURES,
    COMMENTS_CLASSIFIED,
    ERASURES,
    MONTHLY_UPDATES,
    SUGGESTIONS,
    THEME_MEMBERS,
    THEME_OUTCOMES,
    THEMES,
)
from youasked.readmodel.project import apply_record
from youasked.settings import Settings

logger = logging.getLogger(__name__)

KINDS = {
    THEMES: "themes",
    THEME_MEMBERS: "theme-members",
    COMMENTS_CLASSIFIED: "comments.classified",
    CLOSURES: "closures",
    THEME_OUTCOMES: "theme-outcomes",
    MONTHLY_UPDATES: "monthly-updates",
    SUGGESTIONS: "suggestions",
    ERASURES: "erasures",
}
RETRY_S = 2.0


Record = tuple[str, bytes | None] | tuple[str, bytes | None, bytes | None]
"""``(kind, value)`` or ``(kind, value, key)``: a tombstone (null value) needs its key."""


def apply_batch(engine: Engine, records: list[Record]) -> int:
    """Apply records in order in one transaction; return how many applied."""
    applied = 0
    with Session(engine) as session, session.begin():
        for record in records:
            kind, value = record[0], record[1]
            key = record[2] if len(record) > 2 else None
            applied += apply_record(session, kind, value, key)
    return applied


class Projection:
    """Runs the projection until :meth:`stop`; ``applied`` counts records written so far."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.kinds = {settings.topic_name(spec): kind for spec, kind in KINDS.items()}
        self.applied = 0
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ask the loop to end after its current batch."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume, apply, commit; until stopped."""
        consumer = AIOKafkaConsumer(
            *self.kinds,
            bootstrap_servers=self.settings.bootstrap_servers,
            group_id=f"{self.settings.app_id}-readmodel",
            client_id="youasked-readmodel",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        await consumer.start()
        try:
            while not self._stopping.is_set():
                batch = await consumer.getmany(timeout_ms=500, max_records=2000)
                records: list[Record] = [
                    (self.kinds[tp.topic], record.value, record.key)
                    for tp, messages in sorted(
                        batch.items(), key=lambda item: (item[0].topic, item[0].partition)
                    )
                    for record in messages
                ]
                if not records:
                    continue
                await self._apply(records)
                await consumer.commit()
        finally:
            await consumer.stop()

    async def _apply(self, records: list[Record]) -> None:
        while True:
            try:
                self.applied += await asyncio.to_thread(apply_batch, self.engine, records)
                return
            except SQLAlchemyError:
                logger.exception("read model write failed; retrying the batch in %.0f s", RETRY_S)
                await asyncio.sleep(RETRY_S)
                if self._stopping.is_set():
                    raise
