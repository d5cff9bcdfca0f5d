"""Replay a file of comments into ``feedback.comments``: CSV (with a column mapping) or JSONL.

Rows are converted to the :class:`~contracts.events.CommentReceived` wire form and sent
as they are; a row that cannot be converted is still sent (its fields as found), so that the
ingest agent dead-letters it with its reason: replay never drops input silently.

Ingest passes each identity (``platform:comment_id``) on once, so the ids decide what a replay
adds. A row without an id gets one derived from the file name, the row number, the row and the
product it is replayed under: replaying a file again under the same product adds nothing, under
another product (``--set product=...``) it adds every row as new comments. An id salt
(``--id-salt``) makes every record a new comment: derived ids take it into their hash, ids the
file gives become ``<id>~<salt>``. The command reads the identities already accepted before it
sends and says how many records are copies that ingest will pass over.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.settings import Settings
from models.csv_files import file_encoding

logger = logging.getLogger(__name__)

DEFAULT_RECORD_BYTES: int = Settings.model_fields["kafka_message_max_bytes"].default
"""The largest record the default broker takes, in bytes."""

csv.field_size_limit(16 * 1024 * 1024)

_MENTION = re.compile(r"@([A-Za-z_][A-Za-z0-9_]{1,30})")


@dataclass(frozen=True)
class ColumnMapping:
    """How a CSV row becomes a comment.

    ``columns`` maps comment fields to CSV columns; ``constants`` sets fields to fixed values;
    ``keep_if`` keeps only rows whose column equals a value (e.g. inbound tweets only).
    Fields that no column gives: ``comment_id`` defaults to a hash of the row and
    ``author_id`` to ``anonymous-<comment_id>`` (store reviews name no author).
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    keep_if: Mapping[str, str] = field(default_factory=dict)
    product_from_mention: bool = False
    brand_if: Mapping[str, str] = field(default_factory=dict)
    """Rows whose column equals a value are the brand's own replies (``speaker`` brand)."""
    thread_by: tuple[str, str] | None = None
    """``(id column, parent id column)``: the file's rows form reply threads. Each row's
    ``thread_id`` is its thread's root id (followed through the parents the file holds), and
    every row of a thread the brand answered gets the brand's product (its lower-cased author
    id), so that a thread's comments meet under one product.
    """


def preset_for(headers: list[str], path: Path) -> ColumnMapping:
    """The mapping of a known file layout, or a mapping by identical column names."""
    names = set(headers)
    if {"date", "rating", "title", "content"} <= names:  # dated app store reviews
        product = path.stem.removesuffix("_reviews")
        return ColumnMapping(
            columns={"text": "content", "title": "title", "rating": "rating", "created_at": "date"},
            constants={"platform": "app_store", "product": product, "language": "en"},
        )
    if {"tweet_id", "author_id", "inbound", "created_at", "text"} <= names:  # customer-support tweets
        return ColumnMapping(
            columns={
                "comment_id": "tweet_id",
                "author_id": "author_id",
                "created_at": "created_at",
                "text": "text",
                "parent_id": "in_response_to_tweet_id",
            },
            constants={"platform": "x"},
            product_from_mention=True,
            brand_if={"inbound": "False"},
            thread_by=("tweet_id", "in_response_to_tweet_id"),
        )
    return ColumnMapping(columns={name: name for name in headers})


_INT_FIELDS = {"rating"}
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%a %b %d %H:%M:%S %z %Y", "%Y/%m/%d %H:%M:%S")


def parse_datetime(value: str) -> str:
    """Return ``value`` as an ISO 8601 timestamp; naive times are taken as UTC.

    Unparseable values are returned unchanged (ingest dead-letters them with the reason).
    """
    text = value.strip()
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return value
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()


