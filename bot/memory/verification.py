"""Failed verifications, one row each, kept for half an hour."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String

from bot.database import Base


class VerificationFailureRow(Base):
    """One failed (or, for the moment it takes, running) verification of one
    subject: an order number ("order:10003") or a client ("client:" and a keyed
    hash of its address). A row per failure, never a counter: concurrent
    failures are each counted, with no update to lose."""

    __tablename__ = "verification_failures"
    __table_args__ = (
        Index("ix_verification_failures_subject", "subject", "failed_at"),
        Index("ix_verification_failures_failed_at", "failed_at"),
    )

    id = Column(Integer, primary_key=True)
    subject = Column(String(80), nullable=False)
    failed_at = Column(DateTime, nullable=False)
