"""Tables for handoffs to a person: the queue and what was said in it."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, Integer, String, Text, text

from bot.database import Base
from bot.memory import promises as _promises  # noqa: F401 - the target of promise_id


class HandoffRow(Base):
    """A conversation waiting for, or with, a person; with everything they need to know."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_status_created", "status", "created_at"),
        Index("ix_handoffs_sender_status", "sender_id", "status"),
    )

    id = Column(Integer, primary_key=True)
    # The conversation (Rasa sender id) and its channel; none when the shop's
    # systems opened the case (a change that breaks a customer's deadline).
    sender_id = Column(String(200), nullable=True)
    channel = Column(String(32), nullable=True)
    customer_id = Column(Integer, nullable=True, index=True)
    order_ids = Column(Text, nullable=False, default="")  # "10001,10007"
    reason = Column(String(32), nullable=False)  # asked, not_understood, angry, deadline_at_risk
    mood = Column(String(16), nullable=False, default="calm")  # calm, upset, angry
    language = Column(String(2), nullable=False, default="nl")
    question = Column(Text, nullable=False, default="")  # in the customer's own words
    context = Column(Text, nullable=False, default="{}")  # JSON: what was said, and when
    deadline = Column(Date, nullable=True)
    # waiting -> claimed -> closed (handed back to the assistant, or done)
    status = Column(String(16), nullable=False, default="waiting")
    claimed_by = Column(String(100), nullable=True)
    created_at = Column(DateTime, nullable=False)
    claimed_at = Column(DateTime, nullable=True)
    closed_at = Column(DateTime, nullable=True)
    # When a person will answer, as told to the customer: a callback promise.
    promise_id = Column(Integer, ForeignKey("promises.id"), nullable=True)
    ticket_ref = Column(String(64), nullable=True)  # the helpdesk's ticket, when one is used


WAITING_SQL = "delivered_at IS NULL"


class HandoffMessageRow(Base):
    """A person's reply, on its way to the customer through Rasa."""

    __tablename__ = "handoff_messages"
    __table_args__ = (
        # The notifier looks for replies still to be said every few seconds:
        # the few waiting ones, not every reply ever written.
        Index(
            "ix_handoff_messages_waiting",
            "handoff_id",
            postgresql_where=text(WAITING_SQL),
            sqlite_where=text(WAITING_SQL),
        ),
    )

    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id"), nullable=False, index=True)
    staff_name = Column(String(100), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False)
    delivered_at = Column(DateTime, nullable=True)
