"""What every process needs, built in one place and once: the database's
sessions, the shop's order system (and the same with the assistant's memory
laid over it) and the customer texts.

The action server (actions/services.py), the web service (bot/web/app.py),
the notifier (bot/proactive/worker.py) and the channels take their parts
from here; tests pass settings pointing at their own database, or build a
part themselves. Nothing is built at import time.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.orders.factory import build_session_factory, build_shop
from bot.orders.remembered import RememberedOrders, RememberingOrders
from bot.orders.system import OrderSystem
from bot.settings import Settings
from bot.texts import Catalog, load_catalog
from bot.usecases.work import Work, open_work


def customer_texts(settings: Settings) -> Catalog:
    """The reasons and messages customers read, checked, with the shop's name
    and contact filled in."""
    return load_catalog(
        settings.reason_texts_path,
        settings.message_texts_path,
        {"shop": settings.shop_name, "contact": settings.shop_contact},
    )


@dataclass(frozen=True)
class Parts:
    settings: Settings
    # DATABASE_URL: the assistant's memory, and the demo shop's tables (sql).
    sessions: sessionmaker[Session]
    shop: OrderSystem  # the shop's orders as they are now: read, and asked to cancel
    orders: RememberedOrders  # the same with the change log and what each customer was told
    catalog: Catalog

    def work(self) -> AbstractContextManager[Work]:
        """One unit of work for a use case (bot/usecases)."""
        return open_work(self.sessions, self.orders, self.catalog, self.settings)


def build_parts(settings: Settings) -> Parts:
    sessions = build_session_factory(settings)
    shop = build_shop(settings, sessions)
    return Parts(
        settings=settings,
        sessions=sessions,
        shop=shop,
        orders=RememberingOrders(shop, sessions),
        catalog=customer_texts(settings),
    )
