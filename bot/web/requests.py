"""The intake API's request bodies, validated (pydantic 1, as rasa 3.6 pins it)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Extra, ValidationError, root_validator, validator

from bot.channels.addresses import sender_id
from bot.orders.model import EVENT_FIELDS, PARTY_TYPES
from bot.proactive.channels import SHOP_KNOWN_CHANNELS
from bot.proactive.intake import OrderChange, SupplierDelay

__all__ = [
    "SupplierDelayBody",
    "OrderEventBody",
    "ChannelAddressBody",
    "ValidationError",
    "field_errors",
]


class _Body(BaseModel):
    class Config:
        extra = Extra.forbid
        anystr_strip_whitespace = True


class SupplierDelayBody(_Body):
    supplier: str
    reason_code: str
    reason: str = ""
    sku: str | None = None
    product: str | None = None
    new_date: date | None = None
    delay_days: int | None = None

    @validator("supplier", "reason_code")
    def not_empty(cls, value: str) -> str:  # noqa: N805 - pydantic's validator signature
        if not value:
            raise ValueError("must not be empty")
        return value

    @validator("delay_days")
    def positive(cls, value: int | None) -> int | None:  # noqa: N805
        if value is not None and not 1 <= value <= 365:
            raise ValueError("must be between 1 and 365")
        return value

    @root_validator(skip_on_failure=True)
    def one_new_date(cls, values: dict[str, Any]) -> dict[str, Any]:  # noqa: N805
        if (values.get("new_date") is None) == (values.get("delay_days") is None):
            raise ValueError("give exactly one of new_date and delay_days")
        return values

    def to_delay(self) -> SupplierDelay:
        return SupplierDelay(
            supplier=self.supplier,
            reason_code=self.reason_code,
            reason=self.reason,
            new_date=self.new_date,
            delay_days=self.delay_days,
            sku=self.sku,
            product=self.product,
        )


class OrderEventBody(_Body):
    field: str
    new_value: str | None = None
    old_value: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    party_type: str | None = None
    party_name: str | None = None
    line_id: int | None = None
    notify: bool | None = None

    @validator("field")
    def known_field(cls, value: str) -> str:  # noqa: N805
        if value not in EVENT_FIELDS:
            raise ValueError(f"must be one of {', '.join(EVENT_FIELDS)}")
        return value

    @validator("party_type")
    def known_party(cls, value: str | None) -> str | None:  # noqa: N805
        if value is not None and value not in PARTY_TYPES:
            raise ValueError(f"must be one of {', '.join(PARTY_TYPES)}")
        return value

    @root_validator(skip_on_failure=True)
    def date_is_a_date(cls, values: dict[str, Any]) -> dict[str, Any]:  # noqa: N805
        if values.get("field") == "promised_date":
            try:
                date.fromisoformat(str(values.get("new_value")))
            except ValueError as error:
                raise ValueError("new_value must be a date YYYY-MM-DD for promised_date") from error
        return values

    def to_change(self, order_id: int) -> OrderChange:
        return OrderChange(order_id=order_id, **self.dict())


class ChannelAddressBody(_Body):
    """An address the shop knows for a customer (a Telegram chat id, a phone number)."""

    channel: str
    address: str

    @validator("channel")
    def pushable(cls, value: str) -> str:  # noqa: N805
        if value not in SHOP_KNOWN_CHANNELS:
            raise ValueError(f"must be one of {', '.join(SHOP_KNOWN_CHANNELS)}")
        return value

    @validator("address")
    def plausible(cls, value: str, values: dict[str, Any]) -> str:  # noqa: N805
        """Stored as the conversation's sender id: "telegram:123", "whatsapp:+31..."."""
        if not 1 <= len(value) <= 200:
            raise ValueError("must be 1 to 200 characters")
        channel = values.get("channel")
        return sender_id(channel, value) if channel else value


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """Which fields are at fault, and why: for a 422 answer."""
    return [
        {"field": ".".join(str(part) for part in item["loc"]) or "body", "error": item["msg"]}
        for item in error.errors()
    ]
