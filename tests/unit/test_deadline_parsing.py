"""Deadlines in the customer's words, against a fixed today: Wednesday 25 November 2026."""

from __future__ import annotations

import time
from datetime import date

import pytest

from bot.deadlines.parse import next_weekday, parse_deadline

TODAY = date(2026, 11, 25)  # a Wednesday

CASES = [
    # Dutch
    ("ik heb hem zaterdag nodig voor mijn bruiloft", "nl", date(2026, 11, 28), "bruiloft"),
    ("uiterlijk 12 december", "nl", date(2026, 12, 12), None),
    ("ik moet het uiterlijk 12 december hebben", "nl", date(2026, 12, 12), None),
    ("12/12", "nl", date(2026, 12, 12), None),
    ("graag voor 12-12", "nl", date(2026, 12, 11), None),
    ("over twee weken", "nl", date(2026, 12, 9), None),
    ("over 3 dagen", "nl", date(2026, 11, 28), None),
    ("binnen een week", "nl", date(2026, 12, 2), None),
    ("morgen", "nl", date(2026, 11, 26), None),
    ("overmorgen", "nl", date(2026, 11, 27), None),
    ("vandaag nog", "nl", TODAY, None),
    ("volgende week woensdag", "nl", date(2026, 12, 2), None),
    ("woensdag volgende week", "nl", date(2026, 12, 2), None),
    ("woensdag", "nl", date(2026, 12, 2), None),  # today is Wednesday: next week's
    ("aanstaande vrijdag", "nl", date(2026, 11, 27), None),
    ("ik heb hem voor vrijdag nodig", "nl", date(2026, 11, 26), None),  # the day before
    ("vóór vrijdag", "nl", date(2026, 11, 26), None),
    ("op 3 januari 2027", "nl", date(2027, 1, 3), None),
    ("3 jan", "nl", date(2027, 1, 3), None),
    ("de 3e", "nl", date(2026, 12, 3), None),
    ("voor kerst graag, het is een cadeau", "nl", date(2026, 12, 24), None),
    ("op tijd voor pakjesavond", "nl", date(2026, 12, 4), None),
    ("zondag voor onze verjaardag", "nl", date(2026, 11, 29), "verjaardag"),
    ("12 november", "nl", date(2027, 11, 12), None),  # passed this year: next year
    ("25 november", "nl", TODAY, None),
    # English
    ("I need it before Friday", "en", date(2026, 11, 26), None),
    ("I need it by Friday for my wedding", "en", date(2026, 11, 27), "wedding"),
    ("next Tuesday", "en", date(2026, 12, 1), None),
    ("by the 3rd", "en", date(2026, 12, 3), None),
    ("by the 25th", "en", TODAY, None),
    ("tomorrow", "en", date(2026, 11, 26), None),
    ("the day after tomorrow", "en", date(2026, 11, 27), None),
    ("today please", "en", TODAY, None),
    ("in two weeks", "en", date(2026, 12, 9), None),
    ("within 10 days", "en", date(2026, 12, 5), None),
    ("Wednesday next week", "en", date(2026, 12, 2), None),
    ("next week Monday", "en", date(2026, 11, 30), None),
    ("December 12th", "en", date(2026, 12, 12), None),
    ("the 12th of December", "en", date(2026, 12, 12), None),
    ("no later than 1 December", "en", date(2026, 12, 1), None),
    ("before Christmas", "en", date(2026, 12, 24), None),
    ("on 2026-12-01", "en", date(2026, 12, 1), None),
    ("this Saturday for our party", "en", date(2026, 11, 28), "party"),
]


@pytest.mark.parametrize(("text", "language", "expected", "purpose"), CASES)
def test_a_deadline_is_read_against_the_shops_today(
    text: str, language: str, expected: date, purpose: str | None
) -> None:
    found = parse_deadline(text, TODAY, language)
    assert found is not None, text
    assert found.day == expected
    assert found.purpose == purpose


def test_the_table_is_large_enough_in_both_languages() -> None:
    assert sum(1 for case in CASES if case[1] == "nl") >= 15
    assert sum(1 for case in CASES if case[1] == "en") >= 15


@pytest.mark.parametrize(
    "text", ["waar blijft mijn bestelling", "I may need it", "voor mijn bruiloft", ""]
)
def test_no_date_no_deadline(text: str) -> None:
    assert parse_deadline(text, TODAY, "nl") is None


def test_before_is_the_day_before_and_says_so() -> None:
    found = parse_deadline("voor vrijdag", TODAY, "nl")
    assert found is not None and found.before and found.phrase == "voor vrijdag"


def test_a_weekday_named_on_that_day_is_next_weeks() -> None:
    assert next_weekday(TODAY, TODAY.weekday()) == date(2026, 12, 2)


def test_parsing_is_fast_once_loaded() -> None:
    parse_deadline("uiterlijk 12 december", TODAY, "nl")  # loads dateparser
    started = time.perf_counter()
    for _ in range(20):
        parse_deadline("I need it by December 12th for my wedding", TODAY, "en")
        parse_deadline("ik heb hem zaterdag nodig voor mijn bruiloft", TODAY, "nl")
    assert (time.perf_counter() - started) / 40 < 0.05


def test_dateparser_is_imported_only_when_a_written_date_needs_it() -> None:
    import subprocess
    import sys

    probe = (
        "import sys; from datetime import date; from bot.deadlines.parse import parse_deadline; "
        "parse_deadline('zaterdag', date(2026, 11, 25)); print('dateparser' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
