"""The one database: the declarative base of every table, engines and
session factories made on request (never at import time), and the schema
migrations (Alembic, run from Python).

The assistant's own tables (bot/memory/) and the demo shop's (bot/orders/sql/)
share the base and one migration history; no table of the assistant has a
foreign key into the shop's.
"""

from __future__ import annotations

from pathlib import Path

import psycopg2
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, event, exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, registry, sessionmaker
from sqlalchemy.orm.decl_api import DeclarativeMeta
from sqlalchemy.pool import QueuePool

mapper_registry = registry()


class Base(metaclass=DeclarativeMeta):
    """Declarative base spelled out, so that type checkers understand it."""

    __abstract__ = True
    registry = mapper_registry
    metadata = mapper_registry.metadata
    __init__ = mapper_registry.constructor


def every_table() -> MetaData:
    """The metadata with every table registered: the assistant's memory and
    the demo shop's (for migrations and for checking them)."""
    import bot.memory.addresses
    import bot.memory.changes
    import bot.memory.compensations
    import bot.memory.customers
    import bot.memory.deadlines
    import bot.memory.handoffs
    import bot.memory.idempotency
    import bot.memory.promises
    import bot.memory.question_counts
    import bot.memory.sources
    import bot.memory.verification
    import bot.memory.warnings
    import bot.orders.sql.tables  # noqa: F401 - each import registers its tables

    return Base.metadata


def create_db_engine(database_url: str) -> Engine:
    """An engine for DATABASE_URL; SQLite gets its folder, WAL and foreign keys."""
    url = make_url(database_url)
    options: dict[str, object] = {}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            # SQLAlchemy 1.4 opens a file's connection anew for every session
            # (NullPool): with the pragmas and the WAL checkpoint at its close,
            # milliseconds each, five times in a pushed warning. Kept open
            # instead, as SQLAlchemy 2 does.
            options = {"poolclass": QueuePool, "pool_size": 5, "max_overflow": 10}
        engine = create_engine(
            url,
            future=True,
            connect_args={"check_same_thread": False, "timeout": 30},
            **options,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.get_driver_name() == "psycopg2":
        # UPDATEs of many rows (a supplier delay) as a few batches, not one per row.
        options["executemany_mode"] = "values_plus_batch"
        # A database host that stops answering (rather than refusing) would
        # otherwise hold a connection attempt or a query for many minutes before
        # the outage handling of the notifier and the web service gets a say.
        options["connect_args"] = {
            "connect_timeout": 10,
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }
    return create_engine(
        url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=10, **options
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


def database_unreachable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached now (connection refused
    or dropped, the server restarting, no connection free in the pool): an
    error that trying again later can mend."""
    if isinstance(error, exc.DBAPIError):
        return bool(error.connection_invalidated) or isinstance(
            error, (exc.OperationalError, exc.InterfaceError)
        )
    if isinstance(error, (exc.DisconnectionError, exc.TimeoutError)):
        return True
    # The driver's own errors, met outside SQLAlchemy (a raw connection).
    return isinstance(error, (psycopg2.OperationalError, psycopg2.InterfaceError))


MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' would be read as interpolation by configparser.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_database(database_url: str) -> None:
    """Bring the schema to the newest revision (creates it on an empty database)."""
    command.upgrade(alembic_config(database_url), "head")
