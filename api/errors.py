"""Every error the API answers, in the one shape ``{"error": {"code", "message"}}``.

:func:`install_error_handlers` renders HTTP errors (with their stable code when they carry
one), request validation errors (422 ``invalid_request``) and, as the last resort, any
exception a route did not expect: 500 ``internal_error``, logged with its traceback, its text
never shown to the caller.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.common import error_response

logger = logging.getLogger(__name__)

CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    """An HTTP error with its code (``ApiError``) or one named after its status."""
    assert isinstance(exc, StarletteHTTPException)
    code = getattr(exc, "code", None) or CODES.get(exc.status_code, "error")
    return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))


async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """422 with each failing field's location and message."""
    assert isinstance(exc, RequestValidationError)
    message = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors()
    )
    return error_response(422, "invalid_request", message[:2000])


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """500 for an exception nothing else handled; the traceback goes to the log."""
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "the server failed to answer; the error is logged")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` in the one error shape."""
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, internal_error)
