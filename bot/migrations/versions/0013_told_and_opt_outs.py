"""told and opt-outs

What a customer was last told about an order, and who opted out of warnings,
move from the shop's tables (orders.informed_event_id/informed_at,
customers.opted_out_at) into the assistant's own (told, opt_outs), keyed by
the shop's ids: the shop is read, never written, for either.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "told",
        sa.Column("order_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("told_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "opt_outs",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("opted_out_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.execute(
        "INSERT INTO told (order_id, event_id, told_at) "
        "SELECT id, informed_event_id, COALESCE(informed_at, placed_at) FROM orders "
        "WHERE informed_event_id IS NOT NULL"
    )
    op.execute(
        "INSERT INTO opt_outs (customer_id, opted_out_at) "
        "SELECT id, opted_out_at FROM customers WHERE opted_out_at IS NOT NULL"
    )
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("informed_event_id")
        batch.drop_column("informed_at")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("opted_out_at")


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("opted_out_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("informed_event_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("informed_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE orders SET informed_event_id = "
        "(SELECT event_id FROM told WHERE told.order_id = orders.id), "
        "informed_at = (SELECT told_at FROM told WHERE told.order_id = orders.id)"
    )
    op.execute(
        "UPDATE customers SET opted_out_at = "
        "(SELECT opted_out_at FROM opt_outs WHERE opt_outs.customer_id = customers.id)"
    )
    op.drop_table("opt_outs")
    op.drop_table("told")
