"""The staff dashboard's figures and the question counter, on real SQLite and
PostgreSQL: seeded rows in, exact counts out."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.analytics.question_counter import QuestionCounter
from bot.analytics.questions import add_question_counts
from bot.database import create_db_engine, make_session_factory, upgrade_database
from bot.memory.changes import OrderEventRow
from bot.memory.customers import OptOutRow
from bot.memory.promises import PromiseRow
from bot.memory.question_counts import QuestionCountRow
from bot.memory.warnings import WarningRow
from bot.orders.sql.tables import CustomerRow, OrderRow
from bot.settings import Settings, load_settings
from bot.staff.stats import NO_REASON, OTHER_SUPPLIERS, dashboard_figures, week_start

TODAY = date(2026, 11, 25)  # a Wednesday
THIS_WEEK = week_start(TODAY)
LAST_WEEK = THIS_WEEK - timedelta(weeks=1)


@pytest.fixture
def sessions(any_database_url: str) -> sessionmaker[Session]:
    upgrade_database(any_database_url)
    return make_session_factory(create_db_engine(any_database_url))


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour))


def event(
    order_id: int, day: date, field: str = "promised_date", **values: object
) -> OrderEventRow:
    return OrderEventRow(order_id=order_id, field=field, occurred_at=at(day), **values)


def seed(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        for customer_id in (1, 2, 3):
            session.add(
                CustomerRow(
                    id=customer_id,
                    name=f"Klant {customer_id}",
                    email=f"k{customer_id}@example.nl",
                    postcode="3511 AB",
                    language="nl",
                )
            )
            if customer_id != 1:
                session.add(OptOutRow(customer_id=customer_id, opted_out_at=at(TODAY)))
        session.flush()
        for order_id in (101, 102):
            session.add(
                OrderRow(
                    id=order_id,
                    customer_id=1,
                    status="changed",
                    fulfilment="delivery",
                    placed_at=at(TODAY - timedelta(days=60)),
                    postcode="3511 AB",
                    email="k1@example.nl",
                    address="Straat 1",
                )
            )
        session.flush()
        supplier = {"party_type": "supplier"}
        session.add_all(
            [
                # This week: 2 production problems at Gazelle, 1 without a reason.
                event(
                    101, TODAY, reason_code="production_problem", party_name="Gazelle", **supplier
                ),
                event(
                    102, TODAY, reason_code="production_problem", party_name="Gazelle", **supplier
                ),
                event(102, TODAY, reason_code=None),
                # Last week: Batavus is out of stock, PostNL is late, and a cancellation.
                event(
                    101,
                    LAST_WEEK,
                    reason_code="supplier_out_of_stock",
                    party_name="Batavus",
                    **supplier,
                ),
                event(
                    101,
                    LAST_WEEK,
                    reason_code="carrier_delay",
                    party_type="carrier",
                    party_name="PostNL",
                ),
                event(
                    102, LAST_WEEK, "status", new_value="cancelled", reason_code="cancelled_by_shop"
                ),
                # Not changes: progress steps.
                event(101, TODAY, "status", new_value="shipped", party_type="warehouse"),
                event(
                    102,
                    TODAY,
                    "status",
                    new_value="packed",
                    party_type="supplier",
                    party_name="Gazelle",
                ),
                # Too old for the 12 weeks shown.
                event(
                    101,
                    THIS_WEEK - timedelta(weeks=13),
                    reason_code="production_problem",
                    party_name="Gazelle",
                    **supplier,
                ),
            ]
        )
        statuses = ["queued", "sending", "sent", "sent", "unread", "dead", "suppressed"]
        for number, status in enumerate(statuses):
            session.add(
                WarningRow(
                    idempotency_key=f"k{number}",
                    customer_id=1,
                    kind="change",
                    order_ids="101",
                    event_ids="",
                    status=status,
                    attempts=0,
                    next_attempt_at=at(TODAY),
                    created_at=at(TODAY),
                    # The assistant showed the sent ones and the one read at the next visit.
                    delivered_at=at(TODAY) if number in (2, 3, 4) else None,
                )
            )
        promises = [
            ("delivery_date", "kept"),
            ("delivery_date", "kept"),
            ("delivery_date", "broken"),
            ("delivery_date", "renewed"),
            ("delivery_date", "open"),
            ("callback", "broken"),
            ("callback", "kept"),
            ("keep_posted", "open"),
        ]
        for kind, status in promises:
            session.add(
                PromiseRow(
                    customer_id=1,
                    order_id=101,
                    kind=kind,
                    due_date=TODAY,
                    made_by="assistant",
                    made_at=at(TODAY),
                    status=status,
                )
            )


def test_every_figure_counts_exactly_what_was_seeded(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    engine = sessions.kw["bind"]
    add_question_counts(
        engine,
        {
            (TODAY, "ask_changes", "nl"): 5,
            (TODAY, "ask_changes", "en"): 2,
            (LAST_WEEK, "ask_tracking", "en"): 3,
            (TODAY, "nlu_fallback", "unknown"): 1,
            (THIS_WEEK - timedelta(weeks=20), "ask_status", "nl"): 50,  # too old
        },
    )

    figures = dashboard_figures(sessions, TODAY, weeks=12)

    assert len(figures.weeks) == 12 and figures.weeks[-1] == THIS_WEEK
    zeros = [0] * 10
    assert figures.changes_by_reason == {
        "production_problem": zeros + [0, 2],
        "cancelled_by_shop": zeros + [1, 0],
        "carrier_delay": zeros + [1, 0],
        NO_REASON: zeros + [0, 1],
        "supplier_out_of_stock": zeros + [1, 0],
    }
    assert list(figures.changes_by_reason)[0] == "production_problem"  # largest first
    assert figures.changes_by_supplier == {
        "Gazelle": zeros + [0, 2],
        "Batavus": zeros + [1, 0],
    }
    assert figures.warnings_by_status == {
        "queued": 1,
        "sending": 1,
        "sent": 2,
        "unread": 1,
        "dead": 1,
        "suppressed": 1,
    }
    assert figures.warnings_shown == 3
    assert figures.customers_opted_out == 2
    assert figures.promises == {
        "callback": {"open": 0, "kept": 1, "renewed": 0, "broken": 1, "ended": 0},
        "delivery_date": {"open": 1, "kept": 2, "renewed": 1, "broken": 1, "ended": 0},
        "keep_posted": {"open": 1, "kept": 0, "renewed": 0, "broken": 0, "ended": 0},
    }
    assert figures.questions == [
        ("ask_changes", 7, 5, 2),
        ("ask_tracking", 3, 0, 3),
        ("nlu_fallback", 1, 0, 0),
    ]


def test_many_suppliers_show_the_largest_and_the_rest_together(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions)
    with sessions() as session, session.begin():
        for number in range(10):
            for _ in range(number + 3):  # supplier S9 the most, S0 the least
                session.add(
                    event(
                        101,
                        TODAY,
                        reason_code="supplier_delay",
                        party_type="supplier",
                        party_name=f"S{number}",
                    )
                )
    suppliers = dashboard_figures(sessions, TODAY).changes_by_supplier
    assert list(suppliers) == [f"S{n}" for n in range(9, 1, -1)] + [OTHER_SUPPLIERS]
    # Gazelle (2), Batavus (1), S1 (4) and S0 (3) are the rest.
    assert sum(suppliers[OTHER_SUPPLIERS]) == 2 + 1 + 4 + 3


def test_the_changes_queries_can_be_answered_from_the_partial_index(
    sessions: sessionmaker[Session],
) -> None:
    """With a million orders the changes must not scan order_events: the
    database has to be able to match the query to ix_order_events_changes."""
    from bot.staff import stats

    seed(sessions)
    engine = sessions.kw["bind"]
    weeks = stats.recent_weeks(TODAY, 12)
    captured: list[object] = []

    class Recording(Session):
        def execute(self, statement, *args, **kwargs):  # type: ignore[no-untyped-def, override]
            captured.append(statement)
            return super().execute(statement, *args, **kwargs)

    with Recording(engine) as session:
        stats.changes_by_reason(session, weeks)
        stats.changes_by_supplier(session, weeks)
    assert len(captured) == 2
    with engine.connect() as connection:
        for statement in captured:
            compiled = statement.compile(dialect=engine.dialect)  # type: ignore[attr-defined]
            params = (
                tuple(compiled.params[name] for name in compiled.positiontup)
                if compiled.positional
                else compiled.params
            )
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("SET enable_seqscan = off")
                rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", params)
                plan = " ".join(str(row[0]) for row in rows)
            else:
                rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
                plan = " ".join(str(row[-1]) for row in rows)
            assert "ix_order_events_changes" in plan, plan


def counter_for(url: str, **overrides: object) -> QuestionCounter:
    settings: Settings = load_settings()
    settings = Settings(**{**settings.__dict__, "database_url": url, **overrides})
    return QuestionCounter(settings)


def user_event(text_: str, intent: str, when: datetime) -> dict[str, object]:
    return {
        "event": "user",
        "sender_id": "someone-private",
        "timestamp": when.timestamp(),
        "text": text_,
        "parse_data": {"intent": {"name": intent, "confidence": 0.97}, "entities": []},
        "metadata": {"customer_token": "secret-token"},
    }


def stored(sessions: sessionmaker[Session]) -> dict[tuple[str, str], int]:
    with sessions() as session:
        rows = session.execute(select(QuestionCountRow)).scalars()
        return {(row.intent, row.language): row.count for row in rows}


def test_two_counters_add_into_the_same_rows(
    any_database_url: str, sessions: sessionmaker[Session]
) -> None:
    now = datetime.now().astimezone()
    first, second = counter_for(any_database_url), counter_for(any_database_url)
    for _ in range(3):
        first.count(user_event("wat is er gewijzigd aan mijn bestelling?", "ask_changes", now))
    second.count(user_event("wat is er gewijzigd aan mijn bestelling?", "ask_changes", now))
    second.count(user_event("where is my parcel, what's the track code", "ask_tracking", now))
    second.count(user_event("/get_started", "get_started", now))  # the widget opening
    second.count({"event": "bot", "text": "Hoi!", "timestamp": now.timestamp()})
    assert first.flush() and second.flush()
    first.count(user_event("en wat is er nu gewijzigd?", "ask_changes", now))
    assert first.flush()
    assert stored(sessions) == {("ask_changes", "nl"): 5, ("ask_tracking", "en"): 1}
    # Nothing of the message, the sender or the metadata is stored.
    with sessions() as session:
        columns = session.execute(select(QuestionCountRow.__table__)).mappings().all()
    assert "someone-private" not in str(columns) and "gewijzigd" not in str(columns)
    first.stop()
    second.stop()


def test_counters_flushing_at_the_same_time_lose_nothing(
    any_database_url: str, sessions: sessionmaker[Session]
) -> None:
    now = datetime.now().astimezone()
    counters = [counter_for(any_database_url) for _ in range(4)]

    def count_and_flush(counter: QuestionCounter) -> None:
        for _ in range(25):
            counter.count(user_event("wat is er gewijzigd?", "ask_changes", now))
            counter.count(user_event("what is my order status?", "ask_status", now))
            assert counter.flush()

    threads = [threading.Thread(target=count_and_flush, args=(c,)) for c in counters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stored(sessions) == {("ask_changes", "nl"): 100, ("ask_status", "en"): 100}
    for counter in counters:
        counter.stop()


def test_a_failed_flush_keeps_the_counts_for_the_next(any_database_url: str) -> None:
    """The database is not migrated yet (no table): nothing is lost, the next flush writes."""
    now = datetime.now().astimezone()
    counter = counter_for(any_database_url)
    counter.count(user_event("wat is er gewijzigd?", "ask_changes", now))
    assert counter.flush() is False and counter.failed_flushes == 1
    assert counter.tally.pending() == 1
    upgrade_database(any_database_url)
    assert counter.flush() is True and counter.tally.pending() == 0
    counter.stop()
    sessions = make_session_factory(create_db_engine(any_database_url))
    assert stored(sessions) == {("ask_changes", "nl"): 1}


def test_every_action_of_a_turn_counts_its_message_once(
    any_database_url: str, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the action server does it: read_turn in each action of the turn."""
    from actions.services import build_services
    from actions.turn import read_turn
    from tests.conftest import SHOP_SECRET, make_tracker

    monkeypatch.setenv("DATABASE_URL", any_database_url)
    monkeypatch.setenv("QUESTION_FLUSH_SECONDS", "3600")  # only stop() writes
    monkeypatch.setenv("SHOP_TOKEN_SECRET", SHOP_SECRET)
    found = build_services(load_settings())
    for message_id in ("m-1", "m-1", "m-2"):
        tracker = make_tracker("I want to talk to a person", "request_human")
        tracker.latest_message["message_id"] = message_id
        read_turn(tracker, found)
    pushed = make_tracker("EXTERNAL: EXTERNAL_order_warning", "EXTERNAL_order_warning")
    read_turn(pushed, found)
    found.questions.stop()
    assert stored(sessions) == {("request_human", "en"): 2}
