"""The inbox of platform deliveries: taken once, worked on later.

A platform wants its answer fast (Shopify within 5 seconds) and sends the
same event again when it gets none, so the web service only stores the
delivery here (deduplicated on the platform's event id) and answers; the
worker (worker.py) applies it. Kept `dedupe_days`, longer than any platform
retries, then deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.memory.sources import FAILED, PENDING, SourceDeliveryRow
from bot.sources.change import Delivery

# Longest kept: the error (ids and a class name, never a customer's data).
ERROR_CHARS = 300


def naive_utc(moment: datetime | None) -> datetime | None:
    """As the database stores times: UTC without a zone."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def take_delivery(sessions: sessionmaker[Session], delivery: Delivery, now: datetime) -> int | None:
    """Store a delivery; its id, or None when the platform sent it before."""
    row = SourceDeliveryRow(
        source=delivery.source,
        topic=delivery.topic[:100],
        event_id=delivery.event_id[:200],
        received_at=now,
        triggered_at=naive_utc(delivery.triggered_at),
        payload=json.dumps(delivery.payload, separators=(",", ":")),
        status=PENDING,
        attempts=0,
        warnings=0,
    )
    try:
        with sessions() as session, session.begin():
            session.add(row)
            session.flush()
            return int(row.id)
    except IntegrityError:
        return None  # the unique (source, topic, event_id): a retry of one we have


def as_delivery(row: SourceDeliveryRow) -> Delivery:
    triggered = row.triggered_at.replace(tzinfo=timezone.utc) if row.triggered_at else None
    return Delivery(
        source=str(row.source),
        event_id=str(row.event_id),
        topic=str(row.topic),
        triggered_at=triggered,
        payload=json.loads(row.payload),
    )


def due_deliveries(
    sessions: sessionmaker[Session], now: datetime, limit: int
) -> list[tuple[int, str]]:
    """Pending deliveries whose turn it is (id, source), oldest first (the order
    they came in)."""
    with sessions() as session:
        query = (
            select(SourceDeliveryRow.id, SourceDeliveryRow.source)
            .where(SourceDeliveryRow.status == PENDING)
            .where(
                (SourceDeliveryRow.next_try_at.is_(None)) | (SourceDeliveryRow.next_try_at <= now)
            )
            .order_by(SourceDeliveryRow.id)
            .limit(limit)
        )
        return [(int(i), str(source)) for i, source in session.execute(query)]


def retry_later(
    sessions: sessionmaker[Session], delivery_id: int, error: str, now: datetime, max_attempts: int
) -> bool:
    """Count a failed try and set the next one (1, 2, 4, ... minutes, at most an
    hour); after max_attempts the delivery is failed. True when it will be tried again."""
    with sessions() as session, session.begin():
        row = session.get(SourceDeliveryRow, delivery_id)
        if row is None:
            return False
        row.attempts = (row.attempts or 0) + 1
        row.error = error[:ERROR_CHARS]
        if row.attempts >= max_attempts:
            row.status = FAILED
            row.next_try_at = None
            return False
        row.next_try_at = now + timedelta(minutes=min(60, 2 ** (row.attempts - 1)))
        return True


def mark_failed(sessions: sessionmaker[Session], delivery_id: int, error: str) -> None:
    with sessions() as session, session.begin():
        session.execute(
            update(SourceDeliveryRow)
            .where(SourceDeliveryRow.id == delivery_id)
            .values(status=FAILED, error=error[:ERROR_CHARS], next_try_at=None)
        )


def forget_old(sessions: sessionmaker[Session], now: datetime, days: float) -> int:
    """Delete deliveries older than the dedupe window (pending ones stay)."""
    with sessions() as session, session.begin():
        result = session.execute(
            delete(SourceDeliveryRow)
            .where(SourceDeliveryRow.received_at < now - timedelta(days=days))
            .where(SourceDeliveryRow.status != PENDING)
        )
        return int(result.rowcount or 0)


def last_received(sessions: sessionmaker[Session], source: str) -> datetime | None:
    with sessions() as session:
        return session.execute(
            select(func.max(SourceDeliveryRow.received_at)).where(
                SourceDeliveryRow.source == source
            )
        ).scalar()


@dataclass(frozen=True)
class SourceReport:
    """What `python -m bot sources` and the staff dashboard show per platform."""

    source: str
    last_received_at: datetime | None
    counts: dict[str, int]  # deliveries per status, in the dedupe window
    last_errors: list[tuple[datetime, str, str]]  # (received, topic, error)


def source_report(sessions: sessionmaker[Session], source: str, errors: int = 5) -> SourceReport:
    last = last_received(sessions, source)
    with sessions() as session:
        counts = {
            str(status): int(count)
            for status, count in session.execute(
                select(SourceDeliveryRow.status, func.count())
                .where(SourceDeliveryRow.source == source)
                .group_by(SourceDeliveryRow.status)
            )
        }
        failures = session.execute(
            select(SourceDeliveryRow.received_at, SourceDeliveryRow.topic, SourceDeliveryRow.error)
            .where(SourceDeliveryRow.source == source, SourceDeliveryRow.error.is_not(None))
            .order_by(SourceDeliveryRow.id.desc())
            .limit(errors)
        ).all()
    return SourceReport(
        source=source,
        last_received_at=last,
        counts=counts,
        last_errors=[(at, str(topic), str(error)) for at, topic, error in failures],
    )
