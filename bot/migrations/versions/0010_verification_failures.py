"""verification failures

Failed verifications (order number plus postcode or email), one row each, per
order number and per client (a keyed hash of its address): counted across
conversations, so that guessing postcodes order after order gets locked out
(bot/verification/limits.py). Rows are deleted after half an hour.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_verification_failures_subject", "verification_failures", ["subject", "failed_at"]
    )
    op.create_index("ix_verification_failures_failed_at", "verification_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_index("ix_verification_failures_failed_at", table_name="verification_failures")
    op.drop_index("ix_verification_failures_subject", table_name="verification_failures")
    op.drop_table("verification_failures")
