"""Dates as a customer reads them: "woensdag 3 december", "Wednesday 3 December"."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

_LOCALES = {"nl": "nl_NL", "en": "en_GB"}


def spoken_date(day: date, language: str, today: date | None = None) -> str:
    """Weekday, day and month; the year only when it is not this year."""
    pattern = "EEEE d MMMM"
    if today is not None and day.year != today.year:
        pattern = "EEEE d MMMM y"
    return format_date(day, pattern, locale=_LOCALES.get(language, "nl_NL"))


def parse_iso_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
