"""The intake API's request bodies, validated (pydantic 1, as rasa 3.6 pins it)."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from pydantic import BaseModel, Extra, ValidationError, root_validator, validator
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.channels.addresses import sender_id
from bot.orders.model import EVENT_FIELDS, ORDER_STATUSES, PARTY_TYPES
from bot.proactive.channels import SHOP_KNOWN_CHANNELS
from bot.proactive.intake import (
    LINE_STATUSES,
    IntakeError,
    OrderChange,
    SupplierDelay,
    whole_quantity,
)

__all__ = [
    "SupplierDelayBody",
    "OrderEventBody",
    "ChannelAddressBody",
    "ValidationError",
    "field_errors",
]


# The longest of each text, as the tables keep them (a longer one would fail in
# the database, after the checks: a 500 instead of a 422).
NAME_CHARS = 200  # supplier, product, party_name
CODE_CHARS = 64  # reason_code, sku
TEXT_CHARS = 2000  # reason, old_value, new_value
REASON_CODE = re.compile(r"^[A-Za-z0-9_.:-]+$")
# Dates an order can be promised for; anything else is a mistake upstream.
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2099, 12, 31)
# Ids are INTEGER columns.
MAX_ID = 2**31 - 1
# Cents, for total and refund.
MAX_CENTS = 10**11


def _length(value: str | None, most: int) -> str | None:
    if value is not None and len(value) > most:
        raise ValueError(f"must be at most {most} characters")
    return value


def _iso_date(value: Any) -> Any:
    """Only YYYY-MM-DD (pydantic would also take a number as a Unix time)."""
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a date YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError as error:
        raise ValueError("must be a date YYYY-MM-DD") from error
    return _in_range(parsed)


def _in_range(day: date) -> date:
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ValueError(f"must be between {FIRST_DATE.isoformat()} and {LAST_DATE.isoformat()}")
    return day


def _whole(value: Any, least: int, most: int) -> Any:
    """A JSON whole number (not 2.5, not true, not "3") from least to most."""
    if value is None:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number")
    if not least <= value <= most:
        raise ValueError(f"must be between {least} and {most}")
    return value


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

    @validator("supplier", "product")
    def name_length(cls, value: str | None) -> str | None:  # noqa: N805
        return _length(value, NAME_CHARS)

    @validator("reason_code")
    def reason_code_form(cls, value: str) -> str:  # noqa: N805
        return _reason_code(value)

    @validator("sku")
    def sku_length(cls, value: str | None) -> str | None:  # noqa: N805
        return _length(value, CODE_CHARS)

    @validator("reason")
    def reason_length(cls, value: str) -> str:  # noqa: N805
        return str(_length(value, TEXT_CHARS))

    @validator("new_date", pre=True)
    def new_date_form(cls, value: Any) -> Any:  # noqa: N805
        return _iso_date(value)

    @validator("delay_days", pre=True)
    def positive(cls, value: Any) -> Any:  # noqa: N805
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)  # the command line gives text
        return _whole(value, 1, 365)

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

    @validator("reason_code")
    def reason_code_form(cls, value: str | None) -> str | None:  # noqa: N805
        return None if value is None else _reason_code(value)

    @validator("party_name")
    def name_length(cls, value: str | None) -> str | None:  # noqa: N805
        return _length(value, NAME_CHARS)

    @validator("new_value", "old_value", "reason")
    def text_length(cls, value: str | None) -> str | None:  # noqa: N805
        return _length(value, TEXT_CHARS)

    @validator("line_id", pre=True)
    def line_id_form(cls, value: Any) -> Any:  # noqa: N805
        return _whole(value, 1, MAX_ID)

    @root_validator(skip_on_failure=True)
    def new_value_fits_the_field(cls, values: dict[str, Any]) -> dict[str, Any]:  # noqa: N805
        """What the field will become must be something the customer's pages can tell;
        the error names new_value (or line_id), not the body."""
        problem = _new_value_problem(values.get("field"), values.get("new_value"))
        if problem:
            raise _FieldError("new_value", problem)
        if values.get("field") in ("line_status", "line_quantity") and not values.get("line_id"):
            raise _FieldError("line_id", f"is required for {values.get('field')}")
        return values

    def to_change(self, order_id: int) -> OrderChange:
        return OrderChange(order_id=order_id, **self.dict())


class _FieldError(ValueError):
    """A check across fields that is about one of them: field_errors names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _reason_code(value: str) -> str:
    if len(value) > CODE_CHARS:
        raise ValueError(f"must be at most {CODE_CHARS} characters")
    if not REASON_CODE.match(value):
        raise ValueError("must be letters, digits and _ . : - only")
    return value


def _new_value_problem(field: str | None, value: str | None) -> str | None:
    """Why `value` cannot be what `field` becomes, or None."""
    if field == "promised_date":
        try:
            _in_range(date.fromisoformat(str(value)))
        except ValueError as error:
            if "between" in str(error):
                return str(error)
            return "must be a date YYYY-MM-DD for promised_date"
    elif field == "status" and value not in ORDER_STATUSES:
        return f"must be one of {', '.join(ORDER_STATUSES)} for status"
    elif field == "line_status" and value not in LINE_STATUSES:
        return f"must be one of {', '.join(LINE_STATUSES)} for line_status"
    elif field == "line_quantity":
        try:
            whole_quantity(value)
        except IntakeError as error:
            return str(error).replace("a quantity is", "must be")
    elif field in ("total", "refund") and value is not None:
        if not (value.isascii() and value.isdigit()) or int(value) > MAX_CENTS:
            return f"must be a whole number of cents for {field}"
    elif field in ("address", "line_product") and not value:
        return f"must not be empty for {field}"
    return None


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
    found = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"])
        message = item["msg"]
        if field == "__root__" and ": " in message:
            named, _, rest = message.partition(": ")
            if named in OrderEventBody.__fields__:
                field, message = named, rest  # a _FieldError from a check across fields
        found.append({"field": "body" if field in ("", "__root__") else field, "error": message})
    return found


# --- shared by the API routes -------------------------------------------------


def json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        return None


def invalid(errors: list[dict[str, str]]) -> HTTPResponse:
    return json_response({"error": "invalid request", "fields": errors}, status=422)


def known_id(value: int) -> bool:
    """An id the INTEGER columns can hold (a larger one is simply not there)."""
    return 1 <= value <= MAX_ID
