"""Counting customers' questions: which intent, which day, which language.

Nothing else is kept: not the text, not the sender id, not the metadata. The
counts are added to the database with an upsert (`count = count + n`), so
several Rasa instances can count into the same rows.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot.language import detect_language
from bot.memory.question_counts import UNKNOWN_LANGUAGE, QuestionCountRow

# A question is counted under this key.
QuestionKey = tuple[date, str, str]  # (shop day, intent, language)

# Rasa writes pushed intents (trigger_intent) as "EXTERNAL: <intent>".
_EXTERNAL_PREFIX = "EXTERNAL: "
LANGUAGES = ("nl", "en")


def question_key(event: Mapping[str, Any], timezone_name: str) -> QuestionKey | None:
    """The key a Rasa event is counted under; None for anything but a question
    a customer typed (bot turns, pushed warnings, buttons' and the widget's
    "/payload" messages)."""
    if event.get("event") != "user":
        return None
    text = event.get("text")
    if not isinstance(text, str) or not text.strip():
        return None
    metadata = event.get("metadata") or {}
    if text.startswith("/") or text.startswith(_EXTERNAL_PREFIX):
        return None
    if isinstance(metadata, Mapping) and metadata.get("is_external"):
        return None
    parse_data = event.get("parse_data") or {}
    intent = (parse_data.get("intent") or {}).get("name") if isinstance(parse_data, dict) else None
    if not isinstance(intent, str) or not intent:
        return None
    return (_shop_day(event.get("timestamp"), timezone_name), intent[:100], _language(text))


def _shop_day(timestamp: object, timezone_name: str) -> date:
    moment = (
        datetime.fromtimestamp(float(timestamp), tz=timezone.utc)
        if isinstance(timestamp, (int, float))
        else datetime.now(timezone.utc)
    )
    return moment.astimezone(ZoneInfo(timezone_name)).date()


def _language(text: str) -> str:
    return detect_language(text) or UNKNOWN_LANGUAGE


class QuestionTally:
    """Counts in memory, safe to use from the event loop and a flushing thread."""

    def __init__(self) -> None:
        self._counts: Counter[QuestionKey] = Counter()
        self._lock = threading.Lock()

    def add(self, key: QuestionKey, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def take(self) -> Counter[QuestionKey]:
        """Everything counted so far; the tally starts again from zero."""
        with self._lock:
            taken, self._counts = self._counts, Counter()
        return taken

    def give_back(self, counts: Mapping[QuestionKey, int]) -> None:
        """Counts a failed flush could not write: they go out with the next one."""
        with self._lock:
            self._counts.update(counts)

    def pending(self) -> int:
        with self._lock:
            return sum(self._counts.values())


def add_question_counts(engine: Engine, counts: Mapping[QuestionKey, int]) -> None:
    """Add `counts` to the stored ones in one transaction: insert a new row, or
    `count = count + n` where another instance already wrote it."""
    rows = [
        {"day": day, "intent": intent, "language": language, "count": n}
        for (day, intent, language), n in sorted(counts.items())  # one lock order
        if n > 0
    ]
    if not rows:
        return
    insert = _dialect_insert(engine.dialect.name)
    table = QuestionCountRow.__table__
    statement = insert(table).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.day, table.c.intent, table.c.language],
        set_={"count": table.c.count + statement.excluded["count"]},
    )
    with engine.begin() as connection:
        connection.execute(statement)


def _dialect_insert(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise ValueError(f"question counts need SQLite or PostgreSQL, not {dialect}")
