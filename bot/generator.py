"""Realistic extra orders with events, for benchmarks (`python -m bot generate`)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.memory.changes import OrderEventRow
from bot.orders.sql.tables import (
    CustomerRow,
    OrderLineRow,
    OrderRow,
    ProductRow,
    ShipmentRow,
    SupplierRow,
)

SUPPLIERS = (
    "Gazelle",
    "Batavus",
    "Cortina",
    "Sparta",
    "Philips",
    "Bosch",
    "Samsung",
    "Lenovo",
    "Thule",
    "AXA",
    "Basil",
    "Abus",
    "Sony",
    "Brabantia",
    "Tefal",
    "Logitech",
)
PRODUCT_KINDS = (
    "stadsfiets",
    "e-bike",
    "fietstas",
    "slot",
    "helm",
    "föhn",
    "tablet",
    "koptelefoon",
    "waterkoker",
    "fietsverlichting",
    "kinderzitje",
    "toetsenbord",
)
FIRST_NAMES = ("Jan", "Sanne", "Pieter", "Fleur", "Daan", "Noor", "Tom", "Eva", "Liam", "Mila")
LAST_NAMES = ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer")
CITIES = (
    ("Utrecht", "35"),
    ("Amsterdam", "10"),
    ("Rotterdam", "30"),
    ("Groningen", "97"),
    ("Eindhoven", "56"),
    ("Den Haag", "25"),
    ("Arnhem", "68"),
    ("Zwolle", "80"),
)
DELAY_REASONS = (
    ("supplier_delay", "supplier", "levering van onderdelen loopt achter"),
    ("production_problem", "supplier", "storing in de productielijn"),
    ("supplier_out_of_stock", "supplier", "tijdelijk uitverkocht bij de fabrikant"),
    ("warehouse_delay", "warehouse", "grote drukte in het magazijn"),
    ("carrier_delay", "carrier", "vertraging in het sorteercentrum"),
    ("customs_delay", "carrier", "controle bij de douane"),
    (None, None, None),  # a change the order system recorded without a reason
)
CARRIERS = ("PostNL", "DHL", "DPD")
STATUS_STEPS = ("processing", "packed", "shipped", "in_transit", "out_for_delivery", "delivered")
BATCH = 2000
POSTCODE_LETTERS = "ABCDEFGHJKLMNPRSTVWXZ"


def _ensure_catalog(session: Session) -> list[tuple[int, str]]:
    """Products with their supplier names (made once, reused)."""
    existing = {name for (name,) in session.execute(select(SupplierRow.name))}
    for name in SUPPLIERS:
        if name not in existing:
            session.add(SupplierRow(name=name))
    session.flush()
    suppliers = dict(session.execute(select(SupplierRow.name, SupplierRow.id)).all())
    have = session.execute(
        select(func.count()).select_from(ProductRow).where(ProductRow.sku.like("GEN-%"))
    ).scalar()
    if not have:
        for index in range(200):
            supplier = SUPPLIERS[index % len(SUPPLIERS)]
            kind = PRODUCT_KINDS[index % len(PRODUCT_KINDS)]
            session.add(
                ProductRow(
                    sku=f"GEN-{index:04d}",
                    name=f"{supplier} {kind} {100 + index}",
                    supplier_id=suppliers[supplier],
                )
            )
        session.flush()
    rows = session.execute(
        select(ProductRow.id, SupplierRow.name)
        .join(SupplierRow, ProductRow.supplier_id == SupplierRow.id)
        .where(ProductRow.sku.like("GEN-%"))
    ).all()
    return [(product_id, supplier) for product_id, supplier in rows]


def _next_id(session: Session, column: Any, floor: int) -> int:
    current = session.execute(select(func.max(column))).scalar()
    return max(int(current or 0) + 1, floor)


def generate_orders(
    session_factory: sessionmaker[Session],
    count: int,
    today: date,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
    orders_per_customer: int = 1,
) -> int:
    """Add `count` orders (with lines, shipments and events); returns the count."""
    rng = random.Random(seed)
    with session_factory() as session, session.begin():
        catalog = _ensure_catalog(session)
        next_customer = _next_id(session, CustomerRow.id, 100_000)
        next_order = _next_id(session, OrderRow.id, 100_000)
        next_line = _next_id(session, OrderLineRow.id, 1)
    made = 0
    while made < count:
        size = min(BATCH, count - made)
        rows = _batch(
            rng, catalog, today, next_customer, next_order, next_line, size, orders_per_customer
        )
        with session_factory() as session, session.begin():
            for table, items in rows:
                if items:
                    session.execute(insert(table), items)
        next_customer += -(-size // orders_per_customer)
        next_order += size
        next_line += size
        made += size
        if progress:
            progress(size)
    return made


def _batch(
    rng: random.Random,
    catalog: list[tuple[int, str]],
    today: date,
    first_customer: int,
    first_order: int,
    first_line: int,
    size: int,
    orders_per_customer: int,
) -> list[tuple[Any, list[dict[str, Any]]]]:
    customers: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    shipments: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for index in range(size):
        customer_id = first_customer + index // orders_per_customer
        city, prefix = rng.choice(CITIES)
        letters = "".join(rng.choice(POSTCODE_LETTERS) for _ in range(2))
        postcode = f"{prefix}{rng.randint(10, 99)} {letters}"
        email = f"klant{customer_id}@example.nl"
        if index % orders_per_customer == 0:
            customers.append(
                {
                    "id": customer_id,
                    "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    "email": email,
                    "postcode": postcode,
                    "language": "en" if rng.random() < 0.15 else "nl",
                }
            )
        order_id = first_order + index
        line_id = first_line + index
        product_id, supplier = rng.choice(catalog)
        placed = today - timedelta(days=rng.randint(0, 30))
        promised = placed + timedelta(days=rng.randint(2, 10))
        status = "processing" if promised >= today else "delivered"
        order: dict[str, Any] = {
            "id": order_id,
            "customer_id": customer_id,
            "status": status,
            "fulfilment": "pickup" if rng.random() < 0.2 else "delivery",
            "placed_at": datetime.combine(placed, time(rng.randint(7, 22), rng.randint(0, 59))),
            "promised_date": promised,
            "original_promised_date": promised,
            "postcode": postcode,
            "email": email,
            "address": f"Dorpsstraat {rng.randint(1, 200)}, {postcode} {city}",
            "pickup_location": None,
            "total_cents": rng.randint(995, 250000),
            "currency": "EUR",
            "delivered_at": None,
        }
        lines.append(
            {
                "id": line_id,
                "order_id": order_id,
                "product_id": product_id,
                "quantity": rng.randint(1, 2),
                "status": "ok",
                "unit_price_cents": order["total_cents"],
            }
        )
        at: datetime = order["placed_at"]
        # Delivered orders went through every step; open ones through some.
        steps = STATUS_STEPS if status == "delivered" else STATUS_STEPS[: rng.randint(1, 3)]
        for step in steps:
            at += timedelta(hours=rng.randint(4, 40))
            events.append(_event(order_id, "status", None, step, None, None, "warehouse", None, at))
        if rng.random() < 0.35:
            code, party_type, text = rng.choice(DELAY_REASONS)
            moved = promised + timedelta(days=rng.randint(1, 14))
            party = (
                supplier
                if party_type == "supplier"
                else rng.choice(CARRIERS)
                if party_type == "carrier"
                else None
            )
            events.append(
                _event(
                    order_id,
                    "promised_date",
                    promised.isoformat(),
                    moved.isoformat(),
                    code,
                    text,
                    party_type,
                    party,
                    at + timedelta(hours=2),
                )
            )
            order["promised_date"] = moved
            order["status"] = "changed" if moved >= today else "delivered"
        if order["status"] == "delivered":
            order["delivered_at"] = datetime.combine(order["promised_date"], time(14, 0))
        if order["fulfilment"] == "delivery" and order["status"] in ("delivered",):
            carrier = rng.choice(CARRIERS)
            code = f"3S{order_id:011d}"
            shipments.append(
                {
                    "order_id": order_id,
                    "carrier": carrier,
                    "tracking_code": code,
                    "tracking_url": f"https://track.example/{carrier.lower()}/{code}",
                    "status": "delivered",
                    "shipped_at": at,
                    "expected_date": order["promised_date"],
                    "delivered_at": order["delivered_at"],
                }
            )
        orders.append(order)
    return [
        (CustomerRow, customers),
        (OrderRow, orders),
        (OrderLineRow, lines),
        (ShipmentRow, shipments),
        (OrderEventRow, events),
    ]


def _event(
    order_id: int,
    field: str,
    old: str | None,
    new: str | None,
    code: str | None,
    text: str | None,
    party_type: str | None,
    party: str | None,
    at: datetime,
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "line_id": None,
        "field": field,
        "old_value": old,
        "new_value": new,
        "reason_code": code,
        "reason_text": text,
        "party_type": party_type,
        "party_name": party,
        "occurred_at": at,
    }
