"""Reading a deadline from a customer's sentence, in Dutch or English.

`parse_deadline("ik heb hem zaterdag nodig voor mijn bruiloft", today, "nl")`
finds the date phrase, resolves it against the shop's today (never the
machine's date: callers pass `bot.clock.shop_today`) and returns the last day
the customer can have the order, with what it is for.

Decisions, the same in both languages:
- A weekday ("zaterdag", "Saturday", "aanstaande zaterdag", "next Saturday")
  is the first such day *after* today: on a Saturday, "zaterdag" is next week's
  (people say "vandaag"/"today" for today). "Volgende week woensdag" / "next
  week Wednesday" is the Wednesday of next calendar week (Monday to Sunday).
- "Voor vrijdag" / "before Friday" / "vóór 12 december" means the day before:
  the deadline is Thursday, end of day. The strict reading costs at most a
  day of caution; the loose one could cost the wedding.
  "Uiterlijk", "op", "by", "on", "no later than" mean that day itself.
- A date without a year that has passed this year is next year's.
  "12/12" is day/month.
- "By the 3rd" / "de 3e" is the next 3rd of a month, today included.
- "Over twee weken" / "in two weeks" / "binnen een week" count from today.

Relative phrases and weekdays are read by the rules below; written dates
("12 december", "December 12th", "12/12/2026") by dateparser, imported on
first use (it takes a quarter of a second to import; a parse is milliseconds).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

WEEKDAYS = {
    "maandag": 0,
    "dinsdag": 1,
    "woensdag": 2,
    "donderdag": 3,
    "vrijdag": 4,
    "zaterdag": 5,
    "zondag": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
NUMBERS = {
    "een": 1,
    "1": 1,
    "twee": 2,
    "drie": 3,
    "vier": 4,
    "vijf": 5,
    "zes": 6,
    "zeven": 7,
    "acht": 8,
    "negen": 9,
    "tien": 10,
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
MONTHS = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
    "|january|february|march|may|june|july|august|october"
    "|jan|feb|mrt|mar|apr|jun|jul|aug|sept|sep|okt|oct|nov|dec"
)
# Days with a name: (month, day).
HOLIDAYS = {
    "kerst": (12, 25),
    "kerstmis": (12, 25),
    "eerste kerstdag": (12, 25),
    "kerstavond": (12, 24),
    "christmas": (12, 25),
    "christmas day": (12, 25),
    "christmas eve": (12, 24),
    "sinterklaas": (12, 5),
    "pakjesavond": (12, 5),
    "oudejaarsavond": (12, 31),
    "oud en nieuw": (12, 31),
    "new year's eve": (12, 31),
    "valentijnsdag": (2, 14),
    "valentine's day": (2, 14),
}

# Words before the date: the day before ("voor", "before"), or the day itself.
_BEFORE = r"(?P<before>voor|before|prior to)\s+"
_BY = r"(?:uiterlijk|ten laatste|op|by|on|no later than|not later than|at the latest)\s+"
_MARKER = rf"(?:{_BEFORE}|{_BY})?"
_NUMBER = r"(?P<n>\d{1,2}|" + "|".join(k for k in NUMBERS if not k.isdigit()) + ")"
_WEEKDAY = "(?P<weekday>" + "|".join(WEEKDAYS) + ")"


def _weekday(n: int) -> str:
    return _WEEKDAY.replace("?P<weekday>", f"?P<weekday{n}>")


_HOLIDAY = "(?P<holiday>" + "|".join(sorted(map(re.escape, HOLIDAYS), key=len, reverse=True)) + ")"

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rf"\b{_MARKER}{pattern}\b"))
    for kind, pattern in (
        (
            "written",
            rf"(?P<date>\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[/.-]\d{{1,2}}(?:[/.-]\d{{2,4}})?"
            rf"|(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th|e|de|ste)?(?:\s+of)?\s+(?:{MONTHS})\.?(?:\s+\d{{4}})?"
            rf"|(?:{MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?)",
        ),
        ("holiday", _HOLIDAY),
        ("day_after_tomorrow", r"(?:overmorgen|(?:the\s+)?day after tomorrow)"),
        ("today", r"(?:vandaag|vanavond|today|tonight)"),
        ("tomorrow", r"(?:morgen|tomorrow)"),
        (
            "next_week_day",
            rf"(?:(?:volgende|komende) week {_weekday(1)}|next week {_weekday(2)}"
            rf"|{_weekday(3)} (?:volgende|komende|next) week)",
        ),
        (
            "count",
            rf"(?:over|in|binnen|within)\s+{_NUMBER}\s+(?P<unit>dagen|dag|days?|weken|week|weeks)",
        ),
        ("weekday", rf"(?:(?:deze|aanstaande|komende|this|next|coming)\s+)?{_WEEKDAY}"),
        ("day_of_month", r"(?:the|de)\s+(?P<dom>\d{1,2})(?:st|nd|rd|th|e|de|ste)"),
    )
)

# What the deadline is for: "voor mijn bruiloft", "for our wedding".
_PURPOSE = re.compile(
    r"\b(?:voor|for)\s+(?:mijn|m'n|mn|onze|ons|de|het|een|my|our|the|a|an)\s+(?P<what>[a-z][a-z'-]{2,30})"
)


@dataclass(frozen=True)
class ParsedDeadline:
    day: date  # the last day the customer can have the order (end of that day)
    phrase: str  # the words it was read from
    before: bool  # "voor vrijdag": the day before the named day
    purpose: str | None  # "bruiloft", "wedding", or None


def normalize(text: str) -> str:
    """Lower case, accents off ("vóór" is "voor"), curly quotes straight."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_deadline(text: str, today: date, language: str = "nl") -> ParsedDeadline | None:
    """The first date phrase in `text`, as a deadline; None when there is none."""
    lowered = normalize(text)[:500]
    found: list[tuple[int, str, re.Match[str]]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(lowered):
            found.append((match.start(), kind, match))
    # Earliest in the sentence first; at the same place, the longer phrase.
    found.sort(key=lambda item: (item[0], -(item[2].end() - item[2].start())))
    for _start, kind, match in found:
        day = _resolve(kind, match, today, language)
        if day is None:
            continue
        before = bool(match.group("before"))
        deadline = day - timedelta(days=1) if before else day
        return ParsedDeadline(
            day=deadline,
            phrase=match.group(0).strip(),
            before=before,
            purpose=_purpose(lowered, match),
        )
    return None


def _resolve(kind: str, match: re.Match[str], today: date, language: str) -> date | None:
    groups = match.groupdict()
    if kind == "today":
        return today
    if kind == "tomorrow":
        return today + timedelta(days=1)
    if kind == "day_after_tomorrow":
        return today + timedelta(days=2)
    if kind == "weekday":
        return next_weekday(today, WEEKDAYS[groups["weekday"]])
    if kind == "next_week_day":
        weekday = WEEKDAYS[next(g for g in _weekday_groups(match) if g)]
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return monday + timedelta(days=weekday)
    if kind == "count":
        n = int(groups["n"]) if groups["n"].isdigit() else NUMBERS[groups["n"]]
        return today + timedelta(days=n * (7 if groups["unit"].startswith("we") else 1))
    if kind == "day_of_month":
        return _next_day_of_month(today, int(groups["dom"]))
    if kind == "holiday":
        month, day = HOLIDAYS[groups["holiday"]]
        return _this_or_next_year(today, month, day)
    if kind == "written":
        return _written_date(groups["date"], today, language)
    return None


def _weekday_groups(match: re.Match[str]) -> list[str | None]:
    return [value for name, value in match.groupdict().items() if name.startswith("weekday")]


def next_weekday(today: date, weekday: int) -> date:
    """The first such weekday after today (a week ahead when today is that day)."""
    ahead = (weekday - today.weekday()) % 7 or 7
    return today + timedelta(days=ahead)


def _next_day_of_month(today: date, dom: int) -> date | None:
    if not 1 <= dom <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, dom)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _this_or_next_year(today: date, month: int, day: int) -> date:
    candidate = date(today.year, month, day)
    return candidate if candidate >= today else date(today.year + 1, month, day)


