"""A customer's deadline per order, kept in our own database.

Keyed by the shop's order id without a foreign key, so that it works the same
with the SQL order system and with a shop's REST API (ORDER_SYSTEM=http): the
shop's API needs to offer nothing for deadlines.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Integer, String

from bot.database import Base


class DeadlineRow(Base):
    """'Ik heb hem zaterdag nodig voor mijn bruiloft': by when, what for, when told."""

    __tablename__ = "order_deadlines"

    order_id = Column(Integer, primary_key=True, autoincrement=False)
    customer_id = Column(Integer, nullable=False, index=True)
    deadline = Column(Date, nullable=False)  # the last day the customer can have it
    purpose = Column(String(60), nullable=True)  # "bruiloft", "wedding"
    phrase = Column(String(120), nullable=False)  # the words it was read from: "voor vrijdag"
    language = Column(String(2), nullable=False)
    told_at = Column(DateTime, nullable=False)  # when the customer told us (naive UTC)
