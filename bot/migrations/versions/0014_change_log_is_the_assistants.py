"""change log is the assistant's

The order events (every change with its reason and who caused it) become the
assistant's own change log (bot/memory/changes.py): no foreign key into the
shop's orders and lines any more, and the demo shop's follow-up requests no
longer point into it. The shop is read for its orders as they are now; what
changed and why is what the assistant heard.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 16:00:00
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# (table, column, the table it pointed at)
KEYS = (
    ("order_events", "order_id", "orders"),
    ("order_events", "line_id", "order_lines"),
    ("follow_up_requests", "event_id", "order_events"),
)
# SQLite's foreign keys have no names: batch mode names them by this pattern.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in dict.fromkeys(table for table, _, _ in KEYS):
        keys = [(column, target) for name, column, target in KEYS if name == table]
        if sqlite:
            with op.batch_alter_table(table, naming_convention=NAMING) as batch:
                for column, target in keys:
                    batch.drop_constraint(f"fk_{table}_{column}_{target}", type_="foreignkey")
        else:
            for column, _target in keys:
                op.drop_constraint(f"{table}_{column}_fkey", table, type_="foreignkey")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in dict.fromkeys(table for table, _, _ in KEYS):
        keys = [(column, target) for name, column, target in KEYS if name == table]
        with op.batch_alter_table(table, recreate="always" if sqlite else "auto") as batch:
            for column, target in keys:
                batch.create_foreign_key(f"fk_{table}_{column}_{target}", target, [column], ["id"])
