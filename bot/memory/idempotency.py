"""The table of intake Idempotency-Keys (migration 0009)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Text, UniqueConstraint

from bot.database import Base


class IdempotencyKeyRow(Base):
    """One intake call's key and, once it is done, its answer (kept IDEMPOTENCY_HOURS)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("key", "endpoint", name="uq_idempotency_key_endpoint"),)

    id = Column(Integer, primary_key=True)
    key = Column(String(255), nullable=False)
    endpoint = Column(String(64), nullable=False)  # supplier-delays, order-events
    request_hash = Column(String(64), nullable=False)  # sha256 of the path and the body
    status_code = Column(Integer, nullable=True)  # None while the first call is in progress
    response_body = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False, index=True)
