"""The assistant's own record of what the platforms sent.

Keyed by the platforms' ids and the order numbers customers see: no foreign
key into the shop's tables, so a shop whose orders live in Shopify or
WooCommerce needs none of them.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Text, UniqueConstraint

from bot.database import Base

# A delivery's way through the inbox.
PENDING = "pending"  # taken, not yet applied (or waiting for its next try)
APPLIED = "applied"  # its changes were applied (some may have been no change)
IGNORED = "ignored"  # nothing in it for a customer (a ping, a step we do not tell)
UNKNOWN_ORDER = "unknown_order"  # no order of this shop has its number
FAILED = "failed"  # could not be applied; `error` says why (ids only)
DELIVERY_STATUSES = (PENDING, APPLIED, IGNORED, UNKNOWN_ORDER, FAILED)


class SourceDeliveryRow(Base):
    """One webhook a platform delivered, kept to answer its retries once."""

    __tablename__ = "source_deliveries"
    __table_args__ = (
        UniqueConstraint("source", "topic", "event_id", name="uq_source_deliveries_event"),
        Index("ix_source_deliveries_due", "status", "next_try_at"),
        Index("ix_source_deliveries_received", "source", "received_at"),
    )

    id = Column(Integer, primary_key=True)
    source = Column(String(32), nullable=False)
    topic = Column(String(100), nullable=False)
    event_id = Column(String(200), nullable=False)
    received_at = Column(DateTime, nullable=False)
    triggered_at = Column(DateTime, nullable=True)
    payload = Column(Text, nullable=False)  # the JSON body as it came
    status = Column(String(16), nullable=False, default=PENDING)
    attempts = Column(Integer, nullable=False, default=0)
    next_try_at = Column(DateTime, nullable=True)
    applied_at = Column(DateTime, nullable=True)
    order_number = Column(String(64), nullable=True)
    warnings = Column(Integer, nullable=False, default=0)  # warnings queued by it
    error = Column(String(300), nullable=True)


class SourceOrderLinkRow(Base):
    """A platform's own order id and the number customers see (Shopify's
    fulfillment and refund webhooks name the order only by its id)."""

    __tablename__ = "source_order_links"

    source = Column(String(32), primary_key=True)
    platform_order_id = Column(String(64), primary_key=True)
    order_number = Column(String(64), nullable=False)


class SourceFieldMarkRow(Base):
    """When the newest applied change to one field of one order happened: an
    older one, delivered late or out of order, never moves the order back."""

    __tablename__ = "source_field_marks"

    order_number = Column(String(64), primary_key=True)
    field_key = Column(String(200), primary_key=True)  # "promised_date", "line_status:SKU", ...
    occurred_at = Column(DateTime, nullable=False)
