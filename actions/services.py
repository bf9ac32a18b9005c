"""What the actions use, built once per action-server process on first use."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.analytics.question_counter import QuestionCounter
from bot.bootstrap import build_parts
from bot.clock import shop_today
from bot.orders.remembered import RememberedOrders
from bot.run_secrets import secret_problems
from bot.settings import Settings, load_settings
from bot.texts import Catalog
from bot.usecases.work import Work, open_work


@dataclass
class Services:
    settings: Settings
    catalog: Catalog
    orders: RememberedOrders
    sessions: sessionmaker[Session]  # DATABASE_URL: warnings, promises, channels
    questions: QuestionCounter  # what customers ask, for the staff dashboard

    def today(self):
        return shop_today(self.settings.shop_timezone)

    def work(self) -> AbstractContextManager[Work]:
        """One unit of work for a use case (bot/usecases)."""
        return open_work(self.sessions, self.orders, self.catalog, self.settings)


_current: Services | None = None


class MissingSecrets(RuntimeError):
    """Started without the secrets it needs (rasa-sdk's own `rasa run actions`
    outside the demo: `python -m bot run` checks them before it starts)."""


def build_services(settings: Settings | None = None) -> Services:
    settings = settings or load_settings()
    # The shop's secret signs and checks who is asking (tokens, proofs);
    # without PUSH_SECRET pushes are refused, which is safe.
    problems = secret_problems(settings, ("SHOP_TOKEN_SECRET",))
    if problems:
        raise MissingSecrets("; ".join(problems) + " (DEMO_SHOP=true makes demo secrets)")
    parts = build_parts(settings)
    return Services(
        settings=parts.settings,
        catalog=parts.catalog,
        orders=parts.orders,
        sessions=parts.sessions,
        questions=QuestionCounter(parts.settings),
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
