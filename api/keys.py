"""Admin routes for API keys: create one (shown once), revoke one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import Engine

from api.common import ERRORS, NOT_FOUND, Admin, ApiError
from api.schemas import KeyCreate, KeyCreated
from api.security import Role, create_key, revoke_key


def keys_router(*, engine: Engine) -> APIRouter:
    """``POST /keys`` and ``DELETE /keys/{key_id}`` (admin)."""
    router = APIRouter()

    @router.post("/keys", status_code=201, response_model=KeyCreated, tags=["admin"], responses=ERRORS)
    def new_key(body: KeyCreate, _caller: Admin) -> KeyCreated:
        """Create an API key; it is shown this once."""
        key = create_key(engine, name=body.name, role=Role[body.role])
        return KeyCreated(key_id=key.split("_", 2)[1], key=key, role=body.role)

    @router.delete("/keys/{key_id}", status_code=204, tags=["admin"], responses={**ERRORS, **NOT_FOUND})
    def delete_key(key_id: Annotated[str, Path(min_length=1, max_length=64)], _caller: Admin) -> None:
        """Revoke an API key."""
        if not revoke_key(engine, key_id):
            raise ApiError(404, "not_found", f"no live key {key_id}")

    return router
