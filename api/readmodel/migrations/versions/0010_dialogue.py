"""Dialogue measures: per reply thread and per product, platform and ISO week.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "dialogue_weeks",
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("product", sa.String(length=256), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("threads", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("within_service_level", sa.Integer(), nullable=False),
        sa.Column("escalated", sa.Integer(), nullable=False),
        sa.Column("closed_without_escalation", sa.Integer(), nullable=False),
        sa.Column("share_within_service_level", sa.Float(), nullable=True),
        sa.Column("share_closed_without_escalation", sa.Float(), nullable=True),
        sa.Column("response_p50_s", sa.Float(), nullable=True),
        sa.Column("response_p90_s", sa.Float(), nullable=True),
        sa.Column("working_response_p50_s", sa.Float(), nullable=True),
        sa.Column("working_response_p90_s", sa.Float(), nullable=True),
        sa.Column("service_level", sa.JSON(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_dialogue_weeks_product_week", "dialogue_weeks", ["product", "week"])
    op.create_table(
        "dialogue_threads",
        sa.Column("key", sa.String(length=552), nullable=False),
        sa.Column("product", sa.String(length=256), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("thread_id", sa.String(length=256), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=True),
        sa.Column("first_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_s", sa.Float(), nullable=True),
        sa.Column("working_response_s", sa.Float(), nullable=True),
        sa.Column("within_service_level", sa.Boolean(), nullable=True),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("escalation", sa.String(length=64), nullable=True),
        sa.Column("inbound_count", sa.Integer(), nullable=False),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_dialogue_threads_product_week", "dialogue_threads", ["product", "week"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_dialogue_threads_product_week", table_name="dialogue_threads")
    op.drop_table("dialogue_threads")
    op.drop_index("ix_dialogue_weeks_product_week", table_name="dialogue_weeks")
    op.drop_table("dialogue_weeks")
