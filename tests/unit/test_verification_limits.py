"""When failed verifications lock their subject: the rule alone, no database."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.verification.limits import Limit, client_subject, order_subject

T0 = datetime(2026, 11, 27, 10, 0)
LIMIT = Limit(failures=10, window=timedelta(minutes=15), lock=timedelta(minutes=15))


def minutes(*offsets: float) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in offsets]


def test_ten_failures_within_the_window_lock_for_fifteen_minutes() -> None:
    failures = minutes(*[0] * 10)
    assert not LIMIT.locks(failures[:9], T0)
    assert LIMIT.locks(failures, T0)
    assert LIMIT.locks(failures, T0 + timedelta(minutes=14, seconds=59))
    assert not LIMIT.locks(failures, T0 + timedelta(minutes=15))


def test_the_lock_runs_from_the_failure_that_set_it_not_from_the_first() -> None:
    """Ten failures over nine minutes: a sliding window would open again after
    fifteen minutes from the first; the lock lasts fifteen from the tenth."""
    failures = minutes(*range(10))
    assert LIMIT.locks(failures, T0 + timedelta(minutes=20))
    assert not LIMIT.locks(failures, T0 + timedelta(minutes=24, seconds=1))


def test_failures_spread_wider_than_the_window_do_not_lock() -> None:
    failures = minutes(*[m * 2 for m in range(10)])  # ten over eighteen minutes
    assert not LIMIT.locks(failures, T0 + timedelta(minutes=18))


def test_a_client_is_kept_only_as_a_keyed_hash() -> None:
    subject = client_subject("address:203.0.113.7", "secret-a", LIMIT)
    assert "203.0.113.7" not in subject.key and subject.key.startswith("client:")
    assert subject == client_subject("address:203.0.113.7", "secret-a", LIMIT)
    assert subject.key != client_subject("address:203.0.113.7", "secret-b", LIMIT).key
    assert order_subject(10003, LIMIT).key == "order:10003"
