"""question counts for the staff dashboard

What customers ask, counted per day, intent and language by the question
counter; and an index for the dashboard's
order changes per day.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "question_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "intent", "language"),
    )
    # Order changes (not progress steps) by time, reason and party: the
    # dashboard's queries read this partial index alone.
    changes = sa.text("field <> 'status' OR new_value = 'cancelled'")
    op.create_index(
        "ix_order_events_changes",
        "order_events",
        ["occurred_at", "reason_code", "party_type", "party_name"],
        postgresql_where=changes,
        sqlite_where=changes,
    )


def downgrade() -> None:
    op.drop_index("ix_order_events_changes", table_name="order_events")
    op.drop_table("question_counts")
