"""Signed ingest: platforms push comments straight onto ``feedback.comments``.

The body is a ``CommentReceived`` object or an array of them, signed with HMAC-SHA256 over
``"<timestamp>.<body>"`` (:func:`sign`) and sent within a time window; the worker validates each
comment and dead-letters bad ones with their reason, as for any other producer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from fastapi import APIRouter, Request

from api.common import ApiError, Send
from api.schemas import ErrorBody, IngestAccepted
from youasked.contracts.topics import COMMENTS
from youasked.settings import Settings


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
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.ingest_max_bytes:
            raise ApiError(413, "too_large", f"the body is over {settings.ingest_max_bytes} bytes")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > settings.ingest_max_bytes:
                raise ApiError(413, "too_large", f"the body is over {settings.ingest_max_bytes} bytes")
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
    """True when ``signature`` signs ``body`` at ``timestamp`` and that is within ``window_s`` of now."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs(time.time() - int(timestamp)) > window_s:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), signature.strip())


def split_records(body: bytes) -> list[bytes] | None:
    """The comments of an ingest body, each as its own JSON text; None unless the body is a JSON
    object or a non-empty array of objects (each comment's fields are checked downstream).
    """
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    return [json.dumps(item, ensure_ascii=False).encode() for item in items]
