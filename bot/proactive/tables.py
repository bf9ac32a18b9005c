"""Tables for proactive warnings: the outbox, the promise ledger, channels."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)

from bot.orders.sql.tables import Base


class CustomerChannelRow(Base):
    """Where a customer can be reached: a conversation seen, or an address the shop knows."""

    __tablename__ = "customer_channels"
    __table_args__ = (
        UniqueConstraint("channel", "address", name="uq_customer_channel"),
        Index("ix_customer_channels_address", "address"),
    )

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    channel = Column(String(32), nullable=False)  # socketio, rest, telegram, slack, twilio, ...
    address = Column(String(200), nullable=False)  # the Rasa sender id (chat id, number, ...)
    source = Column(String(16), nullable=False, default="conversation")  # or "shop"
    last_seen_at = Column(DateTime, nullable=False)


class WarningRow(Base):
    """The outbox: written in the same transaction as the order change it announces."""

    __tablename__ = "warnings"
    __table_args__ = (Index("ix_warnings_status_next_attempt", "status", "next_attempt_at"),)

    id = Column(Integer, primary_key=True)
    idempotency_key = Column(String(200), nullable=False, unique=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    kind = Column(String(32), nullable=False)  # change, promise_at_risk, promise_broken, ...
    order_ids = Column(Text, nullable=False)  # "10001,10007"
    event_ids = Column(Text, nullable=False, default="")  # "812,813"
    promise_id = Column(Integer, ForeignKey("promises.id"), nullable=True)
    # queued -> sending -> sent (pushed), or unread (no push channel: shown at
    # the next visit), dead (retry budget spent), suppressed (opted out).
    status = Column(String(16), nullable=False, default="queued")
    channel = Column(String(32), nullable=True)
    address = Column(String(200), nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False)
    lease_until = Column(DateTime, nullable=True)
    claimed_by = Column(String(64), nullable=True)
    last_error = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False)
    sent_at = Column(DateTime, nullable=True)
    # Set by the assistant when the customer was shown the warning: exactly once.
    delivered_at = Column(DateTime, nullable=True)
    delivered_to = Column(String(200), nullable=True)
    # Set by the channel inside Rasa right after it took the warning (a receipt):
    # what tells a push whose turn Rasa never saved from one never sent.
    received_at = Column(DateTime, nullable=True)


class PromiseRow(Base):
    """Every promise made to a customer, until it is kept, renewed or broken."""

    __tablename__ = "promises"
    __table_args__ = (Index("ix_promises_status_due", "status", "due_date"),)

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=True, index=True)
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


class WorkerLeaseRow(Base):
    """A named lease: on SQLite only one notifier may run."""

    __tablename__ = "worker_leases"

    name = Column(String(64), primary_key=True)
    holder = Column(String(64), nullable=False)
    expires_at = Column(DateTime, nullable=False)
