"""Where each customer can be reached: the conversations seen on each channel,
and the addresses the shop registered (keyed by the shop's customer id)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    String,
    UniqueConstraint,
)

from bot.database import Base


class CustomerChannelRow(Base):
    """Where a customer can be reached: a conversation seen, or an address the shop knows."""

    __tablename__ = "customer_channels"
    __table_args__ = (
        UniqueConstraint("channel", "address", name="uq_customer_channel"),
        Index("ix_customer_channels_address", "address"),
    )

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, nullable=False, index=True)
    channel = Column(String(32), nullable=False)  # socketio, rest, telegram, slack, twilio, ...
    address = Column(String(200), nullable=False)  # the Rasa sender id (chat id, number, ...)
    source = Column(String(16), nullable=False, default="conversation")  # or "shop"
    last_seen_at = Column(DateTime, nullable=False)
    # The language its conversation speaks (None before it spoke): a warning
    # the notifier sends itself is written in it (bot/proactive/direct.py).
    language = Column(String(8), nullable=True)
