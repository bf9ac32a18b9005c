"""The change log: every change to a shop's order, with its reason and who
caused it, as the assistant heard it. Keyed by the shop's order (and line)
ids, no foreign key into the shop's tables."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Text, text

from bot.database import Base

# An order event that changes the order, not a progress step (a status moving
# on, except to cancelled). Written literally, so that the database can match
# a query's condition to the partial index below.
CHANGE_EVENTS_SQL = "field <> 'status' OR new_value = 'cancelled'"


class OrderEventRow(Base):
    """Every change to an order the assistant heard of (the intake API, the shop
    platforms, the customer's own cancellation): what, from what to what, why,
    and by whom. "What changed?" reads this log, not the shop."""

    __tablename__ = "order_events"
    __table_args__ = (
        Index("ix_order_events_order_id_id", "order_id", "id"),
        # The staff dashboard's changes per day by reason and supplier: only
        # the changes (not the progress steps), read from the index alone.
        Index(
            "ix_order_events_changes",
            "occurred_at",
            "reason_code",
            "party_type",
            "party_name",
            postgresql_where=text(CHANGE_EVENTS_SQL),
            sqlite_where=text(CHANGE_EVENTS_SQL),
        ),
    )

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, nullable=False)  # the shop's order id
    line_id = Column(Integer, nullable=True)  # the shop's order line id
    field = Column(String(32), nullable=False)
    old_value = Column(Text, nullable=True)
    new_value = Column(Text, nullable=True)
    reason_code = Column(String(64), nullable=True)
    reason_text = Column(Text, nullable=True)
    party_type = Column(String(16), nullable=True)
    party_name = Column(String(200), nullable=True)
    occurred_at = Column(DateTime, nullable=False)
