"""Signed ingest: platforms push comments straight onto ``feedback.comments``.

The body is a ``CommentReceived`` object or an array of them, signed with HMAC-SHA256 over
``"<timestamp>.<body>"`` (:func:`sign`) and sent within a time window; the worker validates each
comment and dead-letters bad ones with their reason, as for any other producer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time

from fastapi import APIRouter, Request

from api.common import ApiError, Send
from api.publisher import record_fits
from api.schemas import ErrorBody, IngestAccepted
from contracts.settings import Settings
from contracts.topics import COMMENTS

TIMESTAMP_DIGITS = 12
"""Unix seconds have 10 digits until the year 2286; longer timestamps are refused unread."""
TIMESTAMP = re.compile(rf"[0-9]{{1,{TIMESTAMP_DIGITS}}}")
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def ingest_router(settings: Settings, *, send: Send) -> APIRouter:
    """``POST /ingest`` (no API key: the signature is the credential)."""
    router = APIRouter()

    @router.post(
        "/ingest",
        status_code=202,
        response_model=IngestAccepted,
        tags=["ingest"],
        responses={
            400: {"model": ErrorBody, "description": "Not a JSON object or array of objects."},
            401: {"model": ErrorBody, "description": "Missing, stale or wrong signature."},
            404: {"model": ErrorBody, "description": "Signed ingest is not configured."},
            413: {"model": ErrorBody, "description": "Body over the size limit."},
            503: {"model": ErrorBody, "description": "The broker is not reachable."},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": ["object", "array"]}}},
            },
            "parameters": [
                {
                    "name": "X-Youasked-Timestamp",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                },
                {
                    "name": "X-Youasked-Signature",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                },
            ],
        },
    )
    async def ingest(request: Request) -> IngestAccepted:
        """Comments pushed by a platform: a ``CommentReceived`` object or an array of them, signed
        ``X-Youasked-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with
        ``X-Youasked-Timestamp: <unix seconds>`` within ``YOUASKED_INGEST_WINDOW_S``. Each comment
        goes onto ``feedback.comments`` as sent; the worker validates it (bad ones are
        dead-lettered with their reason).
        """
        secret = settings.ingest_secret
        if not secret:
            raise ApiError(404, "not_found", "signed ingest is not configured (YOUASKED_INGEST_SECRET)")
        body = await request.body()  # bounded by api.limits (YOUASKED_INGEST_MAX_BYTES)
        if not verify_signature(
            secret,
            body,
            timestamp=request.headers.get("x-youasked-timestamp"),
            signature=request.headers.get("x-youasked-signature"),
            window_s=settings.ingest_window_s,
        ):
            raise ApiError(401, "bad_signature", "missing, stale or wrong signature")
        records = split_records(body)
        if records is None:
            raise ApiError(400, "bad_request", "expected a JSON object or an array of JSON objects")
        if not all(record_fits(settings, b"", record) for record in records):
            raise ApiError(413, "too_large", "a comment is over the broker's record size limit")
        for record in records:
            await send(settings.topic_name(COMMENTS), b"", record)
        return IngestAccepted(accepted=len(records))

    return router


def sign(secret: str, body: bytes, timestamp: str) -> str:
    """The ``X-Youasked-Signature`` value of ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str, body: bytes, *, timestamp: str | None, signature: str | None, window_s: float
) -> bool:
    """True when ``signature`` signs ``body`` at ``timestamp`` and that is within ``window_s`` of now.

    The timestamp must be unix seconds in ASCII digits (at most :data:`TIMESTAMP_DIGITS` of them),
    checked before any signature is computed.
    """
    if not timestamp or not signature or not TIMESTAMP.fullmatch(timestamp):
        return False
    if abs(time.time() - int(timestamp)) > window_s:
        return False
    expected = sign(secret, body, timestamp).encode()
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "surrogateescape"))


def split_records(body: bytes) -> list[bytes] | None:
    """The comments of an ingest body, each its own bytes exactly as sent (never re-encoded, so a
    comment is no larger than it came and the worker judges what the platform sent); None unless
    the body is UTF-8 JSON: one object or a non-empty array of objects. Nesting too deep to parse
    is refused here; each comment's fields are checked downstream.
    """
    try:
        text = body.decode("utf-8")
        spans = _object_spans(text)
    except (ValueError, RecursionError):
        return None
    return [text[start:end].encode("utf-8") for start, end in spans] if spans else None


def _object_spans(text: str) -> list[tuple[int, int]]:
    """Where each object of ``text`` (an object or an array of objects) starts and ends."""
    position = _skip_space(text, 0)
    if text.startswith("[", position):
        return _array_spans(text, position + 1)
    end = _object_end(text, position)
    if _skip_space(text, end) != len(text):
        raise ValueError("text after the object")
    return [(position, end)]


def _array_spans(text: str, position: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    while True:
        start = _skip_space(text, position)
        end = _object_end(text, start)
        spans.append((start, end))
        position = _skip_space(text, end)
        if text.startswith("]", position):
            break
        if not text.startswith(",", position):
            raise ValueError("expected , or ] between the objects of the array")
        position += 1
    if _skip_space(text, position + 1) != len(text):
        raise ValueError("text after the array")
    return spans


def _object_end(text: str, start: int) -> int:
    value, end = _DECODER.raw_decode(text, start)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return int(end)


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    return match.end() if match else position