def row_to_comment(
    row: Mapping[str, str],
    mapping: ColumnMapping,
    *,
    row_number: int,
    source_name: str,
    overrides: Mapping[str, str] | None = None,
    id_salt: str = "",
    threads: Threads | None = None,
) -> dict[str, Any] | None:
    """Convert one CSV row, ``overrides`` set on it; None when ``keep_if`` excludes it.
    ``threads`` (:func:`read_threads`) gives the row's thread when the mapping has ``thread_by``.

    A row without a ``comment_id`` gets a 20-character hex one derived from ``source_name``,
    ``row_number``, the row, the comment's product and ``id_salt``; see :func:`salted_id` for a
    salt and an id the row gives.
    """
    for column, wanted in mapping.keep_if.items():
        if (row.get(column) or "").strip() != wanted:
            return None
    comment: dict[str, Any] = dict(mapping.constants)
    for target, column in mapping.columns.items():
        value = row.get(column)
        if value is None or value == "":
            continue
        if target in _INT_FIELDS:
            try:
                comment[target] = int(float(value))
            except ValueError:
                comment[target] = value
        elif target == "created_at":
            comment[target] = parse_datetime(value)
        elif target == "parent_id":
            comment[target] = _plain_id(value)
        else:
            comment[target] = value
    if mapping.brand_if and all((row.get(c) or "").strip() == v for c, v in mapping.brand_if.items()):
        comment["speaker"] = "brand"
        comment["schema_version"] = 2
        if mapping.product_from_mention and comment.get("author_id"):
            comment.setdefault("product", str(comment["author_id"]).lower())
    if threads is not None and mapping.thread_by is not None:
        row_id = _plain_id(row.get(mapping.thread_by[0]))
        root = threads.root_of(row_id)
        if root:
            comment["thread_id"] = root
            brand = threads.brand_of.get(root)
            if brand and mapping.product_from_mention:
                comment.setdefault("product", brand)
    comment.update(overrides or {})
    if mapping.product_from_mention and "product" not in comment:
        mention = _MENTION.search(str(comment.get("text", "")))
        comment["product"] = mention.group(1).lower() if mention else "unknown"
    if "comment_id" in comment:
        comment["comment_id"] = salted_id(comment["comment_id"], id_salt)
    else:
        parts = [source_name, str(row_number), json.dumps(row, sort_keys=True), str(comment.get("product"))]
        digest = hashlib.sha256(":".join([*parts, id_salt] if id_salt else parts).encode())
        comment["comment_id"] = digest.hexdigest()[:20]
    comment.setdefault("author_id", f"anonymous-{comment['comment_id']}")
    return comment


def _plain_id(value: str | None) -> str:
    """An id as written by a spreadsheet tool or not (``"3.0"`` -> ``"3"``), stripped."""
    return (value or "").strip().removesuffix(".0")


@dataclass
class Threads:
    """The reply threads of a file: each row id's parent, and the brand that answered each root."""

    parent_of: dict[str, str] = field(default_factory=dict)
    brand_of: dict[str, str] = field(default_factory=dict)

    def root_of(self, row_id: str) -> str:
        """The root of ``row_id``'s thread: its farthest ancestor the file holds (a parent the
        file lacks ends the walk there, as does a loop); ``""`` for an empty id.
        """
        current, seen = row_id, {row_id}
        while (parent := self.parent_of.get(current)) and parent not in seen:
            seen.add(parent)
            current = parent
        return current


def read_threads(path: Path, mapping: ColumnMapping) -> Threads | None:
    """The threads of the CSV file ``path`` (one pass over it), or None without ``thread_by``."""
    if mapping.thread_by is None:
        return None
    id_column, parent_column = mapping.thread_by
    encoding, errors = file_encoding(path)
    threads = Threads()
    brand_rows: list[tuple[str, str]] = []
    with path.open(newline="", encoding=encoding, errors=errors) as handle:
        for row in csv.DictReader(handle):
            row_id, parent = _plain_id(row.get(id_column)), _plain_id(row.get(parent_column))
            if row_id and parent:
                threads.parent_of[row_id] = parent
            is_brand = mapping.brand_if and all(
                (row.get(c) or "").strip() == v for c, v in mapping.brand_if.items()
            )
            author = (row.get(mapping.columns.get("author_id", "")) or "").strip()
            if row_id and is_brand and author:
                brand_rows.append((row_id, author.lower()))
    for row_id, brand in brand_rows:
        threads.brand_of.setdefault(threads.root_of(row_id), brand)
    return threads


