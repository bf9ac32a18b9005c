"""Compensations offered per order: once per rule and change, never twice."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, UniqueConstraint

from bot.database import Base


class CompensationRow(Base):
    """One offer to make up for one change (an order event) or one broken promise.

    `change_key` is what the unique constraint holds: "event:812",
    "promise:45", or "order" for a rule given once per order whatever changes.
    Two intakes or answers racing for the same offer: one insert wins.
    """

    __tablename__ = "compensations"
    __table_args__ = (
        UniqueConstraint("order_id", "rule", "change_key", name="uq_compensation_once"),
    )

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, nullable=False, index=True)  # the shop's order id
    customer_id = Column(Integer, nullable=False)
    rule = Column(String(64), nullable=False)  # a rule of compensation.yml
    change_key = Column(String(64), nullable=False)
    event_id = Column(Integer, nullable=True)  # the change it makes up for, or
    promise_id = Column(Integer, nullable=True)  # the broken promise
    offer = Column(String(32), nullable=False)  # voucher, free_shipping, ...
    value_cents = Column(Integer, nullable=False)
    currency = Column(String(3), nullable=False, default="EUR")
    status = Column(String(16), nullable=False, default="offered")  # offered, accepted
    offered_at = Column(DateTime, nullable=False)
    offered_in = Column(String(16), nullable=False)  # warning or conversation
    accepted_at = Column(DateTime, nullable=True)
