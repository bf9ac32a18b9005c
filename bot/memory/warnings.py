"""The outbox of warnings to customers, and the notifiers' leases."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)

from bot.database import Base
from bot.memory import promises as _promises  # noqa: F401 - the target of promise_id


class WarningRow(Base):
    """The outbox: written in the same transaction as the order change it announces."""

    __tablename__ = "warnings"
    __table_args__ = (Index("ix_warnings_status_next_attempt", "status", "next_attempt_at"),)

    id = Column(Integer, primary_key=True)
    idempotency_key = Column(String(200), nullable=False, unique=True)
    customer_id = Column(Integer, nullable=False, index=True)
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
    # What the customer was sent, when the notifier sent it itself (no Rasa
    # turn holds it): shown to the person taking the conversation over.
    said = Column(Text, nullable=True)


class WorkerLeaseRow(Base):
    """A named lease: on SQLite only one notifier may run."""

    __tablename__ = "worker_leases"

    name = Column(String(64), primary_key=True)
    holder = Column(String(64), nullable=False)
    expires_at = Column(DateTime, nullable=False)
