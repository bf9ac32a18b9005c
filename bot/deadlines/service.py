"""A customer's deadline against the order's expected date, and what the shop can do.

Plain Python over the shop's database session: the action only reads who is
asking and what they said, and turns the assessment into messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.deadlines.parse import ParsedDeadline
from bot.memory.deadlines import DeadlineRow
from bot.memory.promises import PromiseRow
from bot.orders.model import Order

# Orders not shipped yet: an in-stock alternative can still replace them.
NOT_SHIPPED = ("placed", "processing", "changed")
CLOSED = ("delivered", "picked_up", "cancelled")
REMINDER_KIND = "cutoff_reminder"


@dataclass(frozen=True)
class Deadline:
    order_id: int
    customer_id: int
    day: date
    purpose: str | None
    phrase: str
    language: str = "nl"


@dataclass(frozen=True)
class ShopOptions:
    """What the shop can do for a deadline (from settings)."""

    express_cutoff: time  # orders for express reshipment before this, shop time
    express_days: int  # days from dispatch to the door (Sundays do not count)
    store_location: str  # where customers can pick up; "" when the shop has no store
    time_zone: str


@dataclass(frozen=True)
class Express:
    cutoff: datetime  # the moment to choose by, on the shop's clock (aware)
    arrival: date


@dataclass(frozen=True)
class Assessment:
    status: str  # on_time, tight (the day itself), late, unknown (no expected date), done
    deadline: date
    expected: date | None
    express: Express | None = None
    store_pickup: str | None = None
    alternative: bool = False

    @property
    def at_risk(self) -> bool:
        return self.status in ("tight", "late", "unknown")


def _skip_sunday(day: date) -> date:
    return day + timedelta(days=1) if day.weekday() == 6 else day


def express_plan(now_local: datetime, options: ShopOptions) -> Express:
    """Chosen before today's cut-off: dispatched today; otherwise the next day.
    No dispatch or delivery on Sundays."""
    dispatch = now_local.date()
    if now_local.time() >= options.express_cutoff:
        dispatch += timedelta(days=1)
    dispatch = _skip_sunday(dispatch)
    arrival = dispatch
    for _ in range(options.express_days):
        arrival = _skip_sunday(arrival + timedelta(days=1))
    cutoff = datetime.combine(dispatch, options.express_cutoff, tzinfo=now_local.tzinfo)
    return Express(cutoff=cutoff, arrival=arrival)


def assess(order: Order, deadline: date, now_local: datetime, options: ShopOptions) -> Assessment:
    """On time, on the day itself, too late, or unknown; and when at risk, the options."""
    expected = order.promised_date
    if order.status in ("delivered", "picked_up"):
        return Assessment("done", deadline, expected)
    if expected is None:
        status = "unknown"
    elif expected < deadline:
        status = "on_time"
    elif expected == deadline:
        status = "tight"
    else:
        status = "late"
    if status == "on_time" or order.status in CLOSED:
        return Assessment(status, deadline, expected)
    express = None
    store = None
    if order.fulfilment == "delivery":
        plan = express_plan(now_local, options)
        express = plan if plan.arrival <= deadline else None
        store = options.store_location or None
    return Assessment(
        status,
        deadline,
        expected,
        express=express,
        store_pickup=store,
        alternative=order.status in NOT_SHIPPED,
    )


def save_deadline(
    sessions: sessionmaker[Session],
    order_id: int,
    customer_id: int,
    parsed: ParsedDeadline,
    language: str,
    now: datetime,
) -> Deadline:
    """The latest deadline the customer told for this order (one per order)."""
    purpose = parsed.purpose[:60] if parsed.purpose else None
    values: dict[str, object] = {
        "customer_id": customer_id,
        "deadline": parsed.day,
        "purpose": purpose,
        "phrase": parsed.phrase[:120],
        "language": language,
        "told_at": now,
    }
    for _attempt in range(2):
        try:
            with sessions() as session, session.begin():
                row = session.get(DeadlineRow, order_id, with_for_update=True)
                if row is None:
                    session.add(DeadlineRow(order_id=order_id, **values))
                else:
                    for name, value in values.items():
                        setattr(row, name, value)
            break
        except IntegrityError:
            continue  # told twice at once: the second one updates the first
    return Deadline(order_id, customer_id, parsed.day, purpose, parsed.phrase, language)


def deadlines_for(session: Session, order_ids: Iterable[int]) -> dict[int, Deadline]:
    ids = list(order_ids)
    if not ids:
        return {}
    rows = session.execute(select(DeadlineRow).where(DeadlineRow.order_id.in_(ids))).scalars()
    return {
        row.order_id: Deadline(
            row.order_id, row.customer_id, row.deadline, row.purpose, row.phrase, row.language
        )
        for row in rows
    }


def threatened(session: Session, moves: Iterable[tuple[int, date]]) -> list[tuple[Deadline, date]]:
    """(deadline, new date) for each moved order whose new date passes its deadline."""
    new_dates = dict(moves)
    found = deadlines_for(session, new_dates)
    return [
        (deadline, new_dates[order_id])
        for order_id, deadline in sorted(found.items())
        if new_dates[order_id] > deadline.day
    ]


def remind_before_cutoff(
    sessions: sessionmaker[Session],
    customer_id: int,
    order_id: int,
    cutoff: datetime,
    now: datetime,
) -> int:
    """A promise in the ledger: the watcher reminds the customer before the cut-off
    (no Rasa reminders: they vanish on restart). One open reminder per order."""
    due_at = cutoff.astimezone(timezone.utc).replace(tzinfo=None)
    with sessions() as session, session.begin():
        for old in session.execute(
            select(PromiseRow).where(
                PromiseRow.order_id == order_id,
                PromiseRow.kind == REMINDER_KIND,
                PromiseRow.status == "open",
            )
        ).scalars():
            old.status, old.resolved_at = "ended", now
        promise = PromiseRow(
            customer_id=customer_id,
            order_id=order_id,
            kind=REMINDER_KIND,
            due_at=due_at,
            made_by="assistant",
            made_at=now,
            status="open",
        )
        session.add(promise)
        session.flush()
        return int(promise.id)


def end_reminders(session: Session, order_id: int, now: datetime) -> int:
    """The customer chose: no reminder needed any more."""
    rows = list(
        session.execute(
            select(PromiseRow).where(
                PromiseRow.order_id == order_id,
                PromiseRow.kind == REMINDER_KIND,
                PromiseRow.status == "open",
            )
        ).scalars()
    )
    for row in rows:
        row.status, row.resolved_at = "kept", now
    return len(rows)


def shop_now(now_utc: datetime, time_zone: str) -> datetime:
    return now_utc.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(time_zone))
