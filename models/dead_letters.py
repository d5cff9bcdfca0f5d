"""Dead-letter records that always fit in one Kafka record.

Pure: a record a stage cannot use becomes a :class:`~contracts.events.DeadLetter` with
its stage, reason and the original bytes. The original travels base64-encoded (a third larger
than the bytes), so a record close to the broker's limit cannot be copied whole: it is then cut
to fit and the dead letter keeps the whole original's size and SHA-256, which identify it.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from contracts.events import DeadLetter, DeadLetterReason, SourceRef

DETAIL_LIMIT = 2000
"""Characters of a dead letter's ``detail``."""

_ENVELOPE_BYTES = 16 * 1024
"""Room left for everything but the original value and key: detail (at most 2,000 characters,
up to 4 bytes each as UTF-8 and 6 as JSON escapes), source, stage, hash, Kafka's record headers."""

_KEY_LIMIT = 1024
"""Bytes of the original key kept when the original must be cut."""


def short_detail(text: str) -> str:
    """``text`` cut to :data:`DETAIL_LIMIT` characters (an ellipsis marks a cut)."""
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def stage_dead_letter(
    raw: bytes | None,
    *,
    key: bytes | None,
    stage: str,
    reason: DeadLetterReason,
    detail: str,
    source: SourceRef,
    failed_at: datetime,
    max_record_bytes: int,
    exception_type: str | None = None,
) -> DeadLetter:
    """The dead letter of one input record of ``stage``, at most ``max_record_bytes`` as JSON.

    The original value and key are kept whole when they fit; otherwise the value is cut to the
    bytes that fit, the key to 1 KiB, ``original_truncated`` is set, and ``original_size`` and
    ``original_sha256`` describe the whole value (they are set for every dead letter).
    """
    value = raw or b""
    budget = max(0, max_record_bytes - _ENVELOPE_BYTES) // 4 * 3  # raw bytes that fit as base64
    truncated = len(value) + len(key or b"") > budget
    if truncated:
        key = None if key is None else key[:_KEY_LIMIT]
        value = value[: max(0, budget - len(key or b""))]
    return DeadLetter(
        stage=stage,
        reason=reason,
        detail=short_detail(detail),
        exception_type=exception_type,
        source=source,
        original_key_b64=_b64(key) if key is not None else None,
        original_b64=_b64(value),
        original_size=len(raw or b""),
        original_sha256=hashlib.sha256(raw or b"").hexdigest(),
        original_truncated=truncated,
        failed_at=failed_at,
    )


def dead_letter_key(source: SourceRef) -> str:
    """``topic:partition:offset``: the identity of a dead-letter record across redeliveries."""
    return f"{source.topic}:{source.partition}:{source.offset}"
