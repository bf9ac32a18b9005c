"""The staff dashboard's figures, counted by the database (GROUP BY), one query each.

Plain SQLAlchemy over a session factory, no web framework: the web service
calls `dashboard_figures()` in a thread. With a million orders the order
changes are read from the partial index `ix_order_events_changes` alone; the
other tables are small or grouped by an indexed column.

Days of order changes are UTC days (as the events are stored); days of
questions are the shop's days (the question counter writes them so).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.memory.changes import CHANGE_EVENTS_SQL, OrderEventRow
from bot.memory.customers import OptOutRow
from bot.memory.promises import PromiseRow
from bot.memory.question_counts import QuestionCountRow
from bot.memory.warnings import WarningRow

NO_REASON = ""  # a change the order system recorded without a reason code
OTHER_SUPPLIERS = "*other*"
MAX_SUPPLIERS = 8
WARNING_STATUSES = ("queued", "sending", "sent", "unread", "dead", "suppressed")
PROMISE_STATUSES = ("open", "kept", "renewed", "broken", "ended")


@dataclass(frozen=True)
class DashboardFigures:
    weeks: list[date]  # the Monday of each week, oldest first
    changes_by_reason: dict[str, list[int]]  # reason code ("" = none recorded) -> per week
    changes_by_supplier: dict[str, list[int]]  # supplier name (or OTHER_SUPPLIERS) -> per week
    warnings_by_status: dict[str, int]  # every outbox status, 0 when none
    warnings_shown: int  # delivered_at set: the assistant showed it in the conversation
    customers_opted_out: int
    promises: dict[str, dict[str, int]]  # kind -> status -> count
    questions: list[tuple[str, int, int, int]]  # (intent, total, nl, en), most asked first


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def recent_weeks(today: date, weeks: int) -> list[date]:
    """The Mondays of the last `weeks` weeks, this one included, oldest first."""
    this_week = week_start(today)
    return [this_week - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def as_date(value: object) -> date:
    """SQLite's date() gives text, PostgreSQL's a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def per_week(
    rows: Iterable[tuple[object, str | None, int]], weeks: list[date]
) -> dict[str, list[int]]:
    """(day, key, count) rows into a count per key per week; days outside `weeks` are left out."""
    index = {monday: position for position, monday in enumerate(weeks)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(weeks))
    for day, key, count in rows:
        position = index.get(week_start(as_date(day)))
        if position is not None:
            series[key or NO_REASON][position] += int(count)
    return dict(sorted(series.items(), key=lambda item: (-sum(item[1]), item[0])))


def keep_largest(series: dict[str, list[int]], limit: int, other: str) -> dict[str, list[int]]:
    """The `limit` largest series by total; the rest summed as `other`."""
    ranked = sorted(series.items(), key=lambda item: (-sum(item[1]), item[0]))
    kept = dict(ranked[:limit])
    rest = [values for _, values in ranked[limit:]]
    if rest:
        kept[other] = [sum(column) for column in zip(*rest, strict=True)]
    return kept


def _since(weeks: list[date]) -> datetime:
    return datetime.combine(weeks[0], time.min)


def changes_by_reason(session: Session, weeks: list[date]) -> dict[str, list[int]]:
    day = func.date(OrderEventRow.occurred_at)
    rows = session.execute(
        select(day, OrderEventRow.reason_code, func.count())
        .where(text(f"({CHANGE_EVENTS_SQL})"))
        .where(OrderEventRow.occurred_at >= _since(weeks))
        .group_by(day, OrderEventRow.reason_code)
    ).all()
    return per_week(((d, r, n) for d, r, n in rows), weeks)


def changes_by_supplier(session: Session, weeks: list[date]) -> dict[str, list[int]]:
    """Changes caused by a supplier (the intake records party_type 'supplier')."""
    day = func.date(OrderEventRow.occurred_at)
    rows = session.execute(
        select(day, OrderEventRow.party_name, func.count())
        .where(text(f"({CHANGE_EVENTS_SQL})"))
        .where(OrderEventRow.occurred_at >= _since(weeks))
        .where(OrderEventRow.party_type == "supplier")
        .group_by(day, OrderEventRow.party_name)
    ).all()
    named = per_week(((d, name or "?", n) for d, name, n in rows), weeks)
    return keep_largest(named, MAX_SUPPLIERS, OTHER_SUPPLIERS)


def warnings_by_status(session: Session) -> tuple[dict[str, int], int]:
    """Every warning by outbox status, and how many the assistant showed."""
    rows = session.execute(
        select(WarningRow.status, func.count(), func.count(WarningRow.delivered_at)).group_by(
            WarningRow.status
        )
    ).all()
    found = {status: 0 for status in WARNING_STATUSES}
    shown = 0
    for status, count, delivered in rows:
        found[str(status)] = int(count)
        shown += int(delivered)
    return found, shown


def customers_opted_out(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(OptOutRow)).scalar_one())


def promises_by_kind(session: Session) -> dict[str, dict[str, int]]:
    rows = session.execute(
        select(PromiseRow.kind, PromiseRow.status, func.count()).group_by(
            PromiseRow.kind, PromiseRow.status
        )
    ).all()
    found: dict[str, dict[str, int]] = {}
    for kind, status, count in rows:
        found.setdefault(str(kind), {s: 0 for s in PROMISE_STATUSES})[str(status)] = int(count)
    return dict(sorted(found.items()))


def top_questions(
    session: Session, since: date, limit: int = 15
) -> list[tuple[str, int, int, int]]:
    """The intents customers asked most since `since`: (intent, total, in Dutch, in English)."""
    total = func.sum(QuestionCountRow.count)
    rows = session.execute(
        select(QuestionCountRow.intent, QuestionCountRow.language, total)
        .where(QuestionCountRow.day >= since)
        .group_by(QuestionCountRow.intent, QuestionCountRow.language)
    ).all()
    by_intent: dict[str, dict[str, int]] = defaultdict(dict)
    for intent, language, count in rows:
        by_intent[str(intent)][str(language)] = int(count or 0)
    ranked = sorted(
        (
            (intent, sum(c.values()), c.get("nl", 0), c.get("en", 0))
            for intent, c in by_intent.items()
        ),
        key=lambda row: (-row[1], row[0]),
    )
    return ranked[:limit]


def dashboard_figures(
    session_factory: sessionmaker[Session], today: date, weeks: int = 12
) -> DashboardFigures:
    """Every figure of the dashboard, for the last `weeks` weeks where it has a time."""
    mondays = recent_weeks(today, weeks)
    with session_factory() as session:
        warnings, shown = warnings_by_status(session)
        return DashboardFigures(
            weeks=mondays,
            changes_by_reason=changes_by_reason(session, mondays),
            changes_by_supplier=changes_by_supplier(session, mondays),
            warnings_by_status=warnings,
            warnings_shown=shown,
            customers_opted_out=customers_opted_out(session),
            promises=promises_by_kind(session),
            questions=top_questions(session, mondays[0]),
        )
