"""The projection: a consumer of the public topics that keeps the read model up to date.

It reads ``feedback.themes``, ``feedback.theme-members``, ``feedback.comments.classified``,
``feedback.closures``, ``feedback.theme-outcomes``, ``feedback.monthly-updates`` and
``feedback.suggestions`` (for the embeddings semantic search compares), ``feedback.erasures`` and
``feedback.closure-impact`` in its own consumer group
(``<app id>-readmodel``), applies each batch in one database transaction, and commits the
batch's offsets only after the transaction: at least once, and every upsert is idempotent, so
a crash repeats a batch without changing the result.

A database that is down (a lost connection, a server restarting, a lock held too long) stops
the projection: it retries the same batch with backoff instead of skipping records. A record
that fails on its own (a value the database cannot hold, a record that is not its topic's
event) is set aside in the ``set_aside`` table with its place, reason and value, and the rest of
the batch commits: when a batch fails, it is split in halves, each applied in its own
transaction, down to the single records that fail alone.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from aiokafka import AIOKafkaConsumer
from sqlalchemy import Engine, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from api.readmodel.project import apply_record, rank_products
from api.readmodel.schema import SET_ASIDE_MAX_BYTES, SetAsideRow, ThemeRow
from contracts.settings import Settings
from contracts.topics import (
    CLOSURE_IMPACT,
    CLOSURES,
    COMMENTS_CLASSIFIED,
    DIALOGUE_THREADS,
    DIALOGUE_WEEKS,
    ERASURES,
    MONTHLY_UPDATES,
    SUGGESTIONS,
    THEME_MEMBERS,
    THEME_OUTCOMES,
    THEMES,
)

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
    CLOSURE_IMPACT: "closure-impact",
    DIALOGUE_WEEKS: "dialogue-weeks",
    DIALOGUE_THREADS: "dialogue-threads",
}
STAGE = "projection"
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0
REASON_MAX_CHARS = 2000

TRANSIENT = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    ConnectionError,
    TimeoutError,
)


class Record(NamedTuple):
    """One record as the projection reads it: its topic's logical ``kind`` (a key of
    :data:`~api.readmodel.project.PROJECTIONS`), value (None: a tombstone), key, and where it
    is (None when a batch is given by hand).
    """

    kind: str
    value: bytes | None
    key: bytes | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None


RecordLike = Record | tuple[str, bytes | None] | tuple[str, bytes | None, bytes | None]
"""A :class:`Record`, or ``(kind, value)`` or ``(kind, value, key)``."""


def is_transient(error: BaseException) -> bool:
    """True for errors of the database rather than of a record (server down or restarting, a
    lost connection, a lock held too long, a pool time-out): retried, never set aside.

    PostgreSQL's "program limit exceeded" (SQLSTATE class 54, a statement too large or complex)
    is an OperationalError that a record causes, so it is the record's.
    """
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if str(getattr(error.orig, "sqlstate", "") or "").startswith("54"):
            return False
    return isinstance(error, TRANSIENT)


def apply_batch(
    engine: Engine,
    records: Sequence[RecordLike],
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """Apply ``records`` in order; return how many were applied (tombstones of nothing and
    records set aside are not).

    The whole batch goes in one transaction. When it fails with an error that is not transient,
    the batch is split in halves, each applied in its own transaction after the one before, down
    to single records; a record that fails alone is set aside (:func:`set_aside`, stamped with
    ``clock()``) and the others commit. Transient errors (:func:`is_transient`) are raised: the
    caller retries the batch, which changes nothing already applied (every upsert is idempotent).
    """
    return _apply_or_split(engine, [as_record(record) for record in records], clock)


def as_record(record: RecordLike) -> Record:
    """``record`` as a :class:`Record`."""
    return record if isinstance(record, Record) else Record(*record)


def _apply_in_one_transaction(engine: Engine, records: Sequence[Record]) -> int:
    applied = 0
    with Session(engine) as session, session.begin():
        for record in records:
            applied += apply_record(session, record.kind, record.value, record.key)
        # every theme this batch wrote or read is ranked again among its product's themes
        touched = [*session.new, *session.identity_map.values()]
        themes = [row for row in touched if isinstance(row, ThemeRow)]
        rank_products(session, {row.product for row in themes}, touched=written_themes(records))
    return applied


def written_themes(records: Sequence[Record]) -> set[str]:
    """The theme ids of the snapshots among ``records`` (their keys)."""
    return {
        record.key.decode("utf-8", "replace") for record in records if record.kind == "themes" and record.key
    }


def _apply_or_split(engine: Engine, records: Sequence[Record], clock: Callable[[], datetime]) -> int:
    try:
        return _apply_in_one_transaction(engine, records)
    except Exception as error:
        if is_transient(error) or not records:  # no record to blame: the database's own
            raise
        if len(records) == 1:
            set_aside(engine, records[0], error, at=clock())
            return 0
    middle = len(records) // 2
    return _apply_or_split(engine, records[:middle], clock) + _apply_or_split(
        engine, records[middle:], clock
    )


def cause_of(error: BaseException) -> BaseException:
    """The driver's or Python's own exception under SQLAlchemy's wrapper (whose message also
    holds the statement and its parameters, maybe the whole record).
    """
    if isinstance(error, sa_exc.StatementError) and isinstance(error.orig, BaseException):
        return error.orig
    return error


def storable(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters that every database stores: a lone surrogate or a
    NUL (PostgreSQL refuses both) becomes its backslash escape.
    """
    kept = text[:limit].encode("utf-8", "backslashreplace").decode("utf-8")
    return kept.replace("\x00", "\\x00")


