"""A suggestion is one ask of a comment: its span, and the whole comment for context.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema: rows written before hold the whole comment in ``text`` and no span."""
    with op.batch_alter_table("suggestions") as batch:
        batch.add_column(sa.Column("ask_start", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ask_end", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("comment_text", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("suggestions") as batch:
        batch.drop_column("comment_text")
        batch.drop_column("ask_end")
        batch.drop_column("ask_start")
