"""The promise ledger: every promise made to a customer, until kept, renewed or broken."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Text,
)

from bot.database import Base


class PromiseRow(Base):
    """Every promise made to a customer, until it is kept, renewed or broken."""

    __tablename__ = "promises"
    __table_args__ = (Index("ix_promises_status_due", "status", "due_date"),)

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, nullable=False, index=True)
    order_id = Column(Integer, nullable=True, index=True)
    kind = Column(String(16), nullable=False)  # delivery_date, pickup_date, keep_posted, callback
    due_date = Column(Date, nullable=True)
    due_at = Column(DateTime, nullable=True)  # callbacks: a time
    made_by = Column(String(16), nullable=False)  # shop or assistant
    made_at = Column(DateTime, nullable=False)
    status = Column(
        String(16), nullable=False, default="open"
    )  # open, kept, broken, renewed, ended
    resolved_at = Column(DateTime, nullable=True)
    note = Column(Text, nullable=True)
