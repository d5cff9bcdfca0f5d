"""Validation of raw comment records: bytes in, an accepted comment or a rejection out.

Pure: the clock (``received_at``) and the record's coordinates are passed in. Every input ends
in exactly one of :class:`~contracts.events.CommentAccepted` or :class:`InvalidRecord`;
nothing here raises on bad input.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from contracts.events import (
    CommentAccepted,
    CommentReceived,
    DeadLetter,
    DeadLetterReason,
    Platform,
    SourceRef,
    Speaker,
)
from models.dead_letters import dead_letter_key, short_detail, stage_dead_letter
from models.text import normalize_text

__all__ = ["IngestLimits", "InvalidRecord", "dead_letter", "dead_letter_key", "validate_comment"]

_PLATFORMS = frozenset(p.value for p in Platform)
SUPPORTED_VERSIONS = (1, 2)
"""Versions of :class:`~contracts.events.CommentReceived` ingest reads (1: before ``speaker``)."""


@dataclass(frozen=True, slots=True)
class IngestLimits:
    """Size and time limits of ingest.

    ``max_message_bytes``: larger records are rejected before parsing.
    ``max_text_chars``: longer normalized texts are rejected (the model would truncate them,
    and so large a comment is almost always a paste, not feedback).
    ``max_future_skew``: a ``created_at`` further ahead of the receive time is rejected.
    ``min_created_at``: an earlier ``created_at`` is rejected (no social comment is that old;
    such a date is a default value or an attack on date arithmetic further down).
    ``max_record_bytes``: the largest record the broker takes; a dead letter never exceeds it.
    """

    max_message_bytes: int = 256 * 1024
    max_text_chars: int = 10_000
    max_future_skew: timedelta = timedelta(hours=1)
    min_created_at: datetime = field(default_factory=lambda: datetime(2000, 1, 1, tzinfo=UTC))
    max_record_bytes: int = 1_048_588


@dataclass(frozen=True, slots=True)
class InvalidRecord:
    """Why a record was not accepted: a machine-readable reason and a readable detail."""

    reason: DeadLetterReason
    detail: str




def _describe_errors(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False, include_input=False)[:10]:
        location = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{location}: {item['msg']}")
    return short_detail("; ".join(parts))


def validate_comment(
    raw: bytes | None,
    *,
    source: SourceRef,
    received_at: datetime,
    limits: IngestLimits,
    brand_authors: Mapping[str, frozenset[str]] | None = None,
) -> CommentAccepted | InvalidRecord:
    """Validate one record of ``feedback.comments``.

    Returns the normalized :class:`CommentAccepted` (text NFKC-normalized with whitespace
    folded; everything else as sent) or a :class:`InvalidRecord` with its reason. A comment
    whose author is one of its product's accounts in ``brand_authors`` (see
    :func:`brand_accounts`) is the brand speaking, whatever the producer said.
    """
    if raw is None:
        return InvalidRecord(DeadLetterReason.NOT_JSON, "record has no value (null or tombstone)")
    if len(raw) > limits.max_message_bytes:
        return InvalidRecord(
            DeadLetterReason.TOO_LARGE,
            f"record is {len(raw)} bytes; the limit is {limits.max_message_bytes}",
        )
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InvalidRecord(
            DeadLetterReason.NOT_UTF8, f"value is not UTF-8: {exc.reason} at byte {exc.start}"
        )
    try:
        payload: Any = json.loads(decoded)
    except (ValueError, RecursionError) as exc:
        return InvalidRecord(DeadLetterReason.NOT_JSON, short_detail(f"value is not JSON: {exc}"))
    if not isinstance(payload, dict):
        return InvalidRecord(
            DeadLetterReason.NOT_OBJECT, f"value is a JSON {type(payload).__name__}, not an object"
        )
    return _validate_object(
        payload, source=source, received_at=received_at, limits=limits, brand_authors=brand_authors or {}
    )


def is_brand_author(comment: CommentReceived, brand_authors: Mapping[str, frozenset[str]]) -> bool:
    """True when the comment's author id or handle (without ``@``, case-folded) is one of its
    product's brand accounts in ``brand_authors`` (product -> case-folded ids and handles).
    """
    accounts = brand_authors.get(comment.product)
    if not accounts:
        return False
    handle = (comment.author_handle or "").removeprefix("@").casefold()
    return comment.author_id.casefold() in accounts or (bool(handle) and handle in accounts)


def author_key(comment: CommentAccepted) -> str:
    """``platform:author_id``: the author as the per-author rate limit counts them."""
    return f"{comment.platform.value}:{comment.author_id}"


def author_partition(comment: CommentAccepted, partitions: int) -> int:
    """The partition of ``feedback.comments.accepted`` for ``comment``: one author's comments
    share one (a stable hash of :func:`author_key` modulo ``partitions``, >= 1), so the classify
    stage that rate-limits authors sees all of an author's comments in one worker, in order.
    """
    digest = hashlib.blake2b(author_key(comment).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % max(1, partitions)


def brand_accounts(configured: Mapping[str, list[str]]) -> dict[str, frozenset[str]]:
    """Settings' ``brand_authors`` (product -> ids or handles) as :func:`is_brand_author` reads them."""
    return {
        product: frozenset(a.strip().removeprefix("@").casefold() for a in accounts if a.strip())
        for product, accounts in configured.items()
    }


