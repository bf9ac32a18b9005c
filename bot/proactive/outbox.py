"""The warnings outbox: queueing, and what a worker or a person can see of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.memory.warnings import WarningRow

STATUSES = ("queued", "sending", "sent", "unread", "dead", "suppressed")


def warning_key(kind: str, customer_id: int, event_ids: list[int], promise_id: int | None) -> str:
    """One warning per customer per change: the same change never queues twice."""
    if promise_id is not None:
        return f"{kind}:promise:{promise_id}:customer:{customer_id}"
    return f"{kind}:event:{min(event_ids)}:customer:{customer_id}"


def queue_warning(
    session: Session,
    *,
    customer_id: int,
    kind: str,
    order_ids: list[int],
    event_ids: list[int],
    now: datetime,
    promise_id: int | None = None,
) -> WarningRow:
    """Queue in the caller's transaction; an existing warning with the same key is returned."""
    key = warning_key(kind, customer_id, event_ids, promise_id)
    existing = session.execute(
        select(WarningRow).where(WarningRow.idempotency_key == key)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    warning = new_warning(
        customer_id=customer_id,
        kind=kind,
        order_ids=order_ids,
        event_ids=event_ids,
        now=now,
        promise_id=promise_id,
    )
    session.add(warning)
    session.flush()
    return warning


def new_warning(
    *,
    customer_id: int,
    kind: str,
    order_ids: list[int],
    event_ids: list[int],
    now: datetime,
    promise_id: int | None = None,
) -> WarningRow:
    """A queued warning row, not yet added. For events written in this very
    transaction no warning can exist yet: bulk intake adds these without a lookup."""
    return WarningRow(
        idempotency_key=warning_key(kind, customer_id, event_ids, promise_id),
        customer_id=customer_id,
        kind=kind,
        order_ids=",".join(str(order_id) for order_id in order_ids),
        event_ids=",".join(str(event_id) for event_id in event_ids),
        promise_id=promise_id,
        status="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def id_list(text: str | None) -> list[int]:
    return [int(part) for part in (text or "").split(",") if part.strip().isdigit()]


def counts(session_factory: sessionmaker[Session]) -> dict[str, int]:
    with session_factory() as session:
        rows = session.execute(
            select(WarningRow.status, func.count()).group_by(WarningRow.status)
        ).all()
    found = {status: 0 for status in STATUSES}
    found.update({str(status): int(count) for status, count in rows})
    return found


def list_warnings(
    session_factory: sessionmaker[Session], status: str | None = None, limit: int = 100
) -> list[WarningRow]:
    with session_factory() as session:
        query = select(WarningRow).order_by(WarningRow.id.desc()).limit(limit)
        if status:
            query = query.where(WarningRow.status == status)
        return list(session.execute(query).scalars())


def retry_warning(session_factory: sessionmaker[Session], warning_id: int, now: datetime) -> bool:
    """Put a dead (or unread) warning back in the queue by hand."""
    with session_factory() as session, session.begin():
        warning = session.get(WarningRow, warning_id)
        if warning is None or warning.status not in ("dead", "unread", "suppressed"):
            return False
        warning.status = "queued"
        warning.attempts = 0
        warning.next_attempt_at = now
        warning.lease_until = None
        warning.last_error = None
        return True
