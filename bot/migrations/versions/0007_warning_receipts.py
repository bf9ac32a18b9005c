"""warning receipts

When a channel took a warning from Rasa: written by the channel right after the
push, so that a push whose turn Rasa never saved (an instance killed between
sending and saving) is not pushed a second time.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 18:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("warnings") as batch:
        batch.add_column(sa.Column("received_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("warnings") as batch:
        batch.drop_column("received_at")
