"""The order system's objects as JSON: the contract of the order REST API."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from bot.orders.model import Customer, Order, OrderEvent, OrderLine, Shipment


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _datetime(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def customer_to_json(customer: Customer) -> dict[str, Any]:
    return _plain(asdict(customer))


def customer_from_json(data: dict[str, Any]) -> Customer:
    return Customer(
        id=int(data["id"]),
        name=str(data["name"]),
        email=str(data["email"]),
        postcode=str(data["postcode"]),
        language=str(data.get("language") or "nl"),
    )


def order_to_json(order: Order, include_private: bool = False) -> dict[str, Any]:
    """The order as JSON; postcode and email only when asked (never to a chat)."""
    data = _plain(asdict(order))
    if not include_private:
        data.pop("postcode", None)
        data.pop("email", None)
    return data


def order_from_json(data: dict[str, Any]) -> Order:
    return Order(
        id=int(data["id"]),
        customer_id=int(data["customer_id"]),
        status=str(data["status"]),
        fulfilment=str(data["fulfilment"]),
        placed_at=datetime.fromisoformat(data["placed_at"]),
        promised_date=_date(data.get("promised_date")),
        original_promised_date=_date(data.get("original_promised_date")),
        postcode=str(data.get("postcode") or ""),
        email=str(data.get("email") or ""),
        address=str(data.get("address") or ""),
        pickup_location=data.get("pickup_location"),
        total_cents=int(data.get("total_cents") or 0),
        currency=str(data.get("currency") or "EUR"),
        delivered_at=_datetime(data.get("delivered_at")),
        lines=tuple(
            OrderLine(
                id=int(line["id"]),
                product_name=str(line["product_name"]),
                sku=str(line.get("sku") or ""),
                supplier_name=line.get("supplier_name"),
                quantity=int(line.get("quantity") or 1),
                status=str(line.get("status") or "ok"),
            )
            for line in data.get("lines") or []
        ),
        shipments=tuple(
            Shipment(
                id=int(s["id"]),
                carrier=str(s["carrier"]),
                tracking_code=s.get("tracking_code"),
                tracking_url=s.get("tracking_url"),
                status=str(s.get("status") or "preparing"),
                shipped_at=_datetime(s.get("shipped_at")),
                expected_date=_date(s.get("expected_date")),
                delivered_at=_datetime(s.get("delivered_at")),
            )
            for s in data.get("shipments") or []
        ),
        events=tuple(
            OrderEvent(
                id=int(e["id"]),
                order_id=int(e.get("order_id") or data["id"]),
                line_id=e.get("line_id"),
                field=str(e["field"]),
                old_value=e.get("old_value"),
                new_value=e.get("new_value"),
                reason_code=e.get("reason_code"),
                reason_text=e.get("reason_text"),
                party_type=e.get("party_type"),
                party_name=e.get("party_name"),
                occurred_at=datetime.fromisoformat(e["occurred_at"]),
            )
            for e in data.get("events") or []
        ),
    )
