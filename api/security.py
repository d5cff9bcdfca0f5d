"""API keys and roles: viewer reads; pm also changes themes; admin also manages keys.

A key is shown once, at creation, as ``ya_<key id>_<secret>``; the database keeps the key id,
its role and a SHA-256 hash of the secret (the secret is 32 random bytes, so a plain hash is
not open to guessing the way a password's is). Requests carry it in the ``X-API-Key`` header.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.readmodel.schema import ApiKeyRow

PREFIX = "ya"
MAX_KEY_CHARS = 256
"""Longer ``X-API-Key`` values are refused unread (a real key is about 65 characters)."""


class Role(enum.IntEnum):
    """Roles, each allowed what the ones below it are."""

    viewer = 1
    pm = 2
    admin = 3


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's id, its name and its role."""

    key_id: str
    name: str
    role: Role


def hash_secret(secret: str) -> str:
    """The stored form of a key's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(engine: Engine, *, name: str, role: Role) -> str:
    """Store a new key and return it whole (the only time it is shown)."""
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    with Session(engine) as session, session.begin():
        session.add(
            ApiKeyRow(
                key_id=key_id,
                name=name,
                role=role.name,
                secret_hash=hash_secret(secret),
                created_at=datetime.now(UTC),
            )
        )
    return f"{PREFIX}_{key_id}_{secret}"


def revoke_key(engine: Engine, key_id: str) -> bool:
    """Revoke a key; False when there is no such (live) key."""
    with Session(engine) as session, session.begin():
        row = session.get(ApiKeyRow, key_id)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = datetime.now(UTC)
        return True


def authenticate(engine: Engine, presented: str | None) -> Caller | None:
    """The caller a presented key belongs to, or None (missing, malformed, unknown, revoked)."""
    if not presented or len(presented) > MAX_KEY_CHARS:
        return None
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    _, key_id, secret = parts
    if not (key_id.isascii() and key_id.isalnum() and len(key_id) <= 64):
        return None  # not an id this module made: no database lookup for it
    with Session(engine) as session:
        row = session.get(ApiKeyRow, key_id)
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_hash, hash_secret(secret)):
            return None
        return Caller(key_id=row.key_id, name=row.name, role=Role[row.role])
