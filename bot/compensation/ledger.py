"""Recording compensations on the order: offered once per rule and change,
within the cap per order, and accepted by the customer's button."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.compensation.rules import Earned, Policy, earned
from bot.memory.compensations import CompensationRow
from bot.memory.promises import PromiseRow
from bot.orders.model import Order
from bot.proactive.promises import DATE_KINDS

logger = logging.getLogger(__name__)

GIVEN = ("offered", "accepted")


@dataclass(frozen=True)
class Offered:
    id: int
    order_id: int
    rule: str
    value_cents: int
    currency: str


@dataclass(frozen=True)
class Given:
    """An offer already on the order."""

    rule: str
    change_key: str
    value_cents: int
    status: str


def to_offer(policy: Policy, candidates: list[Earned], given: list[Given]) -> list[Earned]:
    """What to offer now: nothing offered before for the same change (by the same
    rule, or by another rule of its group), and nothing beyond the cap per order."""
    taken = {(g.rule, g.change_key) for g in given}
    groups = {
        (found.group or found.code, g.change_key)
        for g in given
        if (found := policy.rule(g.rule)) is not None
    }
    total = sum(g.value_cents for g in given if g.status in GIVEN)
    chosen: list[Earned] = []
    for candidate in candidates:
        rule = candidate.rule
        group = (rule.group or rule.code, candidate.change_key)
        if (rule.code, candidate.change_key) in taken or group in groups:
            continue  # offered before for this change
        if total + rule.value_cents > policy.cap_per_order_cents:
            logger.info("compensation %s left out: the cap per order is reached", rule.code)
            continue
        total += rule.value_cents
        groups.add(group)
        chosen.append(candidate)
    return chosen


def broken_promises(session: Session, order_id: int) -> list[int]:
    """Date promises of this order that broke (the watcher said so)."""
    return list(
        session.execute(
            select(PromiseRow.id).where(
                PromiseRow.order_id == order_id,
                PromiseRow.kind.in_(DATE_KINDS),
                PromiseRow.status == "broken",
            )
        ).scalars()
    )


def _lock_order(session: Session, order_id: int) -> None:
    """One offer decision per order at a time, so the cap holds under concurrency."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:k1, :k2)"), {"k1": 6006, "k2": order_id}
        )
    else:
        # SQLite: take the database's write lock before reading the cap.
        session.execute(update(CompensationRow).where(CompensationRow.id == -1).values(status="x"))


def offer_compensations(
    session: Session,
    policy: Policy,
    order: Order,
    now: datetime,
    offered_in: str,
) -> list[Offered]:
    """Record what the rules give this order now and was not offered before.

    Never twice for the same change (the unique constraint, and a check first),
    one rule per group and change, never beyond the cap per order.
    """
    candidates = earned(policy, order, broken_promises(session, order.id))
    if not candidates or not to_offer(policy, candidates, _given(session, order.id)):
        return []  # most turns earn nothing new: no lock, no write
    _lock_order(session, order.id)
    given = _given(session, order.id)  # again, under the lock
    made: list[Offered] = []
    for candidate in to_offer(policy, candidates, given):
        row = _insert(session, order, candidate, now, offered_in)
        if row is not None:
            made.append(Offered(row.id, order.id, row.rule, row.value_cents, order.currency))
    return made


def _given(session: Session, order_id: int) -> list[Given]:
    return [
        Given(rule, key, int(value), status)
        for rule, key, value, status in session.execute(
            select(
                CompensationRow.rule,
                CompensationRow.change_key,
                CompensationRow.value_cents,
                CompensationRow.status,
            ).where(CompensationRow.order_id == order_id)
        ).all()
    ]


def _insert(
    session: Session, order: Order, candidate: Earned, now: datetime, offered_in: str
) -> CompensationRow | None:
    row = CompensationRow(
        order_id=order.id,
        customer_id=order.customer_id,
        rule=candidate.rule.code,
        change_key=candidate.change_key,
        event_id=candidate.event_id,
        promise_id=candidate.promise_id,
        offer=candidate.rule.offer,
        value_cents=candidate.rule.value_cents,
        currency=order.currency,
        status="offered",
        offered_at=now,
        offered_in=offered_in,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None  # offered by someone else a moment ago: once is enough
    return row


def record_offers(
    sessions: sessionmaker[Session],
    policy: Policy,
    orders: list[Order],
    now: datetime,
    offered_in: str,
) -> list[Offered]:
    """Each order's offers in a transaction of its own (the use case records
    them in its unit of work: bot/usecases/offers.py)."""
    made: list[Offered] = []
    for order in orders:
        with sessions() as session, session.begin():
            made += offer_compensations(session, policy, order, now, offered_in)
    return made


def accept(
    session: Session, compensation_id: int | None, customer_id: int, now: datetime
) -> Offered | None:
    """The customer's "yes please": recorded on the offer; None when it is not theirs.
    Typed rather than pressed (no id): their latest offer still open."""
    if compensation_id is None:
        compensation_id = session.execute(
            select(func.max(CompensationRow.id)).where(
                CompensationRow.customer_id == customer_id,
                CompensationRow.status == "offered",
            )
        ).scalar()
    row = session.get(CompensationRow, compensation_id) if compensation_id else None
    if row is None or row.customer_id != customer_id or row.status not in GIVEN:
        return None
    if row.status == "offered":
        row.status, row.accepted_at = "accepted", now
    return Offered(row.id, row.order_id, row.rule, row.value_cents, row.currency)


def offers_of(sessions: sessionmaker[Session], order_id: int) -> list[CompensationRow]:
    with sessions() as session:
        return list(
            session.execute(
                select(CompensationRow)
                .where(CompensationRow.order_id == order_id)
                .order_by(CompensationRow.id)
            ).scalars()
        )
