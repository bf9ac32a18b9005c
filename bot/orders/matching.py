"""Normalising what customers type before comparing it with the order system."""

from __future__ import annotations

import hmac
import re

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")
_ORDER_NUMBER = re.compile(r"^\s*#?\s*(\d{4,10})\s*$")
# The same range as four to ten typed digits.
_SMALLEST, _LARGEST = 1_000, 9_999_999_999


def normalise_postcode(value: str | None) -> str:
    """'3511 ab' and '3511AB' are the same postcode."""
    return _NON_ALNUM.sub("", value or "").upper()


def normalise_email(value: str | None) -> str:
    return (value or "").strip().lower()


def parse_order_number(value: object) -> int | None:
    """An order number as typed ('10001', '#10001'), or None when malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value if _SMALLEST <= value <= _LARGEST else None
    if not isinstance(value, str):
        return None
    match = _ORDER_NUMBER.match(value)
    return int(match.group(1)) if match else None


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of normalised values (no timing hints)."""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def order_matches(
    order_postcode: str,
    order_email: str,
    postcode: str | None = None,
    email: str | None = None,
) -> bool:
    if postcode and same_secret(normalise_postcode(postcode), normalise_postcode(order_postcode)):
        return True
    return bool(email) and same_secret(normalise_email(email), normalise_email(order_email))
