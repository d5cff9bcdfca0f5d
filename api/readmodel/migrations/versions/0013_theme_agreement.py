"""A theme's agreement: how far its members hold one idea (ThemeChanged version 3).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema: themes projected before have none until their next snapshot."""
    with op.batch_alter_table("themes") as batch:
        batch.add_column(sa.Column("agreement", sa.Float(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("themes") as batch:
        batch.drop_column("agreement")
