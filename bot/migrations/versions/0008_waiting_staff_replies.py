"""waiting staff replies

A person's reply to a customer whose chat is closed waits until they are back;
the notifier looks for such replies every few seconds, through this partial
index on the few that wait.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WAITING = sa.text("delivered_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_handoff_messages_waiting",
        "handoff_messages",
        ["handoff_id"],
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_handoff_messages_waiting", table_name="handoff_messages")