def salted_id(comment_id: Any, id_salt: str) -> Any:
    """``comment_id`` as ``<id>~<salt>`` when ``id_salt`` is set (a copy of the comment that
    ingest takes for a new one); unchanged without a salt, or when it is not an id at all.
    """
    if id_salt and isinstance(comment_id, str | int) and not isinstance(comment_id, bool):
        return f"{comment_id}~{id_salt}"
    return comment_id


def read_records(
    path: Path,
    *,
    mapping: ColumnMapping | None = None,
    overrides: Mapping[str, str] | None = None,
    id_salt: str = "",
) -> Iterator[tuple[bytes | None, bytes]]:
    """Yield ``(key, value)`` records of a CSV or JSONL file, in file order.

    JSONL lines are sent as they are, byte for byte, unless ``overrides`` set fields or
    ``id_salt`` is given (then a line that is a JSON object gets them). The key is
    ``platform:comment_id`` when known.
    """
    overrides = dict(overrides or {})
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        with path.open("rb") as handle:
            for raw_line in handle:
                line = raw_line.rstrip(b"\r\n")
                if not line.strip():
                    continue
                yield _jsonl_record(line, overrides, id_salt)
        return
    encoding, errors = file_encoding(path)
    with path.open(newline="", encoding=encoding, errors=errors) as handle:
        reader = csv.DictReader(handle)
        chosen = mapping or preset_for(list(reader.fieldnames or []), path)
        threads = read_threads(path, chosen)
        for number, row in enumerate(reader, start=1):
            comment = row_to_comment(
                row,
                chosen,
                row_number=number,
                source_name=path.name,
                overrides=overrides,
                id_salt=id_salt,
                threads=threads,
            )
            if comment is None:
                continue
            yield _key_of(comment), json.dumps(comment, ensure_ascii=False).encode("utf-8")


def _key_of(comment: Mapping[str, Any]) -> bytes | None:
    platform, comment_id = comment.get("platform"), comment.get("comment_id")
    if isinstance(platform, str) and isinstance(comment_id, str | int):
        return f"{platform}:{comment_id}".encode()
    return None


def _jsonl_record(line: bytes, overrides: Mapping[str, str], id_salt: str) -> tuple[bytes | None, bytes]:
    try:
        payload = json.loads(line)
    except (ValueError, RecursionError):
        return None, line
    if not isinstance(payload, dict):
        return None, line
    if overrides or id_salt:
        payload.update(overrides)
        if "comment_id" in payload:
            payload["comment_id"] = salted_id(payload["comment_id"], id_salt)
        return _key_of(payload), json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return _key_of(payload), line


def count_records(path: Path) -> int | None:
    """How many records a JSONL file holds (its non-blank lines); None for a CSV, whose rows
    are known only once mapped and filtered.
    """
    if path.suffix.lower() not in {".jsonl", ".ndjson"}:
        return None
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


@dataclass
class ReplayReport:
    """What a replay sent: ``copies`` of them carry an identity known before or sent earlier in
    the same replay (counted only when the known identities were given); ``refused`` were
    refused by the producer or the broker (too large, or not acknowledged) and are not on the topic.
    """

    sent: int = 0
    copies: int = 0
    refused: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0

    @property
    def mostly_copies(self) -> bool:
        """True when every record, or nearly every one (90 %), is a copy ingest will pass over."""
        return self.sent > 0 and self.copies >= 0.9 * self.sent


