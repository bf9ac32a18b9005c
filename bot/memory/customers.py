"""What the assistant keeps per customer and per order of the shop's: what the
customer last heard about each order, and whether they want warnings."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer

from bot.database import Base


class ToldRow(Base):
    """What the customer was last told about one order: every order event up to
    `event_id` (the shop's event ids grow). "What changed?" starts after it."""

    __tablename__ = "told"

    order_id = Column(Integer, primary_key=True, autoincrement=False)
    event_id = Column(Integer, nullable=False)
    told_at = Column(DateTime, nullable=False)


class OptOutRow(Base):
    """A customer who said "stop": no warnings until they opt in again."""

    __tablename__ = "opt_outs"

    customer_id = Column(Integer, primary_key=True, autoincrement=False)
    opted_out_at = Column(DateTime, nullable=False)