def _validate_object(
    payload: dict[str, Any],
    *,
    source: SourceRef,
    received_at: datetime,
    limits: IngestLimits,
    brand_authors: Mapping[str, frozenset[str]],
) -> CommentAccepted | InvalidRecord:
    version = payload.get("schema_version", 1)
    if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        return InvalidRecord(
            DeadLetterReason.UNSUPPORTED_VERSION,
            short_detail(f"schema_version {version!r} is not supported (1 and 2 are)"),
        )
    platform = payload.get("platform")
    if isinstance(platform, str) and platform not in _PLATFORMS:
        return InvalidRecord(
            DeadLetterReason.UNKNOWN_PLATFORM,
            short_detail(f"platform {platform!r} is not one of {', '.join(sorted(_PLATFORMS))}"),
        )
    text = payload.get("text")
    if isinstance(text, str):
        normalized = normalize_text(text)
        if not normalized:
            return InvalidRecord(DeadLetterReason.EMPTY_TEXT, "text is empty or whitespace only")
        if len(normalized) > limits.max_text_chars:
            return InvalidRecord(
                DeadLetterReason.TEXT_TOO_LONG,
                f"text has {len(normalized)} characters; the limit is {limits.max_text_chars}",
            )
        payload = {**payload, "text": normalized}
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        return InvalidRecord(DeadLetterReason.NOT_UTF8, f"a string holds invalid Unicode: {exc.reason}")
    except (ValueError, RecursionError) as exc:
        return InvalidRecord(DeadLetterReason.NOT_JSON, short_detail(f"value cannot be re-encoded: {exc}"))
    try:
        comment = CommentReceived.model_validate(payload)
    except ValidationError as exc:
        return InvalidRecord(DeadLetterReason.INVALID_FIELDS, _describe_errors(exc))
    except (RecursionError, ValueError, TypeError) as exc:  # pathological nesting
        detail = short_detail(f"fields could not be read: {exc}")
        return InvalidRecord(DeadLetterReason.INVALID_FIELDS, detail)
    if comment.created_at < limits.min_created_at:
        return InvalidRecord(
            DeadLetterReason.TIMESTAMP_OUT_OF_RANGE,
            f"created_at {comment.created_at.isoformat()} is before {limits.min_created_at.isoformat()}",
        )
    if comment.created_at - received_at > limits.max_future_skew:
        return InvalidRecord(
            DeadLetterReason.FUTURE_TIMESTAMP,
            f"created_at {comment.created_at.isoformat()} is more than "
            f"{limits.max_future_skew} after the receive time {received_at.isoformat()}",
        )
    fields = comment.model_dump(exclude={"schema_version"})
    if is_brand_author(comment, brand_authors):
        fields["speaker"] = Speaker.BRAND
    return CommentAccepted(**fields, key=comment.dedupe_key, received_at=received_at, source=source)


def dead_letter(
    raw: bytes | None,
    *,
    key: bytes | None,
    rejected: InvalidRecord,
    source: SourceRef,
    failed_at: datetime,
    max_record_bytes: int = 1_048_588,
) -> DeadLetter:
    """The dead-letter record of a rejected input: its exact bytes, or as many as fit in
    ``max_record_bytes`` with the whole one's size and hash.
    """
    return stage_dead_letter(
        raw,
        key=key,
        stage="ingest-validate",
        reason=rejected.reason,
        detail=rejected.detail,
        source=source,
        failed_at=failed_at,
        max_record_bytes=max_record_bytes,
    )
