"""The notifier's rules for outages: the retry schedule of a warning, which
errors mean the database is away, and the pause of the loop meanwhile."""

from __future__ import annotations

import os
import random
from datetime import timedelta

import psycopg2
import pytest
from sqlalchemy import exc

from bot.database import database_unreachable
from bot.proactive.notifier import backoff, shortest_retry_span
from bot.proactive.outage import Pacing, describe
from bot.settings import Settings, load_settings


class Jitter(random.Random):
    """The jitter always at one end."""

    def __init__(self, end: str) -> None:
        super().__init__()
        self.end = end

    def uniform(self, a: float, b: float) -> float:
        return a if self.end == "low" else b


@pytest.fixture
def shipped(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings as shipped: nothing of the notifier's from this environment."""
    for name in list(os.environ):
        if name.startswith("NOTIFIER_"):
            monkeypatch.delenv(name)
    return load_settings()


@pytest.mark.parametrize("rng", [Jitter("low"), Jitter("high"), random.Random(14)])
def test_the_shipped_retry_schedule_outlasts_rasa_away_for_an_hour(
    shipped: Settings, rng: random.Random
) -> None:
    """A warning goes dead at its last try: the waits between the tries must
    add up to an hour at least, whatever the jitter, none longer than the cap."""
    cap = shipped.notifier_max_backoff_seconds
    waits = [
        backoff(attempt, shipped.notifier_backoff_seconds, rng, cap)
        for attempt in range(1, shipped.notifier_max_attempts)  # after the last: dead
    ]
    assert sum(waits, timedelta()) >= timedelta(hours=1)
    assert all(wait <= timedelta(seconds=cap) for wait in waits)
    assert (shipped.notifier_backoff_seconds, cap) == (2.0, 600.0)
    assert waits[0] <= timedelta(seconds=2) and waits[-1] >= timedelta(seconds=cap * 0.8)


def test_the_shortest_span_is_the_schedule_with_the_least_jitter(shipped: Settings) -> None:
    span = shortest_retry_span(
        shipped.notifier_max_attempts,
        shipped.notifier_backoff_seconds,
        shipped.notifier_max_backoff_seconds,
    )
    assert span >= timedelta(hours=1)
    low = Jitter("low")
    assert span == sum(
        (backoff(n, 2.0, low, 600.0) for n in range(1, shipped.notifier_max_attempts)),
        timedelta(),
    )
    # The old schedule (8 tries, full jitter, no cap below an hour) gave up in minutes.
    assert shortest_retry_span(8, 2.0, 3600.0) < timedelta(minutes=5)


def test_an_attempt_far_beyond_the_schedule_waits_the_cap_not_an_overflow() -> None:
    assert backoff(5000, 2.0, Jitter("high"), 600.0) == timedelta(seconds=600)


def refused() -> psycopg2.OperationalError:
    return psycopg2.OperationalError(
        'connection to server at "127.0.0.1", port 5432 failed: Connection refused\n'
        "\tIs the server running on that host and accepting TCP/IP connections?"
    )


STATEMENT = "SELECT * FROM customers WHERE email = %(email)s"
PARAMS = {"email": "erik@example.nl"}


def test_connection_errors_mean_the_database_is_away_other_errors_do_not() -> None:
    away = [
        exc.OperationalError(STATEMENT, PARAMS, refused()),
        exc.InterfaceError(STATEMENT, PARAMS, psycopg2.InterfaceError("connection already closed")),
        exc.DBAPIError(STATEMENT, PARAMS, Exception("lost"), connection_invalidated=True),
        exc.DisconnectionError("gone"),
        exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
        refused(),
    ]
    assert all(database_unreachable(error) for error in away)
    not_away = [
        exc.ProgrammingError(STATEMENT, PARAMS, Exception('relation "customers" does not exist')),
        exc.IntegrityError(STATEMENT, PARAMS, Exception("duplicate key")),
        ValueError("a bug"),
        KeyError("warning_id"),
    ]
    assert not any(database_unreachable(error) for error in not_away)


def test_an_outage_is_told_in_one_line_without_the_statement_or_its_values() -> None:
    line = describe(exc.OperationalError(STATEMENT, PARAMS, refused()))
    assert line == (
        'OperationalError: connection to server at "127.0.0.1", port 5432 failed: '
        "Connection refused"
    )
    assert "\n" not in line and "erik" not in line and "SELECT" not in line
    assert describe(exc.TimeoutError("QueuePool limit reached\nmore")) == (
        "TimeoutError: QueuePool limit reached"
    )


def test_the_pause_doubles_to_its_cap_and_starts_over_once_it_worked() -> None:
    pacing = Pacing(1.0, 30.0)
    assert [pacing.failed() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert pacing.worked() == 7
    assert pacing.failed() == 1
    assert pacing.worked() == 1 and pacing.worked() == 0
