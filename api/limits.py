"""Request bodies bounded before they are read.

:class:`BodyLimitMiddleware` refuses a request whose ``Content-Length`` is over its route's limit
before reading a byte of it, and stops one whose body grows past the limit as it arrives (no
``Content-Length``, or a false one): the read raises :class:`BodyTooLargeError`, which answers 413 in
the one error shape. Signed ``/ingest`` has its own limit (``Settings.ingest_max_bytes``); every
other route ``Settings.api_max_body_bytes``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.common import ApiError, error_response
from contracts.settings import Settings

INGEST_PATH = "/ingest"


class BodyTooLargeError(ApiError):
    """A request body over its route's limit (413 ``too_large``)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, "too_large", f"the body is over {limit} bytes")


def body_limit(settings: Settings, path: str) -> int:
    """The largest body, in bytes, of a request to ``path``."""
    return settings.ingest_max_bytes if path == INGEST_PATH else settings.api_max_body_bytes


def declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length``, or None when it has none (or one that is not a number)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.strip()
            return int(text) if text.isdigit() and len(text) <= 20 else None
    return None


class BodyLimitMiddleware:
    """Answers 413 to a body over the limit of its route, by length told and by bytes read."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(self.settings, str(scope.get("path", "")))
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await error_response(413, "too_large", f"the body is over {limit} bytes")(scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLargeError as error:  # read outside a route, where no handler answered it
            if started:
                raise
            await error_response(413, error.code, str(error.detail))(scope, receive, send)
