"""What every router of the API shares: the error type and body, role checks, parameter types.

Routers are built by factories (``themes_router(...)``, ``commands_router(...)``...) that
:func:`api.app.create_api` includes; they import from here, never from :mod:`api.app`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BeforeValidator

from api.schemas import ErrorBody
from api.security import Caller, Role, authenticate

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body could not be parsed."},
    401: {"model": ErrorBody, "description": "No valid API key."},
    403: {"model": ErrorBody, "description": "The key's role may not do this."},
    413: {"model": ErrorBody, "description": "The body is over the size limit."},
    422: {"model": ErrorBody, "description": "The request is not valid."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "Not found."}}
ACCEPTED: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    **NOT_FOUND,
    503: {"model": ErrorBody, "description": "The broker is not reachable."},
}
"""The answers of a route that publishes a record (202 when the broker has it)."""

Send = Callable[[str, bytes, bytes], Awaitable[None]]
"""Send one record (topic, key, value) and return once the broker has it; raises
:class:`ApiError` 503 when no broker is reachable."""


class ApiError(HTTPException):
    """An HTTP error with a stable code, rendered as :class:`ErrorBody`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status_code=status, detail=message)
        self.code = code


def broker_unavailable() -> ApiError:
    """The 503 of a route that needs the broker when none is reachable."""
    return ApiError(503, "broker_unavailable", "the broker is not reachable; try again later")


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error body shape, ``{"error": {"code", "message"}}``, as a response."""
    body = ErrorBody.model_validate({"error": {"code": code, "message": message}})
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


def admit(caller: Caller | None, minimum: Role) -> Caller:
    """``caller`` when their key has at least the role ``minimum``; raises 401 or 403."""
    if caller is None:
        raise ApiError(401, "unauthorized", "send a valid API key in X-API-Key")
    if caller.role < minimum:
        raise ApiError(403, "forbidden", f"the {caller.role.name} role may not do this")
    return caller


class RoleCheck:
    """The dependency admitting callers whose key has at least the role ``minimum``.

    :class:`api.gate.KeyFirstMiddleware` runs the same check before a body is read and leaves
    the caller it found in the request's state; this reuses it rather than look the key up again.
    """

    def __init__(self, minimum: Role) -> None:
        self.minimum = minimum

    def __call__(self, request: Request, x_api_key: Annotated[str | None, Header()] = None) -> Caller:
        checked = getattr(request.state, "caller", None)
        if isinstance(checked, Caller):
            return admit(checked, self.minimum)
        return admit(authenticate(request.app.state.engine, x_api_key), self.minimum)


def role(minimum: Role) -> RoleCheck:
    """A dependency admitting callers whose key has at least the role ``minimum``."""
    return RoleCheck(minimum)


def _iso_instant(value: Any) -> Any:
    """Query instants are RFC 3339 text with an offset; pydantic would also read numbers."""
    if isinstance(value, str) and ("T" not in value.upper() or not any(c in value for c in "+-Zz")):
        raise ValueError("expected an RFC 3339 date-time with an offset, e.g. 2026-03-01T00:00:00Z")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_instant)]
Viewer = Annotated[Caller, Depends(role(Role.viewer))]
Pm = Annotated[Caller, Depends(role(Role.pm))]
Admin = Annotated[Caller, Depends(role(Role.admin))]
ThemeId = Annotated[str, Path(min_length=1, max_length=256)]
