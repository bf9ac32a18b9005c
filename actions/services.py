"""What the actions use, built once per action-server process on first use."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.analytics.question_counter import QuestionCounter
from bot.clock import shop_today
from bot.orders.factory import build_order_system, build_session_factory
from bot.orders.remembered import RememberedOrders
from bot.settings import Settings, load_settings
from bot.texts import Catalog, load_catalog


@dataclass
class Services:
    settings: Settings
    catalog: Catalog
    orders: RememberedOrders
    sessions: sessionmaker[Session]  # DATABASE_URL: warnings, promises, channels
    questions: QuestionCounter  # what customers ask, for the staff dashboard

    def today(self):
        return shop_today(self.settings.shop_timezone)


_current: Services | None = None


def build_services(settings: Settings | None = None) -> Services:
    settings = settings or load_settings()
    catalog = load_catalog(
        settings.reason_texts_path,
        settings.message_texts_path,
        {"shop": settings.shop_name, "contact": settings.shop_contact},
    )
    sessions = build_session_factory(settings)
    return Services(
        settings=settings,
        catalog=catalog,
        orders=build_order_system(settings, sessions),
        sessions=sessions,
        questions=QuestionCounter(settings),
    )


def services() -> Services:
    global _current
    if _current is None:
        _current = build_services()
    return _current


def use_services(replacement: Services | None) -> None:
    """Swap the services (tests); None rebuilds them from the environment."""
    global _current
    _current = replacement