def set_aside(engine: Engine, record: Record, error: BaseException, *, at: datetime) -> None:
    """Keep ``record`` in the ``set_aside`` table with the reason ``error`` gives, in a
    transaction of its own (once per topic, partition and offset: a repeat updates the row).
    """
    cause = cause_of(error)
    kind = type(cause)
    exception_type = storable(f"{kind.__module__}.{kind.__qualname__}", 256)
    reason = storable(str(cause) or kind.__name__, REASON_MAX_CHARS)
    value = record.value
    with Session(engine) as session, session.begin():
        row = _set_aside_row(session, record)
        row.stage, row.kind, row.key = STAGE, record.kind, record.key
        row.reason, row.exception_type, row.set_aside_at = reason, exception_type, at
        row.value = value[:SET_ASIDE_MAX_BYTES] if value is not None else None
        row.value_size = len(value) if value is not None else 0
        row.value_truncated = value is not None and len(value) > SET_ASIDE_MAX_BYTES
        row.value_sha256 = hashlib.sha256(value).hexdigest() if value is not None else None
    logger.warning(
        "%s record set aside (%s[%s]@%s): %s: %s",
        record.kind, record.topic, record.partition, record.offset, exception_type, reason[:300],
    )


def _set_aside_row(session: Session, record: Record) -> SetAsideRow:
    row = None
    if record.offset is not None:
        row = session.scalar(select(SetAsideRow).where(
            SetAsideRow.topic == record.topic,
            SetAsideRow.partition == record.partition,
            SetAsideRow.offset == record.offset,
        ))
    if row is None:
        row = SetAsideRow(topic=record.topic, partition=record.partition, offset=record.offset)
        session.add(row)
    return row


def count_set_aside(engine: Engine) -> int:
    """How many records are set aside now (rows of the ``set_aside`` table)."""
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(SetAsideRow)) or 0)


class Projection:
    """Runs the projection until :meth:`stop`; ``applied`` counts records written so far,
    ``set_aside`` the records set aside now (the ``set_aside`` table's rows, as of the last batch)
    and ``consuming`` is true while its consumer is up.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.kinds = {settings.topic_name(spec): kind for spec, kind in KINDS.items()}
        self.applied = 0
        self.set_aside = 0
        self.consuming = False
        self._sleep = sleep
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ask the loop to end after its current batch."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume, apply, commit; until stopped. A broker that is down at start, or a consumer
        that fails (a commit refused after a rebalance, a lost connection), starts over after a
        wait (0.5 s, doubling up to 30 s) from the group's committed offsets: records are
        written idempotently, so a batch applied twice changes nothing.
        """
        delay = RETRY_FIRST_S
        while not self._stopping.is_set():
            try:
                await self._consume()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.consuming = False
                logger.warning(
                    "projection stopped (%s: %s); starting over in %.1f s",
                    type(error).__name__,
                    str(error)[:300],
                    delay,
                )
                await self._sleep(delay)
                delay = min(RETRY_MAX_S, delay * 2)

    async def _consume(self) -> None:
        consumer = AIOKafkaConsumer(
            *self.kinds,
            bootstrap_servers=self.settings.bootstrap_servers,
            group_id=f"{self.settings.app_id}-readmodel",
            client_id="youasked-readmodel",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_partition_fetch_bytes=self.settings.kafka_message_max_bytes,
        )
        await consumer.start()
        try:
            self.consuming = True
            await self.project([])  # what earlier runs set aside
            while not self._stopping.is_set():
                batch = await consumer.getmany(timeout_ms=500, max_records=2000)
                records = self.records_of(batch)
                if not records:
                    continue
                await self.project(records)
                await consumer.commit()
        finally:
            self.consuming = False
            await consumer.stop()

    def records_of(self, batch: dict[Any, list[Any]]) -> list[Record]:
        """A fetched batch (topic partition -> consumer records) as records, partition by partition."""
        return [
            Record(self.kinds[tp.topic], message.value, message.key, tp.topic, tp.partition, message.offset)
            for tp, messages in sorted(batch.items(), key=lambda item: (item[0].topic, item[0].partition))
            for message in messages
        ]

    async def project(self, records: Sequence[RecordLike]) -> None:
        """Apply ``records`` (see :func:`apply_batch`) and refresh :attr:`set_aside`; while the
        database fails, wait (0.5 s, doubling up to 30 s) and apply the same batch again.
        """
        delay = RETRY_FIRST_S
        while True:
            try:
                applied, self.set_aside = await asyncio.to_thread(self._apply_and_count, records)
                self.applied += applied
                return
            except Exception as error:
                if is_transient(error):
                    logger.warning("read model unavailable (%s: %s); retrying the batch in %.1f s",
                                   type(error).__name__, str(error)[:300], delay)
                else:  # a bug: not even a record set aside could be written
                    logger.exception("read model write failed; retrying the batch in %.1f s", delay)
                await self._sleep(delay)
                delay = min(RETRY_MAX_S, delay * 2)
                if self._stopping.is_set():
                    raise

    def _apply_and_count(self, records: Sequence[RecordLike]) -> tuple[int, int]:
        return apply_batch(self.engine, records), count_set_aside(self.engine)
