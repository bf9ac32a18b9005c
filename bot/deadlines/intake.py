"""A later change that breaks a customer's deadline goes to a person at once.

Called by the intake inside its own transaction: the order moves, the warning
is queued and the handoff opened together, or none of it happens.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deadlines.service import threatened
from bot.handoff.queue import OPEN, HandoffRequest, open_handoff
from bot.memory.handoffs import HandoffRow

logger = logging.getLogger(__name__)


def hand_over_threatened(
    session: Session, moves: Iterable[tuple[int, date]], now: datetime
) -> list[int]:
    """Open a handoff for every moved order whose new date passes its deadline."""
    opened = []
    for deadline, new_date in threatened(session, moves):
        if _already_with_a_person(session, deadline.customer_id, deadline.order_id):
            continue  # moved again while a person has the case: it is still theirs
        handoff_id = open_handoff(
            session,
            HandoffRequest(
                reason="deadline_at_risk",
                mood="calm",
                language=deadline.language,
                customer_id=deadline.customer_id,
                order_ids=[deadline.order_id],
                question="",
                said=[],
                deadline=deadline.day,
                sender_id=None,
                channel=None,
            ),
            now,
        )
        logger.info(
            "order %s moved to %s past its deadline: handoff %s",
            deadline.order_id,
            new_date.isoformat(),
            handoff_id,
        )
        opened.append(handoff_id)
    return opened


def _already_with_a_person(session: Session, customer_id: int, order_id: int) -> bool:
    open_cases = session.execute(
        select(HandoffRow.order_ids).where(
            HandoffRow.customer_id == customer_id,
            HandoffRow.reason == "deadline_at_risk",
            HandoffRow.status.in_(OPEN),
        )
    ).scalars()
    return any(str(order_id) in (ids or "").split(",") for ids in open_cases)
