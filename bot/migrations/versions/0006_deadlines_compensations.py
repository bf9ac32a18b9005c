"""customers' deadlines and compensations

A deadline per order ("zaterdag, voor mijn bruiloft") and every compensation
offered, unique per order, rule and change so that none is offered twice.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_deadlines",
        sa.Column("order_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("purpose", sa.String(length=60), nullable=True),
        sa.Column("phrase", sa.String(length=120), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("told_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_index(
        "ix_order_deadlines_customer_id", "order_deadlines", ["customer_id"], unique=False
    )
    op.create_table(
        "compensations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("change_key", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("promise_id", sa.Integer(), nullable=True),
        sa.Column("offer", sa.String(length=32), nullable=False),
        sa.Column("value_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("offered_at", sa.DateTime(), nullable=False),
        sa.Column("offered_in", sa.String(length=16), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "rule", "change_key", name="uq_compensation_once"),
    )
    op.create_index("ix_compensations_order_id", "compensations", ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_compensations_order_id", table_name="compensations")
    op.drop_table("compensations")
    op.drop_index("ix_order_deadlines_customer_id", table_name="order_deadlines")
    op.drop_table("order_deadlines")
