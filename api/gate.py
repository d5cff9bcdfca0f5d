"""The API key checked before a request's body is read or parsed.

FastAPI reads and parses a route's body before it runs the route's dependencies, so without
this a caller with no key could make the API read a large body, or learn from a 422 that it was
malformed, before being told 401. :class:`KeyFirstMiddleware` holds the body back: the first
time the route asks for it, a route that admits callers by role (:class:`api.common.RoleCheck`)
has the key checked, and answers 401 or 403 without a byte of the body read. The caller found
is left in the request's state for the route's own check.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.common import RoleCheck, admit
from api.security import Role, authenticate


def required_role(dependant: Dependant) -> Role | None:
    """The least role a route's dependencies admit, or None when it needs no key."""
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, RoleCheck):
            return dependency.call.minimum
        found = required_role(dependency)
        if found is not None:
            return found
    return None


def presented_key(scope: Scope) -> str | None:
    """The ``X-API-Key`` header as the route's own check reads it (latin-1, as Starlette does)."""
    for name, value in scope.get("headers", ()):
        if name == b"x-api-key":
            return bytes(value).decode("latin-1")
    return None


class KeyFirstMiddleware:
    """Checks the key of a route that needs one before that route reads its body."""

    def __init__(self, app: ASGIApp, *, engine: Engine) -> None:
        self.app = app
        self.engine = engine
        self.roles: dict[int, Role | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        checked = False

        async def receive_after_the_key() -> Message:
            nonlocal checked
            if not checked:
                checked = True
                await self._check(scope)  # raises ApiError: its handler answers 401 or 403
            return await receive()

        await self.app(scope, receive_after_the_key, send)

    async def _check(self, scope: Scope) -> None:
        route: Any = scope.get("route")  # set by the router before the route asks for its body
        minimum = self._role_of(route) if isinstance(route, APIRoute) else None
        if minimum is None:
            return
        caller = await asyncio.to_thread(authenticate, self.engine, presented_key(scope))
        scope.setdefault("state", {})["caller"] = admit(caller, minimum)

    def _role_of(self, route: APIRoute) -> Role | None:
        key = id(route)
        if key not in self.roles:
            self.roles[key] = required_role(route.dependant)
        return self.roles[key]
