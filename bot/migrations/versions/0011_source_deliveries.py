"""source deliveries

Webhooks from the shop platforms (Shopify, WooCommerce, Sendcloud): the
inbox deduplicated on the platform's event id, the link from a platform's
order id to the order number, and per order and field the time of the newest
applied change (bot/sources/tables.py). No foreign keys into the shop's tables.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("triggered_at", sa.DateTime(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=True),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.Column("order_number", sa.String(length=64), nullable=True),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "topic", "event_id", name="uq_source_deliveries_event"),
    )
    op.create_index("ix_source_deliveries_due", "source_deliveries", ["status", "next_try_at"])
    op.create_index("ix_source_deliveries_received", "source_deliveries", ["source", "received_at"])
    op.create_table(
        "source_order_links",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("platform_order_id", sa.String(length=64), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("source", "platform_order_id"),
    )
    op.create_table(
        "source_field_marks",
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("field_key", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("order_number", "field_key"),
    )


def downgrade() -> None:
    op.drop_table("source_field_marks")
    op.drop_table("source_order_links")
    op.drop_index("ix_source_deliveries_received", table_name="source_deliveries")
    op.drop_index("ix_source_deliveries_due", table_name="source_deliveries")
    op.drop_table("source_deliveries")
