"""customer channels by address

The assistant finds the customer behind a conversation by its sender id alone
(a pushed warning carries no channel); the unique (channel, address) index
cannot serve that.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 14:05:00
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_customer_channels_address", "customer_channels", ["address"])


def downgrade() -> None:
    op.drop_index("ix_customer_channels_address", table_name="customer_channels")
