"""The shop's idea of 'today' and 'now' (its own time zone), in one place."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo


def shop_today(timezone_name: str) -> date:
    return datetime.now(ZoneInfo(timezone_name)).date()


def shop_local(utc_naive: datetime, timezone_name: str) -> datetime:
    """A stored (naive UTC) moment on the shop's clock."""
    return utc_naive.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(timezone_name))


def utcnow() -> datetime:
    """Naive UTC, as stored in the database."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def unix_seconds(utc_naive: datetime) -> float:
    """A stored (naive UTC) moment as Rasa's event timestamps count time."""
    return utc_naive.replace(tzinfo=timezone.utc).timestamp()
