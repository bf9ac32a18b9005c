"""Alembic environment: migrates the database named in the config's sqlalchemy.url,
or DATABASE_URL as bot/settings.py reads it (`alembic` run from the root with
alembic.ini, whose URL is empty so that no password sits in a file)."""

from __future__ import annotations

from alembic import context

from bot.database import create_db_engine, every_table

config = context.config
target_metadata = every_table()


def database_url() -> str:
    given = config.get_main_option("sqlalchemy.url")
    if given:
        return given
    from bot.settings import load_settings

    return load_settings().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_db_engine(database_url())
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode copies a SQLite table to change it: with foreign keys
            # on, dropping the old `orders` would fail for the lines pointing
            # at it. Outside a transaction, so that SQLite takes it.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end the autobegun transaction: Alembic begins its own
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