def _written_date(phrase: str, today: date, language: str) -> date | None:
    """A written date, by dateparser; without a year, this year's or next year's."""
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", phrase)
    if iso:
        try:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            return None
    import dateparser  # lazy: a quarter of a second to import, needed only here

    cleaned = re.sub(r"^the\s+|\s+of\s+", " ", phrase).strip()
    cleaned = re.sub(r"(\d)(st|nd|rd|th|ste|de|e)\b", r"\1", cleaned)
    languages = [language, "en" if language == "nl" else "nl"]
    parsed = dateparser.parse(
        cleaned,
        languages=languages,
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DAY_OF_MONTH": "first",
            "RELATIVE_BASE": datetime(today.year, today.month, today.day),
            "REQUIRE_PARTS": ["day", "month"],
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    if parsed is None:
        return None
    day = parsed.date()
    has_year = re.search(r"\d{4}|[/.-]\d{2,4}$", cleaned) is not None
    if not has_year:
        day = _this_or_next_year(today, day.month, day.day)
    return day


def _purpose(lowered: str, date_match: re.Match[str]) -> str | None:
    for match in _PURPOSE.finditer(lowered):
        what = match.group("what")
        if date_match.start() <= match.start() < date_match.end():
            continue  # "voor vrijdag" is the date, not what it is for
        if what in WEEKDAYS or what in NUMBERS or re.fullmatch(MONTHS, what):
            continue
        return what
    return None
