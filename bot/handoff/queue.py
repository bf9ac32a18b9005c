"""The handoff queue: a conversation goes to a person with everything they need,
a person claims it, replies, and hands it back.

Plain SQLAlchemy over the shop's database (the embedded default); a helpdesk
ticket (bot/handoff/zendesk.py) can be made beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.memory.handoffs import HandoffMessageRow, HandoffRow

REASONS = ("asked", "not_understood", "angry", "deadline_at_risk")
OPEN = ("waiting", "claimed")


@dataclass(frozen=True)
class Said:
    """One line of the conversation before the handoff."""

    who: str  # customer or assistant
    text: str
    at: float  # unix time


@dataclass(frozen=True)
class HandoffRequest:
    reason: str
    mood: str
    language: str
    customer_id: int | None
    order_ids: list[int]
    question: str  # the customer's own words
    said: list[Said] = field(default_factory=list)
    deadline: date | None = None
    sender_id: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Handoff:
    id: int
    status: str
    reason: str
    mood: str
    language: str
    customer_id: int | None
    order_ids: list[int]
    question: str
    said: list[Said]
    deadline: date | None
    sender_id: str | None
    channel: str | None
    claimed_by: str | None
    created_at: datetime
    promise_id: int | None
    ticket_ref: str | None


def _ids(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip().isdigit()]


def _handoff(row: HandoffRow) -> Handoff:
    context: dict[str, Any] = json.loads(row.context or "{}")
    said = [Said(str(s["who"]), str(s["text"]), float(s["at"])) for s in context.get("said", [])]
    return Handoff(
        id=row.id,
        status=row.status,
        reason=row.reason,
        mood=row.mood,
        language=row.language,
        customer_id=row.customer_id,
        order_ids=_ids(row.order_ids or ""),
        question=row.question,
        said=said,
        deadline=row.deadline,
        sender_id=row.sender_id,
        channel=row.channel,
        claimed_by=row.claimed_by,
        created_at=row.created_at,
        promise_id=row.promise_id,
        ticket_ref=row.ticket_ref,
    )


def open_for_conversation(session: Session, sender_id: str) -> HandoffRow | None:
    return session.execute(
        select(HandoffRow)
        .where(HandoffRow.sender_id == sender_id, HandoffRow.status.in_(OPEN))
        .order_by(HandoffRow.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def open_handoff(session: Session, request: HandoffRequest, now: datetime) -> int:
    """Queue a handoff in the caller's transaction; the id. A conversation with a
    handoff still open keeps that one (its context grows), never a second."""
    if request.reason not in REASONS:
        raise ValueError(f"unknown handoff reason {request.reason!r}")
    context = {"said": [s.__dict__ for s in request.said]}
    existing = open_for_conversation(session, request.sender_id) if request.sender_id else None
    if existing is not None:
        existing.context = json.dumps(context)
        existing.question = request.question or existing.question
        existing.mood = request.mood if request.mood != "calm" else existing.mood
        return int(existing.id)
    row = HandoffRow(
        sender_id=request.sender_id,
        channel=request.channel,
        customer_id=request.customer_id,
        order_ids=",".join(str(order) for order in request.order_ids),
        reason=request.reason,
        mood=request.mood,
        language=request.language,
        question=request.question,
        context=json.dumps(context),
        deadline=request.deadline,
        status="waiting",
        created_at=now,
    )
    session.add(row)
    session.flush()
    return int(row.id)


def set_promise(session: Session, handoff_id: int, promise_id: int) -> None:
    session.execute(
        update(HandoffRow).where(HandoffRow.id == handoff_id).values(promise_id=promise_id)
    )


def set_ticket(session: Session, handoff_id: int, ticket_ref: str) -> None:
    session.execute(
        update(HandoffRow).where(HandoffRow.id == handoff_id).values(ticket_ref=ticket_ref)
    )


def queue(sessions: sessionmaker[Session], limit: int = 100) -> list[Handoff]:
    """Open handoffs, oldest first (claimed ones after the waiting ones)."""
    with sessions() as session:
        rows = session.execute(
            select(HandoffRow)
            .where(HandoffRow.status.in_(OPEN))
            .order_by(HandoffRow.status.desc(), HandoffRow.created_at, HandoffRow.id)
            .limit(limit)
        ).scalars()
        return [_handoff(row) for row in rows]


def get_handoff(sessions: sessionmaker[Session], handoff_id: int) -> Handoff | None:
    with sessions() as session:
        row = session.get(HandoffRow, handoff_id)
        return _handoff(row) if row is not None else None


def claim(sessions: sessionmaker[Session], handoff_id: int, staff_name: str, now: datetime) -> bool:
    """A person takes the case; False when someone else has it or it is closed."""
    with sessions() as session, session.begin():
        taken = session.execute(
            update(HandoffRow)
            .where(HandoffRow.id == handoff_id, HandoffRow.status == "waiting")
            .values(status="claimed", claimed_by=staff_name, claimed_at=now)
        ).rowcount
        if taken:
            return True
        row = session.get(HandoffRow, handoff_id)
        return row is not None and row.status == "claimed" and row.claimed_by == staff_name


def add_reply(
    sessions: sessionmaker[Session], handoff_id: int, staff_name: str, text: str, now: datetime
) -> int:
    with sessions() as session, session.begin():
        row = HandoffMessageRow(
            handoff_id=handoff_id, staff_name=staff_name, text=text, created_at=now
        )
        session.add(row)
        session.flush()
        return int(row.id)


@dataclass(frozen=True)
class StaffReply:
    id: int
    staff_name: str
    text: str


def take_waiting_replies(
    sessions: sessionmaker[Session], sender_id: str, now: datetime
) -> list[StaffReply]:
    """Replies in the conversation not yet said to the customer (also of a
    handoff handed back meanwhile, written while the chat was closed), marked
    said. Two callers at once (the staff page and a notifier) get each reply
    once: the UPDATE takes only a reply nobody marked yet."""
    with sessions() as session, session.begin():
        rows = session.execute(
            select(HandoffMessageRow)
            .join(HandoffRow, HandoffRow.id == HandoffMessageRow.handoff_id)
            .where(HandoffRow.sender_id == sender_id)
            .where(HandoffMessageRow.delivered_at.is_(None))
            .order_by(HandoffMessageRow.id)
        ).scalars()
        waiting = [StaffReply(row.id, row.staff_name, row.text) for row in rows]
        taken = []
        for reply in waiting:
            result = session.execute(
                update(HandoffMessageRow)
                .where(HandoffMessageRow.id == reply.id, HandoffMessageRow.delivered_at.is_(None))
                .values(delivered_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                taken.append(reply)
        return taken


def conversations_with_waiting_replies(
    sessions: sessionmaker[Session], channel: str, since: datetime, limit: int = 100
) -> list[str]:
    """Conversations on `channel` with a reply written after `since` and not
    yet said, the most recent first."""
    with sessions() as session:
        rows = session.execute(
            select(HandoffRow.sender_id)
            .join(HandoffMessageRow, HandoffMessageRow.handoff_id == HandoffRow.id)
            .where(HandoffRow.channel == channel, HandoffRow.sender_id.is_not(None))
            .where(HandoffMessageRow.delivered_at.is_(None))
            .where(HandoffMessageRow.created_at >= since)
            .group_by(HandoffRow.sender_id)
            .order_by(func.max(HandoffMessageRow.id).desc())
            .limit(limit)
        ).scalars()
        return [str(sender_id) for sender_id in rows]


def replies(sessions: sessionmaker[Session], handoff_id: int) -> list[HandoffMessageRow]:
    with sessions() as session:
        return list(
            session.execute(
                select(HandoffMessageRow)
                .where(HandoffMessageRow.handoff_id == handoff_id)
                .order_by(HandoffMessageRow.id)
            ).scalars()
        )


def close(sessions: sessionmaker[Session], handoff_id: int, now: datetime) -> Handoff | None:
    """Handed back to the assistant; the handoff as it was, None when not open."""
    with sessions() as session, session.begin():
        row = session.get(HandoffRow, handoff_id)
        if row is None or row.status not in OPEN:
            return None
        row.status, row.closed_at = "closed", now
        return _handoff(row)


def close_conversation(
    sessions: sessionmaker[Session], sender_id: str, now: datetime
) -> Handoff | None:
    """The assistant takes the conversation back; the handoff that was open, if any."""
    with sessions() as session, session.begin():
        row = open_for_conversation(session, sender_id)
        if row is None:
            return None
        row.status, row.closed_at = "closed", now
        return _handoff(row)
