"""Replay a file of comments into ``feedback.comments``: CSV (with a column mapping) or JSONL.

Rows are converted to the :class:`~youasked.contracts.events.CommentReceived` wire form and sent
as they are; a row that cannot be converted is still sent (its fields as found), so that the
ingest agent dead-letters it with its reason: replay never drops input silently.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from youasked.settings import Settings

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
            keep_if={"inbound": "True"},
            product_from_mention=True,
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
    row: Mapping[str, str], mapping: ColumnMapping, *, row_number: int, source_name: str
) -> dict[str, Any] | None:
    """Convert one CSV row; None when ``keep_if`` excludes it."""
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
            comment[target] = value.removesuffix(".0")
        else:
            comment[target] = value
    if "comment_id" not in comment:
        digest = hashlib.sha256(f"{source_name}:{row_number}:{json.dumps(row, sort_keys=True)}".encode())
        comment["comment_id"] = digest.hexdigest()[:20]
    comment.setdefault("author_id", f"anonymous-{comment['comment_id']}")
    if mapping.product_from_mention and "product" not in comment:
        mention = _MENTION.search(str(comment.get("text", "")))
        comment["product"] = mention.group(1).lower() if mention else "unknown"
    return comment


def read_records(
    path: Path, *, mapping: ColumnMapping | None = None, overrides: Mapping[str, str] | None = None
) -> Iterator[tuple[bytes | None, bytes]]:
    """Yield ``(key, value)`` records of a CSV or JSONL file, in file order.

    JSONL lines are sent as they are, byte for byte, unless ``overrides`` set fields (then a
    line that is a JSON object gets them). The key is ``platform:comment_id`` when known.
    """
    overrides = dict(overrides or {})
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        with path.open("rb") as handle:
            for raw_line in handle:
                line = raw_line.rstrip(b"\r\n")
                if not line.strip():
                    continue
                yield _jsonl_record(line, overrides)
        return
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        chosen = mapping or preset_for(list(reader.fieldnames or []), path)
        for number, row in enumerate(reader, start=1):
            comment = row_to_comment(row, chosen, row_number=number, source_name=path.name)
            if comment is None:
                continue
            comment.update(overrides)
            yield _key_of(comment), json.dumps(comment, ensure_ascii=False).encode("utf-8")


def _key_of(comment: Mapping[str, Any]) -> bytes | None:
    platform, comment_id = comment.get("platform"), comment.get("comment_id")
    if isinstance(platform, str) and isinstance(comment_id, str | int):
        return f"{platform}:{comment_id}".encode()
    return None


def _jsonl_record(line: bytes, overrides: Mapping[str, str]) -> tuple[bytes | None, bytes]:
    try:
        payload = json.loads(line)
    except (ValueError, RecursionError):
        return None, line
    if not isinstance(payload, dict):
        return None, line
    if overrides:
        payload.update(overrides)
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
    """What a replay sent."""

    sent: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def replay(
    path: Path,
    *,
    bootstrap_servers: str,
    topic: str,
    rate: float | None = None,
    limit: int | None = None,
    mapping: ColumnMapping | None = None,
    overrides: Mapping[str, str] | None = None,
    progress: bool = True,
    max_request_size: int = DEFAULT_RECORD_BYTES,
) -> ReplayReport:
    """Send the records of ``path`` to ``topic``; ``rate`` in records per second (None: no limit).

    ``progress`` draws a bar on standard error when it is a terminal. ``max_request_size`` is
    the largest record in bytes (``Settings.kafka_message_max_bytes``, which the broker shares).
    """
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        linger_ms=5,
        max_request_size=max_request_size,
        client_id="youasked-replay",
    )
    from youasked.progress import counting_bar

    report = ReplayReport()
    started = time.monotonic()
    records = read_records(path, mapping=mapping, overrides=overrides)
    expected = count_records(path)
    total = min(limit, expected) if limit is not None and expected is not None else (limit or expected)
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
                producer.send(topic, key=key, value=value)
                report.sent += 1
                advance()
        producer.flush()
    finally:
        producer.close()
    report.seconds = time.monotonic() - started
    return report
