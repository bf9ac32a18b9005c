"""Alembic environment: migrates the database named in the config's sqlalchemy.url."""

from __future__ import annotations

from alembic import context

from bot.analytics import tables as _analytics_tables  # noqa: F401 - registers the tables
from bot.compensation import tables as _compensation_tables  # noqa: F401 - registers the tables
from bot.deadlines import tables as _deadline_tables  # noqa: F401 - registers the tables
from bot.handoff import tables as _handoff_tables  # noqa: F401 - registers the tables
from bot.orders.sql.database import create_db_engine
from bot.orders.sql.tables import Base
from bot.proactive import tables as _proactive_tables  # noqa: F401 - registers the tables
from bot.sources import tables as _source_tables  # noqa: F401 - registers the tables
from bot.verification import tables as _verification_tables  # noqa: F401 - registers the tables
from bot.web import idempotency_table as _idempotency_table  # noqa: F401 - registers the table

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_db_engine(str(config.get_main_option("sqlalchemy.url")))
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
