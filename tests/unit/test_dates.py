"""Dates as a customer reads them, and ISO dates from the order system."""

from __future__ import annotations

import calendar
from datetime import date

import pytest

from bot.dates import parse_iso_date, spoken_date

# (day, its weekday per the calendar, Dutch and English spoken forms without year)
KNOWN_DAYS = [
    (date(2025, 12, 3), calendar.WEDNESDAY, "woensdag 3 december", "Wednesday 3 December"),
    (date(2026, 1, 1), calendar.THURSDAY, "donderdag 1 januari", "Thursday 1 January"),
    (date(2024, 2, 29), calendar.THURSDAY, "donderdag 29 februari", "Thursday 29 February"),
    (date(2025, 6, 15), calendar.SUNDAY, "zondag 15 juni", "Sunday 15 June"),
    (date(2025, 3, 10), calendar.MONDAY, "maandag 10 maart", "Monday 10 March"),
]


@pytest.mark.parametrize(("day", "weekday", "dutch", "english"), KNOWN_DAYS)
def test_the_weekdays_used_below_are_right(
    day: date, weekday: int, dutch: str, english: str
) -> None:
    assert calendar.weekday(day.year, day.month, day.day) == weekday


@pytest.mark.parametrize(("day", "weekday", "dutch", "english"), KNOWN_DAYS)
def test_spoken_date_in_dutch_this_year(day: date, weekday: int, dutch: str, english: str) -> None:
    assert spoken_date(day, "nl", today=date(day.year, 1, 1)) == dutch


@pytest.mark.parametrize(("day", "weekday", "dutch", "english"), KNOWN_DAYS)
def test_spoken_date_in_english_this_year(
    day: date, weekday: int, dutch: str, english: str
) -> None:
    assert spoken_date(day, "en", today=date(day.year, 12, 31)) == english


def test_spoken_date_adds_the_year_when_it_is_another_year() -> None:
    today = date(2026, 1, 5)
    assert spoken_date(date(2025, 12, 3), "nl", today) == "woensdag 3 december 2025"
    assert spoken_date(date(2025, 12, 3), "en", today) == "Wednesday 3 December 2025"
    assert spoken_date(date(2027, 1, 1), "nl", today) == "vrijdag 1 januari 2027"


def test_spoken_date_leaves_the_year_out_for_this_year(today: date) -> None:
    assert str(today.year) not in spoken_date(today, "nl", today)
    next_new_year = date(today.year + 1, 1, 1)
    assert spoken_date(next_new_year, "nl", today).endswith(f"1 januari {today.year + 1}")
    assert spoken_date(next_new_year, "en", today).endswith(f"1 January {today.year + 1}")


def test_spoken_date_falls_back_to_dutch_for_an_unknown_language() -> None:
    assert spoken_date(date(2025, 12, 3), "de", date(2025, 1, 1)) == "woensdag 3 december"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-12-03", date(2025, 12, 3)),
        ("2025-12-03T14:30:00", date(2025, 12, 3)),
        ("2024-02-29", date(2024, 2, 29)),
    ],
)
def test_parse_iso_date_reads_dates_and_datetimes(value: str, expected: date) -> None:
    assert parse_iso_date(value) == expected


@pytest.mark.parametrize(
    "value",
    [None, "", "morgen", "03-12-2025", "2025-02-30", "2025-13-01", "2025/12/03", "20251203"],
)
def test_parse_iso_date_gives_none_for_bad_input(value: str | None) -> None:
    assert parse_iso_date(value) is None
