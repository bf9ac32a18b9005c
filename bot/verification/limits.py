"""Limits on failed verifications, across conversations.

Order numbers are sequential, and a new sender id (or `/restart`) starts a
conversation's own count over, so the conversation alone cannot stop anyone
from trying postcodes on order after order. Here every failure is a row in the
database, per subject:
- the order number (whether or not such an order exists: a lock must not tell),
- the client: its network address (set by the REST and socket.io channels, kept
  only as a keyed hash), or on a messaging platform the platform's sender.

After `failures` failures of one subject within `window`, that subject's
verification is refused for `lock`. A verification first reserves its rows and
only then looks at the others' (concurrent attempts each see those that began
before them), so a burst of parallel guesses gets no more tries than a slow one;
a success or an attempt that could not be checked takes back only its own rows,
never another client's.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bot.memory.verification import VerificationFailureRow
from bot.settings import Settings

logger = logging.getLogger(__name__)

# How many rows of one subject are read at most (a lock needs `failures` of them).
_READ_AT_MOST = 10_000
# Rows past every window and lock are deleted at most this often per process.
_CLEANUP_EVERY_SECONDS = 60.0
_last_cleanup = 0.0


@dataclass(frozen=True)
class Limit:
    failures: int
    window: timedelta
    lock: timedelta

    @property
    def horizon(self) -> timedelta:
        """How far back a failure can still matter."""
        return self.window + self.lock

    def locks(self, failed_at: Iterable[datetime], now: datetime) -> bool:
        """Whether failures at these moments lock their subject now: one of the
        last `lock` was the `failures`-th within `window`."""
        ordered = sorted(failed_at)
        for moment in ordered:
            if moment <= now - self.lock:
                continue
            within = bisect_right(ordered, moment) - bisect_right(ordered, moment - self.window)
            if within >= self.failures:
                return True
        return False


@dataclass(frozen=True)
class Subject:
    key: str  # "order:10003" or "client:<keyed hash>"
    limit: Limit


def order_subject(order_id: int, limit: Limit) -> Subject:
    return Subject(f"order:{order_id}", limit)


def client_subject(client: str, secret: str, limit: Limit) -> Subject:
    """A client by a keyed hash of its address: the table holds no address."""
    digest = hmac.new(
        secret.encode(), f"verification-client:{client}".encode(), hashlib.sha256
    ).hexdigest()
    return Subject(f"client:{digest}", limit)


def subjects_for(settings: Settings, order_id: int, client: str | None) -> list[Subject]:
    """What one verification counts against: the order number, and the client
    when known. Both with VERIFICATION_LOCK_FAILURES / _MINUTES' window and lock."""
    minutes = timedelta(minutes=settings.verification_lock_minutes)
    found = [order_subject(order_id, Limit(settings.verification_lock_failures, minutes, minutes))]
    if client:
        limit = Limit(settings.verification_client_lock_failures, minutes, minutes)
        found.append(client_subject(client, settings.proof_secret, limit))
    return found


@dataclass(frozen=True)
class Attempt:
    """A verification under way: its rows count as failures until taken back."""

    row_ids: tuple[int, ...]


class VerificationLimits:
    """Counts failures and refuses locked subjects, over one database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def is_locked(self, subjects: Sequence[Subject], now: datetime) -> bool:
        with self._sessions() as session:
            return any(self._locked(session, subject, now, ()) for subject in subjects)

    def begin(self, subjects: Sequence[Subject], now: datetime) -> Attempt | None:
        """Reserve a failure per subject, then look: None (and nothing kept) when
        any subject is locked; else the attempt, a failure unless taken back."""
        self._clean_up(subjects, now)
        with self._sessions() as session, session.begin():
            rows = [VerificationFailureRow(subject=s.key, failed_at=now) for s in subjects]
            session.add_all(rows)
            session.flush()
            attempt = Attempt(tuple(int(row.id) for row in rows))
        with self._sessions() as session:
            locked = any(self._locked(session, s, now, attempt.row_ids) for s in subjects)
        if locked:
            self.take_back(attempt)
            return None
        return attempt

    def take_back(self, attempt: Attempt) -> None:
        """The attempt succeeded or could not be checked: it was no failure."""
        with self._sessions() as session, session.begin():
            session.execute(
                delete(VerificationFailureRow).where(VerificationFailureRow.id.in_(attempt.row_ids))
            )

    def failures(self, subject: Subject, now: datetime) -> int:
        """Failures of this subject within its window (for tests and the log)."""
        since = now - subject.limit.window
        with self._sessions() as session:
            return sum(1 for moment in self._recent(session, subject, now, ()) if moment > since)

    def _recent(
        self, session: Session, subject: Subject, now: datetime, exclude: tuple[int, ...]
    ) -> list[datetime]:
        query = select(VerificationFailureRow.failed_at).where(
            VerificationFailureRow.subject == subject.key,
            VerificationFailureRow.failed_at > now - subject.limit.horizon,
        )
        if exclude:
            query = query.where(VerificationFailureRow.id.not_in(exclude))
        query = query.order_by(VerificationFailureRow.failed_at.desc()).limit(_READ_AT_MOST)
        return list(session.execute(query).scalars())

    def _locked(
        self, session: Session, subject: Subject, now: datetime, exclude: tuple[int, ...]
    ) -> bool:
        return subject.limit.locks(self._recent(session, subject, now, exclude), now)

    def _clean_up(self, subjects: Sequence[Subject], now: datetime) -> None:
        global _last_cleanup
        if not subjects or time.monotonic() - _last_cleanup < _CLEANUP_EVERY_SECONDS:
            return
        _last_cleanup = time.monotonic()
        forget_old(self._sessions, now - max(s.limit.horizon for s in subjects))


def forget_old(sessions: sessionmaker[Session], before: datetime) -> int:
    """Delete failures older than `before` (past every window and lock).
    Returns how many went; 0 when the database was busy (the next one tries again)."""
    try:
        with sessions() as session, session.begin():
            result = session.execute(
                delete(VerificationFailureRow).where(VerificationFailureRow.failed_at < before)
            )
            return int(getattr(result, "rowcount", 0) or 0)
    except DBAPIError as error:
        logger.info("old verification failures kept for now: %s", type(error).__name__)
        return 0
