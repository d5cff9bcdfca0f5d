"""Erasures: people erased by hash, and the hash on the rows that name a person.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _hash(platform: str, author_id: str) -> str:
    # contracts.lifecycle.hash_author, frozen here as this revision knew it
    return hashlib.sha256(f"{platform}:{author_id}".encode()).hexdigest()[:16]


def _backfill(name: str, key: str) -> None:
    table = sa.table(name, sa.column(key), sa.column("platform"), sa.column("author_id"),
                     sa.column("author_hash"))
    bind = op.get_bind()
    for ident, platform, author_id in bind.execute(
        sa.select(table.c[key], table.c.platform, table.c.author_id)
    ).all():
        bind.execute(
            sa.update(table).where(table.c[key] == ident).values(author_hash=_hash(platform, author_id))
        )


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "erasures",
        sa.Column("author_hash", sa.String(length=16), nullable=False),
        sa.Column("erasure_id", sa.String(length=256), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("author_hash"),
    )
    for table, key in (("suggestions", "suggestion_id"), ("classifications", "key")):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("author_hash", sa.String(length=16), nullable=True))
            batch.create_index(f"ix_{table}_author_hash", ["author_hash"], unique=False)
        _backfill(table, key)


def downgrade() -> None:
    """Downgrade schema."""
    for table in ("classifications", "suggestions"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_author_hash")
            batch.drop_column("author_hash")
    op.drop_table("erasures")
