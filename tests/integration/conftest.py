"""Fixtures the integration tests share."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.services import Services, build_services, use_services
from bot.clock import utcnow
from bot.database import create_db_engine, make_session_factory
from bot.orders.sql.tables import OrderLineRow, OrderRow, ProductRow
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


def helmet_order_for_erik(sessions: sessionmaker[Session], today: date) -> None:
    """A second open order for Erik: an Abus helmet (order 10100, due in 4 days)."""
    with sessions.begin() as session:
        helmet = session.execute(
            select(ProductRow.id).where(ProductRow.sku == "AB-HELM-M")
        ).scalar_one()
        session.add(
            OrderRow(
                id=10100,
                customer_id=1001,
                status="processing",
                fulfilment="delivery",
                placed_at=datetime.combine(today, time(9, 0)),
                promised_date=today + timedelta(days=4),
                original_promised_date=today + timedelta(days=4),
                postcode="3511 AB",
                email="erik@example.nl",
                address="Lange Nieuwstraat 12, 3511 AB Utrecht",
                total_cents=2995,
                currency="EUR",
            )
        )
        session.add(OrderLineRow(order_id=10100, product_id=helmet, quantity=1))
