"""warnings sent by the notifier

A warning to an address the shop registered is composed and sent by the
notifier itself, without a Rasa turn (bot/proactive/direct.py). What the
conversation in Rasa held for it moves into the memory: the language the
conversation speaks (customer_channels.language) and the text the customer
was sent (warnings.said, for the person taking over).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_channels") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    with op.batch_alter_table("warnings") as batch:
        batch.add_column(sa.Column("said", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("warnings") as batch:
        batch.drop_column("said")
    with op.batch_alter_table("customer_channels") as batch:
        batch.drop_column("language")
