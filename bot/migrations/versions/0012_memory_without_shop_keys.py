"""memory without shop keys

The assistant's own tables (bot/memory/) no longer hold foreign keys into the
shop's tables: warnings, promises, customer addresses and handoffs are keyed
by the shop's customer and order ids, whichever order system holds them
(the demo shop, a shop's REST API, a platform).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 15:00:00
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# (table, column, the shop's table it pointed at)
SHOP_KEYS = (
    ("customer_channels", "customer_id", "customers"),
    ("warnings", "customer_id", "customers"),
    ("promises", "customer_id", "customers"),
    ("promises", "order_id", "orders"),
    ("handoffs", "customer_id", "customers"),
)
# SQLite's foreign keys have no names: batch mode names them by this pattern
# while it copies the table without them.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in dict.fromkeys(table for table, _, _ in SHOP_KEYS):
        keys = [(column, shop) for name, column, shop in SHOP_KEYS if name == table]
        if sqlite:
            with op.batch_alter_table(table, naming_convention=NAMING) as batch:
                for column, shop in keys:
                    batch.drop_constraint(f"fk_{table}_{column}_{shop}", type_="foreignkey")
        else:
            for column, _shop in keys:
                op.drop_constraint(f"{table}_{column}_fkey", table, type_="foreignkey")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in dict.fromkeys(table for table, _, _ in SHOP_KEYS):
        keys = [(column, shop) for name, column, shop in SHOP_KEYS if name == table]
        with op.batch_alter_table(table, recreate="always" if sqlite else "auto") as batch:
            for column, shop in keys:
                batch.create_foreign_key(f"fk_{table}_{column}_{shop}", shop, [column], ["id"])
