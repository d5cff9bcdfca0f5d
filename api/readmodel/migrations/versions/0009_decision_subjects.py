"""A command's outcome names the person a decision about one asker is about (by hash).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema: outcomes projected before name nobody (no decision about one asker existed)."""
    with op.batch_alter_table("command_outcomes") as batch:
        batch.add_column(sa.Column("author_hash", sa.String(16), nullable=True))
        batch.create_index("ix_command_outcomes_author_hash", ["author_hash"])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("command_outcomes") as batch:
        batch.drop_index("ix_command_outcomes_author_hash")
        batch.drop_column("author_hash")
