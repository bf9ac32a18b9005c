"""Building the configured order system (SQL or HTTP) on first use."""

from __future__ import annotations

from bot.orders.http_system import HttpOrderSystem
from bot.orders.sql.database import create_db_engine, make_session_factory
from bot.orders.sql.system import SqlOrderSystem
from bot.orders.system import OrderSystem
from bot.settings import Settings


def build_order_system(settings: Settings) -> OrderSystem:
    if settings.order_system == "http":
        return HttpOrderSystem(
            settings.order_api_url,
            api_key=settings.order_api_key,
            timeout=settings.order_api_timeout,
            retries=settings.order_api_retries,
        )
    return SqlOrderSystem(make_session_factory(create_db_engine(settings.database_url)))
