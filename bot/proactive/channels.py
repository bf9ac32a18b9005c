"""Where a customer can be reached, and whether we can speak first there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.proactive.tables import CustomerChannelRow

# Channels Rasa can push to. REST is request-response: its customers get
# warnings with their next reply instead.
PUSH_CHANNELS = ("socketio", "telegram", "slack", "twilio", "callback")


@dataclass(frozen=True)
class Reach:
    channel: str
    address: str  # the Rasa sender id
    output_channel: str  # what trigger_intent's output_channel gets


# (channel, address) -> (customer, when last written): one write per
# conversation every few minutes, not one per message.
_RECENT: dict[tuple[str, str], tuple[int, datetime]] = {}
_REFRESH = timedelta(minutes=5)


def remember_channel(
    session_factory: sessionmaker[Session],
    customer_id: int,
    channel: str,
    address: str,
    now: datetime,
) -> None:
    """A conversation of this customer on this channel was seen now."""
    if not channel or not address:
        return
    recent = _RECENT.get((channel, address))
    if recent is not None and recent[0] == customer_id and now - recent[1] < _REFRESH:
        return
    try:
        with session_factory() as session, session.begin():
            row = session.execute(
                select(CustomerChannelRow).where(
                    CustomerChannelRow.channel == channel, CustomerChannelRow.address == address
                )
            ).scalar_one_or_none()
            if row is None:
                session.add(
                    CustomerChannelRow(
                        customer_id=customer_id,
                        channel=channel,
                        address=address,
                        source="conversation",
                        last_seen_at=now,
                    )
                )
            else:
                row.customer_id, row.last_seen_at = customer_id, now
    except IntegrityError:
        pass  # the same conversation registered by a parallel turn: fine
    if len(_RECENT) > 100_000:
        _RECENT.clear()
    _RECENT[(channel, address)] = (customer_id, now)


def reach(session: Session, customer_id: int) -> Reach | None:
    """The customer's last channel, if Rasa can push to it."""
    latest = session.execute(
        select(CustomerChannelRow)
        .where(CustomerChannelRow.customer_id == customer_id)
        .order_by(CustomerChannelRow.last_seen_at.desc(), CustomerChannelRow.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if latest is None or latest.channel not in PUSH_CHANNELS:
        return None
    # A conversation Rasa has seen answers on its latest channel; an address the
    # shop knows (never spoken to) is named by its channel.
    output = "latest" if latest.source == "conversation" else latest.channel
    return Reach(channel=latest.channel, address=latest.address, output_channel=output)
