"""The Alembic migrations build exactly the tables the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.database import create_db_engine, every_table, upgrade_database


def test_migrations_match_the_declared_tables(any_database_url: str) -> None:
    upgrade_database(any_database_url)
    engine = create_db_engine(any_database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), every_table())
    finally:
        engine.dispose()
    assert differences == []
