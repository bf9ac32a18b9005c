"""Fixtures the integration tests share."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from actions.services import Services, build_services, use_services
from bot.clock import utcnow
from bot.database import create_db_engine, make_session_factory
from bot.proactive.intake import IntakeResult, SupplierDelay, apply_supplier_delay
from bot.settings import Settings
from tests.conftest import _seeded

# A fixed moment for the outbox rows these fixtures write.
QUEUED_AT = datetime(2026, 1, 1, 12, 0)


@pytest.fixture
def services(settings: Settings, today: date) -> Iterator[Services]:
    """The action server's services over the demo shop, as the actions get them."""
    _seeded(settings.database_url, today)
    built = build_services(settings)
    use_services(built)
    yield built
    use_services(None)


@pytest.fixture
def warned(any_database_url: str, today: date) -> tuple[sessionmaker[Session], int]:
    """The demo shop with Erik's Gazelle delay queued: the shop and the warning's id."""
    _seeded(any_database_url, today)
    shop = make_session_factory(create_db_engine(any_database_url))
    return shop, gazelle_delay(shop, today, QUEUED_AT).warning_ids[0]


def gazelle_delay(
    sessions: sessionmaker[Session], today: date, now: datetime | None = None
) -> IntakeResult:
    """Erik's Gazelle moves 20 days on: Gazelle's frames come later (seed 003)."""
    delay = SupplierDelay(
        supplier="Gazelle",
        new_date=today + timedelta(days=20),
        reason_code="production_problem",
        reason="frames komen later",
    )
    return apply_supplier_delay(sessions, delay, now or utcnow())
