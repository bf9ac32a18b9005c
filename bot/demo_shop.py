"""The demo shop: five customers whose stories come from shared/seeds.

Dates are relative to the day of seeding (D), so the demo always looks
current. Other test suites rely on these ids and facts: change them only
together with the tests.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.memory.changes import OrderEventRow
from bot.memory.customers import ToldRow
from bot.orders.sql.tables import (
    CustomerRow,
    OrderLineRow,
    OrderRow,
    ProductRow,
    ShipmentRow,
    SupplierRow,
)
from bot.proactive.promises import promise_date
from bot.settings import Settings

PICKUP_STORE = "Fietsen & Meer Utrecht, Oudegracht 101"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


def migrate_and_seed(database_url: str, today: date) -> sessionmaker[Session]:
    """A database at DATABASE_URL with the newest schema and the demo shop."""
    from bot.database import create_db_engine, make_session_factory, upgrade_database

    upgrade_database(database_url)
    factory = make_session_factory(create_db_engine(database_url))
    seed_demo_shop(factory, today)
    return factory


def prepare_database(settings: Settings) -> bool | None:
    """Bring the schema up to date; seed the demo shop only with DEMO_SHOP=true.
    True: seeded now, False: it was there, None: no demo shop in this run."""
    from bot.clock import shop_today
    from bot.database import create_db_engine, make_session_factory, upgrade_database

    upgrade_database(settings.database_url)
    if not settings.demo_shop:
        return None
    engine = create_db_engine(settings.database_url)
    try:
        return seed_demo_shop(make_session_factory(engine), shop_today(settings.shop_timezone))
    finally:
        engine.dispose()


def is_seeded(session_factory: sessionmaker[Session]) -> bool:
    with session_factory() as session:
        return bool(session.execute(select(func.count()).select_from(CustomerRow)).scalar())


def seed_demo_shop(session_factory: sessionmaker[Session], today: date) -> bool:
    """Seed the demo shop once; returns False when it was already there."""
    if is_seeded(session_factory):
        return False
    d = today
    with session_factory() as session, session.begin():
        suppliers = {
            name: SupplierRow(name=name)
            for name in ("Gazelle", "TabletWereld", "Manchet & Co", "Philips", "Abus")
        }
        session.add_all(suppliers.values())
        products = {
            "bike": ProductRow(
                sku="GZ-C380-53", name="Gazelle Ultimate C380", supplier=suppliers["Gazelle"]
            ),
            "tablet": ProductRow(
                sku="TW-TAB10-64", name="Tablet 10 inch 64 GB", supplier=suppliers["TabletWereld"]
            ),
            "cufflinks": ProductRow(
                sku="MC-JOKER-01", name="Joker cufflinks", supplier=suppliers["Manchet & Co"]
            ),
            "dryer": ProductRow(
                sku="PH-BHD-300", name="Philips föhn 3000", supplier=suppliers["Philips"]
            ),
            "helmet": ProductRow(
                sku="AB-HELM-M", name="Abus fietshelm Urban M", supplier=suppliers["Abus"]
            ),
            "lock": ProductRow(sku="AX-LOCK-85", name="Kettingslot 85 cm", supplier=None),
        }
        session.add_all(products.values())
        session.flush()

        session.add_all(
            [
                CustomerRow(
                    id=1001,
                    name="Erik de Vries",
                    email="erik@example.nl",
                    postcode="3511 AB",
                    language="nl",
                ),
                CustomerRow(
                    id=1002,
                    name="Anouk Jansen",
                    email="anouk@example.nl",
                    postcode="1012 JS",
                    language="nl",
                ),
                CustomerRow(
                    id=1003,
                    name="Sam Bakker",
                    email="sam@example.com",
                    postcode="2511 CV",
                    language="en",
                ),
                CustomerRow(
                    id=1004,
                    name="Lisa Visser",
                    email="lisa@example.nl",
                    postcode="9711 LM",
                    language="nl",
                ),
                CustomerRow(
                    id=1005,
                    name="Emma Smith",
                    email="emma@example.com",
                    postcode="1071 XX",
                    language="en",
                ),
                CustomerRow(
                    id=1006,
                    name="Daan Mulder",
                    email="daan@example.nl",
                    postcode="6811 KL",
                    language="nl",
                ),
            ]
        )
        session.flush()

        # 003: the Gazelle bike. Pickup promised D+3; at D-1 Gazelle reported a
        # production problem and pickup moved to D+10.
        session.add(
            OrderRow(
                id=10001,
                customer_id=1001,
                status="changed",
                fulfilment="pickup",
                placed_at=at(d - timedelta(days=6), 13, 42),
                promised_date=d + timedelta(days=10),
                original_promised_date=d + timedelta(days=3),
                postcode="3511 AB",
                email="erik@example.nl",
                address="Lange Nieuwstraat 12, 3511 AB Utrecht",
                pickup_location=PICKUP_STORE,
                total_cents=129900,
                currency="EUR",
            )
        )
        session.flush()
        session.add(
            OrderLineRow(
                order_id=10001,
                product_id=products["bike"].id,
                quantity=1,
                status="ok",
                unit_price_cents=129900,
            )
        )
        session.add(
            OrderEventRow(
                order_id=10001,
                field="promised_date",
                old_value=(d + timedelta(days=3)).isoformat(),
                new_value=(d + timedelta(days=10)).isoformat(),
                reason_code="production_problem",
                reason_text="vertraging in de levering van frames aan de fabriek",
                party_type="supplier",
                party_name="Gazelle",
                occurred_at=at(d - timedelta(days=1), 16, 5),
            )
        )

        # 002: two tablets promised for D-2; the supplier has had none for
        # three weeks; new expected delivery D+9. Nobody told Anouk.
        session.add(
            OrderRow(
                id=10002,
                customer_id=1002,
                status="changed",
                fulfilment="delivery",
                placed_at=at(d - timedelta(days=12), 20, 11),
                promised_date=d + timedelta(days=9),
                original_promised_date=d - timedelta(days=2),
                postcode="1012 JS",
                email="anouk@example.nl",
                address="Spuistraat 40, 1012 JS Amsterdam",
                pickup_location=None,
                total_cents=39800,
                currency="EUR",
            )
        )
        session.flush()
        tablet_line = OrderLineRow(
            order_id=10002,
            product_id=products["tablet"].id,
            quantity=2,
            status="out_of_stock",
            unit_price_cents=19900,
        )
        session.add(tablet_line)
        session.flush()
        session.add_all(
            [
                OrderEventRow(
                    order_id=10002,
                    line_id=tablet_line.id,
                    field="line_status",
                    old_value="ok",
                    new_value="out_of_stock",
                    reason_code="supplier_out_of_stock",
                    reason_text="de tablets zijn al drie weken niet op voorraad bij de leverancier",
                    party_type="supplier",
                    party_name="TabletWereld",
                    occurred_at=at(d - timedelta(days=3), 9, 30),
                ),
                OrderEventRow(
                    order_id=10002,
                    field="promised_date",
                    old_value=(d - timedelta(days=2)).isoformat(),
                    new_value=(d + timedelta(days=9)).isoformat(),
                    reason_code="supplier_out_of_stock",
                    reason_text="nieuwe voorraad verwacht bij de leverancier",
                    party_type="supplier",
                    party_name="TabletWereld",
                    occurred_at=at(d - timedelta(days=1), 11, 0),
                ),
            ]
        )

        # 000: cufflinks shipped on time; PostNL is a day late.
        session.add(
            OrderRow(
                id=10003,
                customer_id=1003,
                status="shipped",
                fulfilment="delivery",
                placed_at=at(d - timedelta(days=2), 10, 15),
                promised_date=d + timedelta(days=2),
                original_promised_date=d + timedelta(days=1),
                postcode="2511 CV",
                email="sam@example.com",
                address="Spui 70, 2511 CV Den Haag",
                pickup_location=None,
                total_cents=4995,
                currency="EUR",
            )
        )
        session.flush()
        session.add(
            OrderLineRow(
                order_id=10003,
                product_id=products["cufflinks"].id,
                quantity=1,
                status="ok",
                unit_price_cents=4995,
            )
        )
        session.add(
            ShipmentRow(
                order_id=10003,
                carrier="PostNL",
                tracking_code="3SFMEX1234567",
                tracking_url="https://jouw.postnl.nl/track-and-trace/3SFMEX1234567-NL-2511CV",
                status="in_transit",
                shipped_at=at(d - timedelta(days=1), 15, 0),
                expected_date=d + timedelta(days=2),
            )
        )
        shipped = OrderEventRow(
            order_id=10003,
            field="status",
            old_value="processing",
            new_value="shipped",
            reason_code=None,
            reason_text=None,
            party_type="warehouse",
            party_name=None,
            occurred_at=at(d - timedelta(days=1), 15, 0),
        )
        session.add(shipped)
        session.flush()
        session.add(
            OrderEventRow(
                order_id=10003,
                field="promised_date",
                old_value=(d + timedelta(days=1)).isoformat(),
                new_value=(d + timedelta(days=2)).isoformat(),
                reason_code="carrier_delay",
                reason_text="extra busy sorting centre",
                party_type="carrier",
                party_name="PostNL",
                occurred_at=at(d, 7, 45),
            )
        )
        # Sam was told it shipped (the assistant's memory, not the shop's).
        session.add(ToldRow(order_id=10003, event_id=shipped.id, told_at=shipped.occurred_at))

        # 001: the hair dryer arrived at D-5; nothing changed.
        session.add(
            OrderRow(
                id=10004,
                customer_id=1004,
                status="delivered",
                fulfilment="delivery",
                placed_at=at(d - timedelta(days=9), 18, 30),
                promised_date=d - timedelta(days=5),
                original_promised_date=d - timedelta(days=5),
                postcode="9711 LM",
                email="lisa@example.nl",
                address="Oosterstraat 5, 9711 LM Groningen",
                pickup_location=None,
                total_cents=5999,
                currency="EUR",
                delivered_at=at(d - timedelta(days=5), 14, 20),
            )
        )
        session.flush()
        session.add(
            OrderLineRow(
                order_id=10004,
                product_id=products["dryer"].id,
                quantity=1,
                status="ok",
                unit_price_cents=5999,
            )
        )
        session.add(
            ShipmentRow(
                order_id=10004,
                carrier="PostNL",
                tracking_code="3SFMEX7654321",
                tracking_url="https://jouw.postnl.nl/track-and-trace/3SFMEX7654321-NL-9711LM",
                status="delivered",
                shipped_at=at(d - timedelta(days=6), 16, 0),
                expected_date=d - timedelta(days=5),
                delivered_at=at(d - timedelta(days=5), 14, 20),
            )
        )
        lisa_events = [
            OrderEventRow(
                order_id=10004,
                field="status",
                old_value="processing",
                new_value="shipped",
                party_type="warehouse",
                occurred_at=at(d - timedelta(days=6), 16, 0),
            ),
            OrderEventRow(
                order_id=10004,
                field="status",
                old_value="shipped",
                new_value="delivered",
                party_type="carrier",
                party_name="PostNL",
                occurred_at=at(d - timedelta(days=5), 14, 20),
            ),
        ]
        session.add_all(lisa_events)
        session.flush()
        last = lisa_events[-1]
        session.add(ToldRow(order_id=10004, event_id=last.id, told_at=last.occurred_at))

        # Placed today; nothing has happened yet.
        session.add(
            OrderRow(
                id=10005,
                customer_id=1005,
                status="placed",
                fulfilment="delivery",
                placed_at=at(d, 8, 5),
                promised_date=d + timedelta(days=4),
                original_promised_date=d + timedelta(days=4),
                postcode="1071 XX",
                email="emma@example.com",
                address="Museumplein 1, 1071 XX Amsterdam",
                pickup_location=None,
                total_cents=8999,
                currency="EUR",
            )
        )
        session.flush()
        session.add(
            OrderLineRow(
                order_id=10005,
                product_id=products["helmet"].id,
                quantity=1,
                status="ok",
                unit_price_cents=8999,
            )
        )

        # A change the order system recorded without a reason: the assistant
        # must say so honestly and offer to find out, never invent one.
        session.add(
            OrderRow(
                id=10006,
                customer_id=1006,
                status="changed",
                fulfilment="delivery",
                placed_at=at(d - timedelta(days=4), 12, 0),
                promised_date=d + timedelta(days=5),
                original_promised_date=d + timedelta(days=2),
                postcode="6811 KL",
                email="daan@example.nl",
                address="Jansbinnensingel 3, 6811 KL Arnhem",
                pickup_location=None,
                total_cents=3495,
                currency="EUR",
            )
        )
        session.flush()
        session.add(
            OrderLineRow(
                order_id=10006,
                product_id=products["lock"].id,
                quantity=1,
                status="ok",
                unit_price_cents=3495,
            )
        )
        session.add(
            OrderEventRow(
                order_id=10006,
                field="promised_date",
                old_value=(d + timedelta(days=2)).isoformat(),
                new_value=(d + timedelta(days=5)).isoformat(),
                reason_code=None,
                reason_text=None,
                party_type=None,
                party_name=None,
                occurred_at=at(d - timedelta(days=1), 10, 0),
            )
        )
        session.flush()
        _promise_original_dates(session)
    return True


def _promise_original_dates(session: Session) -> None:
    """The shop promised each order's original date when it was placed.

    Nobody renewed Anouk's (002) or Erik's (003) promise: the watcher and the
    warnings are there to do that.
    """
    for order in session.execute(select(OrderRow).order_by(OrderRow.id)).scalars():
        promise = promise_date(session, order, order.original_promised_date, order.placed_at)
        if order.status in ("delivered", "picked_up"):
            promise.status = "kept"
            promise.resolved_at = order.delivered_at
