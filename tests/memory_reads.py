"""The assistant's memory read or marked in a transaction of its own, as a
test checks it between turns (the use cases do it in their unit of work)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.memory.customers import OptOutRow
from bot.proactive.delivery import ShownWarning, take_for_showing, unshown_for


def unshown(sessions: sessionmaker[Session], customer_id: int) -> list[int]:
    with sessions() as session:
        return unshown_for(session, customer_id)


def take(
    sessions: sessionmaker[Session],
    warning_id: int,
    customer_id: int,
    address: str,
    now: datetime,
    recorded_here: bool = False,
) -> ShownWarning | None:
    with sessions.begin() as session:
        return take_for_showing(session, warning_id, customer_id, address, now, recorded_here)


def opted_out(sessions: sessionmaker[Session], customer_id: int) -> bool:
    with sessions() as session:
        return session.get(OptOutRow, customer_id) is not None
