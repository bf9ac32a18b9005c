"""The Alembic migrations build exactly the tables the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import bot.analytics.tables  # noqa: F401 - registers the question counts
import bot.compensation.tables  # noqa: F401 - registers the compensations
import bot.deadlines.tables  # noqa: F401 - registers the customers' deadlines
import bot.handoff.tables  # noqa: F401 - registers the handoff queue
import bot.proactive.tables  # noqa: F401 - registers the proactive tables
import bot.sources.tables  # noqa: F401 - registers the source deliveries
import bot.verification.tables  # noqa: F401 - registers the verification failures
from bot.orders.sql.database import create_db_engine
from bot.orders.sql.migrate import upgrade_database
from bot.orders.sql.tables import Base


def test_migrations_match_the_declared_tables(any_database_url: str) -> None:
    upgrade_database(any_database_url)
    engine = create_db_engine(any_database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
