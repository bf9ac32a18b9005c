"""When a person can answer: the shop's service hours, in its time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class ServiceHours:
    days: frozenset[int]  # 0 = Monday
    start: int  # hour, shop time
    end: int  # hour, shop time (exclusive)
    time_zone: str

    def is_open(self, now_utc: datetime) -> bool:
        local = _local(now_utc, self.time_zone)
        return local.weekday() in self.days and self.start <= local.hour < self.end

    def next_opening(self, now_utc: datetime) -> datetime:
        """The next moment a person is there (now, when open), in UTC without tzinfo."""
        if self.is_open(now_utc):
            return now_utc
        local = _local(now_utc, self.time_zone)
        for days_ahead in range(8):
            day = (local + timedelta(days=days_ahead)).date()
            opening = datetime(day.year, day.month, day.day, self.start, tzinfo=local.tzinfo)
            if day.weekday() in self.days and opening > local:
                return opening.astimezone(timezone.utc).replace(tzinfo=None)
        raise ValueError("service hours have no opening day")

    def answer_window(self, now_utc: datetime, minutes: int) -> tuple[datetime, datetime]:
        """(when a person is in, by when they answer): a promise we can keep. Too
        close to closing time for `minutes` more, the answer comes after the next
        opening rather than after hours."""
        opening = self.next_opening(now_utc)
        answer_by = opening + timedelta(minutes=minutes)
        if opening == now_utc and not self.is_open(answer_by - timedelta(seconds=1)):
            local = _local(now_utc, self.time_zone)
            closing = local.replace(hour=self.end % 24, minute=0, second=0, microsecond=0)
            if self.end == 24:
                closing = closing + timedelta(days=1)
            opening = self.next_opening(closing.astimezone(timezone.utc).replace(tzinfo=None))
            answer_by = opening + timedelta(minutes=minutes)
        return opening, answer_by


def _local(now_utc: datetime, time_zone: str) -> datetime:
    return now_utc.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(time_zone))


def parse_days(text: str) -> frozenset[int]:
    """'mon-fri' or 'mon,tue,sat' into weekday numbers."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(f"unknown day in {text!r}: use mon, tue, wed, thu, fri, sat, sun")
        start, stop = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        days.update(
            range(start, stop + 1) if start <= stop else [*range(start, 7), *range(stop + 1)]
        )
    if not days:
        raise ValueError("no service days")
    return frozenset(days)
