"""SQLAlchemy tables of the demo shop's order system. Schema changes go through
Alembic. The history of changes is the assistant's own (bot/memory/changes.py)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import relationship

from bot.database import Base


class CustomerRow(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True, autoincrement=False)
    name = Column(String(200), nullable=False)
    email = Column(String(254), nullable=False, index=True)
    postcode = Column(String(16), nullable=False)
    language = Column(String(2), nullable=False, default="nl")


class SupplierRow(Base):
    __tablename__ = "suppliers"

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False, unique=True)


class ProductRow(Base):
    __tablename__ = "products"

    id = Column(Integer, primary_key=True)
    sku = Column(String(64), nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    supplier_id = Column(Integer, ForeignKey("suppliers.id"), nullable=True, index=True)

    supplier = relationship(SupplierRow, lazy="joined")


class OrderRow(Base):
    __tablename__ = "orders"

    id = Column(Integer, primary_key=True, autoincrement=False)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    status = Column(String(32), nullable=False)
    fulfilment = Column(String(16), nullable=False)
    placed_at = Column(DateTime, nullable=False)
    promised_date = Column(Date, nullable=True)
    original_promised_date = Column(Date, nullable=True)
    postcode = Column(String(16), nullable=False)
    email = Column(String(254), nullable=False)
    address = Column(Text, nullable=False)
    pickup_location = Column(String(200), nullable=True)
    total_cents = Column(Integer, nullable=False, default=0)
    currency = Column(String(3), nullable=False, default="EUR")
    delivered_at = Column(DateTime, nullable=True)

    lines = relationship("OrderLineRow", order_by="OrderLineRow.id", lazy="raise")
    shipments = relationship("ShipmentRow", order_by="ShipmentRow.id", lazy="raise")


class OrderLineRow(Base):
    __tablename__ = "order_lines"

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, index=True)
    product_id = Column(Integer, ForeignKey("products.id"), nullable=False, index=True)
    quantity = Column(Integer, nullable=False, default=1)
    status = Column(String(32), nullable=False, default="ok")
    unit_price_cents = Column(Integer, nullable=False, default=0)

    product = relationship(ProductRow, lazy="joined")


class ShipmentRow(Base):
    __tablename__ = "shipments"

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, index=True)
    carrier = Column(String(100), nullable=False)
    tracking_code = Column(String(100), nullable=True)
    tracking_url = Column(String(500), nullable=True)
    status = Column(String(32), nullable=False, default="preparing")
    shipped_at = Column(DateTime, nullable=True)
    expected_date = Column(Date, nullable=True)
    delivered_at = Column(DateTime, nullable=True)


class FollowUpRequestRow(Base):
    """A customer asked the shop to find out something the order system lacks."""

    __tablename__ = "follow_up_requests"

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, index=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False)
    topic = Column(String(64), nullable=False)
    event_id = Column(Integer, nullable=True)  # the change it is about (bot/memory/changes.py)
    status = Column(String(16), nullable=False, default="open")
    created_at = Column(DateTime, nullable=False)