def identity_of(value: bytes) -> str | None:
    """The ``platform:comment_id`` ingest de-duplicates ``value`` on; None when ingest will
    dead-letter it instead (it is not a valid comment).
    """
    from contracts.events import CommentReceived

    try:
        return CommentReceived.model_validate_json(value).dedupe_key
    except ValueError:
        return None


def accepted_identities(settings: Settings) -> set[str]:
    """The identities on ``feedback.comments.accepted`` now (its keys, up to the end offsets read
    first): the comments ingest will pass over when they come again.
    """
    from kafka import KafkaConsumer, TopicPartition

    from contracts.topics import COMMENTS_ACCEPTED
    from messaging.readback import SCAN_OPTIONS, fetch_limits

    topic = settings.topic_name(COMMENTS_ACCEPTED)
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=None,
        client_id="youasked-replay-check",
        **SCAN_OPTIONS,
        **fetch_limits(settings),
    )
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        ends = {tp: end for tp, end in consumer.end_offsets(tps).items() if end > 0} if tps else {}
        if not ends:
            return set()
        consumer.assign(list(ends))
        consumer.seek_to_beginning(*ends)
        identities: set[str] = set()
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for records in consumer.poll(timeout_ms=500).values():
                identities.update(r.key.decode("utf-8", "replace") for r in records if r.key is not None)
        return identities
    finally:
        consumer.close()


def replay(
    path: Path,
    *,
    bootstrap_servers: str,
    topic: str,
    rate: float | None = None,
    limit: int | None = None,
    mapping: ColumnMapping | None = None,
    overrides: Mapping[str, str] | None = None,
    id_salt: str = "",
    known: Collection[str] | None = None,
    progress: bool = True,
    max_request_size: int = DEFAULT_RECORD_BYTES,
) -> ReplayReport:
    """Send the records of ``path`` to ``topic``; ``rate`` in records per second (None: no limit).

    ``known`` (identities already accepted, see :func:`accepted_identities`) makes the report
    count copies. ``progress`` draws a bar on standard error when it is a terminal.
    ``max_request_size`` is the largest record in bytes (``Settings.kafka_message_max_bytes``,
    which the broker shares); a larger one is logged and counted as refused.
    """
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_request_size=max_request_size,
        client_id="youasked-replay",
    )
    from youasked.progress import counting_bar

    report = ReplayReport()
    started = time.monotonic()
    records = read_records(path, mapping=mapping, overrides=overrides, id_salt=id_salt)
    expected = count_records(path)
    total = min(limit, expected) if limit is not None and expected is not None else (limit or expected)
    seen = set(known) if known is not None else None
    try:
        with counting_bar(
            f"replay {path.name}", total=total, unit="records", enabled=progress, summary=False
        ) as advance:
            for key, value in records:
                if limit is not None and report.sent >= limit:
                    break
                if rate:
                    delay = started + report.sent / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                _send(producer, topic, key, value, report)
                if seen is not None:
                    _count_copy(value, seen, report)
                advance()
        producer.flush()
    finally:
        producer.close()
    report.seconds = time.monotonic() - started
    return report


def _send(producer: Any, topic: str, key: bytes | None, value: bytes, report: ReplayReport) -> None:
    """Send one record; count it as sent, and as refused when the producer or broker refuses it."""
    from kafka.errors import KafkaError

    report.sent += 1

    def refused(error: BaseException) -> None:
        report.refused += 1
        logger.warning("record %d (key %r, %d bytes) was refused: %s", report.sent, key, len(value), error)

    try:
        producer.send(topic, key=key, value=value).add_errback(refused)
    except KafkaError as error:  # too large for max_request_size: refused before it is sent
        refused(error)


def _count_copy(value: bytes, seen: set[str], report: ReplayReport) -> None:
    identity = identity_of(value)
    if identity is None:
        return
    if identity in seen:
        report.copies += 1
    seen.add(identity)
