"""Records the projection set aside, and a theme's engagement as a 64-bit count.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "set_aside",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=256), nullable=True),
        sa.Column("partition", sa.Integer(), nullable=True),
        sa.Column("offset", sa.BigInteger(), nullable=True),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("exception_type", sa.String(length=256), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=True),
        sa.Column("value_size", sa.BigInteger(), nullable=False),
        sa.Column("value_truncated", sa.Boolean(), nullable=False),
        sa.Column("value_sha256", sa.String(length=64), nullable=True),
        sa.Column("set_aside_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("topic", "partition", "offset", name="uq_set_aside_source"),
    )
    op.create_index("ix_set_aside_set_aside_at", "set_aside", ["set_aside_at"], unique=False)
    with op.batch_alter_table("themes") as batch:
        batch.alter_column(
            "engagement", existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("themes") as batch:
        batch.alter_column(
            "engagement", existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False
        )
    op.drop_index("ix_set_aside_set_aside_at", table_name="set_aside")
    op.drop_table("set_aside")
