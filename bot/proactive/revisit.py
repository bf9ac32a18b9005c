"""A warning kept unread because the customer's chat widget was closed goes out
the moment the widget opens again.

The notifier pushes to a widget only while it is open (a push to a closed one
goes nowhere) and otherwise marks the warning `unread`. A customer coming back
to the shop in the same browser reconnects with the same conversation and,
until now, saw the news only after writing something. So when a widget's
conversation connects, the chat channel (inside Rasa) puts that customer's
unread warnings back in the queue, and the notifier pushes them within its
polling interval to the widget that is now open: the shop speaks first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from bot.memory.addresses import CustomerChannelRow
from bot.memory.warnings import WarningRow

# Older news is not pushed any more; the conversation still shows it at the
# customer's next message.
WAIT_AT_MOST = timedelta(days=14)


def requeue_unread(engine: Engine, channel: str, address: str, now: datetime) -> int:
    """Queue again the unread warnings of the customer this address belongs to;
    how many. One statement: it runs on every widget connect."""
    customers = select(CustomerChannelRow.customer_id).where(
        CustomerChannelRow.channel == channel, CustomerChannelRow.address == address
    )
    statement = (
        update(WarningRow)
        .where(WarningRow.customer_id.in_(customers))
        .where(WarningRow.status == "unread", WarningRow.delivered_at.is_(None))
        .where(WarningRow.created_at >= now - WAIT_AT_MOST)
        .values(status="queued", next_attempt_at=now, lease_until=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    with engine.begin() as connection:
        return int(connection.execute(statement).rowcount or 0)
