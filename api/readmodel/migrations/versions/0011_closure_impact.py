"""The impact of what shipped: one row per shipped closure and week after shipping.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "closure_impact",
        sa.Column("closure_id", sa.String(length=256), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=256), nullable=False),
        sa.Column("theme_id", sa.String(length=256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("week_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("closure_id", "week"),
    )
    op.create_index(op.f("ix_closure_impact_product"), "closure_impact", ["product"], unique=False)
    op.create_index(op.f("ix_closure_impact_theme_id"), "closure_impact", ["theme_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_closure_impact_theme_id"), table_name="closure_impact")
    op.drop_index(op.f("ix_closure_impact_product"), table_name="closure_impact")
    op.drop_table("closure_impact")
