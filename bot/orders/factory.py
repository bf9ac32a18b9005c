"""Building the configured order system (SQL or HTTP) on first use."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.database import create_db_engine, make_session_factory
from bot.orders.http_system import HttpOrderSystem
from bot.orders.remembered import RememberedOrders, RememberingOrders
from bot.orders.sql.system import SqlOrderSystem
from bot.orders.system import OrderSystem
from bot.settings import Settings


def build_session_factory(settings: Settings) -> sessionmaker[Session]:
    """The database of DATABASE_URL: the assistant's memory, and the demo shop (sql)."""
    return make_session_factory(create_db_engine(settings.database_url))


def build_shop(settings: Settings, sessions: sessionmaker[Session]) -> OrderSystem:
    """The shop's order system alone: the demo shop's tables or the shop's REST API."""
    if settings.order_system == "http":
        return HttpOrderSystem(
            settings.order_api_url,
            api_key=settings.order_api_key,
            timeout=settings.order_api_timeout,
            retries=settings.order_api_retries,
        )
    return SqlOrderSystem(sessions)


def build_order_system(settings: Settings, sessions: sessionmaker[Session]) -> RememberedOrders:
    """The shop's orders with what each customer was told (the assistant's memory)."""
    return RememberingOrders(build_shop(settings, sessions), sessions)
