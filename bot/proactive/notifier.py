"""The notifier: takes queued warnings and has the assistant speak them.

At least once to Rasa, exactly once to the customer: the assistant marks a
warning delivered when it shows it and shows nothing for a warning already
delivered, so a worker that dies after sending and before marking 'sent'
only causes a harmless second call. Rasa down: retries with exponential
backoff and jitter, capped, over at least an hour with the default settings
(`shortest_retry_span`), then 'dead', visible and retryable by hand.
The database away: what was decided about a warning is kept in memory and
written first when it is back, so nothing pushed is pushed again for it.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.database import database_unreachable
from bot.memory.customers import OptOutRow
from bot.memory.warnings import WarningRow, WorkerLeaseRow
from bot.proactive.channels import PUSH_CHANNELS, Reach, reachable
from bot.proactive.direct import DirectSender
from bot.proactive.rasa_api import PushFailed, RasaApi

logger = logging.getLogger(__name__)

SQLITE_LEASE_NAME = "notifier"


class AnotherNotifierRuns(RuntimeError):
    pass


@dataclass(frozen=True)
class QuietHours:
    start: int
    end: int
    timezone: str

    def active(self, now_utc: datetime) -> bool:
        if self.start == self.end:
            return False
        hour = now_utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(self.timezone)).hour
        if self.start < self.end:
            return self.start <= hour < self.end
        return hour >= self.start or hour < self.end


@dataclass(frozen=True)
class Plan:
    """One claimed warning and what to do with it."""

    warning_id: int
    customer_id: int
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What became of a claimed warning, as its row will say."""

    plan: Plan
    status: str  # sent, unread, suppressed; queued or dead after a failure; queued given back
    at: datetime
    channel: str | None = None
    address: str | None = None
    attempts: int | None = None  # set after a failed try
    error: str | None = None
    next_attempt_at: datetime | None = None

    @property
    def failed(self) -> bool:
        return self.attempts is not None

    def values(self) -> dict[str, object]:
        if self.failed:
            return {
                "status": self.status,
                "attempts": self.attempts,
                "lease_until": None,
                "last_error": (self.error or "")[:500],
                "next_attempt_at": self.next_attempt_at,
            }
        if self.status == "queued":  # given back untried: the database was away
            return {"status": "queued", "lease_until": None}
        return {
            "status": self.status,
            "lease_until": None,
            "channel": self.channel,
            "address": self.address,
            "sent_at": self.at if self.status == "sent" else None,
            "last_error": None,
        }


def holder_is_gone(holder: str) -> bool:
    """A lease holder on this machine whose process no longer exists (it crashed;
    its successor need not wait for the lease to run out)."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# The longest wait between two tries of a warning (NOTIFIER_MAX_BACKOFF_SECONDS).
MAX_BACKOFF_SECONDS = 600.0
# Each wait is drawn between (1 - JITTER) and all of its step, so that warnings
# failed together do not all come back in the same second. Small enough that
# the shortest schedule still spans the hour (16 tries from 2 s, capped at
# 600 s: at least 3698 s), which full jitter (half the step) would not.
JITTER = 0.2


def backoff(
    attempt: int, base: float, rng: random.Random, cap: float = MAX_BACKOFF_SECONDS
) -> timedelta:
    """The wait after failed try `attempt`: `base` doubling per try, capped at
    `cap`, with jitter below the step (never above the cap)."""
    step = min(base * 2.0 ** min(max(0, attempt - 1), 64), cap)
    return timedelta(seconds=step * rng.uniform(1.0 - JITTER, 1.0))


class _LowestJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return a


def shortest_retry_span(max_attempts: int, base: float, cap: float) -> timedelta:
    """The least time from a warning's first try to its last (`max_attempts`
    tries, the jitter at its low end): how long Rasa may be away before a
    warning can go dead."""
    low = _LowestJitter()
    return sum((backoff(n, base, low, cap) for n in range(1, max_attempts)), timedelta())


class Notifier:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        rasa: RasaApi,
        quiet: QuietHours,
        batch: int = 50,
        max_attempts: int = 16,
        backoff_seconds: float = 2.0,
        worker_id: str | None = None,
        lease_seconds: float = 60.0,
        concurrency: int = 4,
        channels: tuple[str, ...] = PUSH_CHANNELS,
        max_backoff_seconds: float = MAX_BACKOFF_SECONDS,
        clock: Callable[[], datetime] = utcnow,
        direct: DirectSender | None = None,
    ) -> None:
        self.sessions = session_factory
        self.rasa = rasa
        # Sends what needs no Rasa turn itself (bot/proactive/direct.py).
        self.direct = direct
        self.channels = channels  # the push channels Rasa is set up with
        self.quiet = quiet
        self.batch = batch
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.clock = clock  # naive UTC now; tests pass a fake one
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        # How long a claimed warning stays with this worker; after a crash the
        # warnings return to the queue when it runs out.
        self.lease = timedelta(seconds=lease_seconds)
        self.rng = random.Random()
        # Pushes in flight at once: Rasa handles conversations in parallel.
        self.pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
        self._lease_until: datetime | None = None  # this worker's SQLite lease
        # Outcomes not yet written because the database was away: written
        # first when it is back (a push is never repeated for want of its record).
        self._unrecorded: list[Outcome] = []
        self._lock = threading.Lock()
        self.failed_in_round = 0  # pushes Rasa did not take in the latest round
        bind = session_factory.kw.get("bind")
        self.is_sqlite = bind is not None and bind.dialect.name == "sqlite"

    # --- one worker on SQLite ---------------------------------------------

    def hold_lease(self, now: datetime) -> None:
        """On SQLite there is no SKIP LOCKED: a second notifier refuses to run.
        Renewed when half the lease is gone, not on every poll."""
        if not self.is_sqlite:
            return
        if self._lease_until is not None and now < self._lease_until - self.lease / 2:
            return
        with self.sessions() as session, session.begin():
            lease = session.get(WorkerLeaseRow, SQLITE_LEASE_NAME)
            if lease is None:
                session.add(
                    WorkerLeaseRow(
                        name=SQLITE_LEASE_NAME, holder=self.worker_id, expires_at=now + self.lease
                    )
                )
            elif (
                lease.holder == self.worker_id
                or lease.expires_at < now
                or holder_is_gone(lease.holder)
            ):
                lease.holder, lease.expires_at = self.worker_id, now + self.lease
            else:
                self._lease_until = None
                raise AnotherNotifierRuns(
                    f"another notifier ({lease.holder}) runs on this SQLite database; "
                    "only one may (PostgreSQL allows several)"
                )
        self._lease_until = now + self.lease

    def release_lease(self) -> None:
        self._lease_until = None
        if not self.is_sqlite:
            return
        with self.sessions() as session, session.begin():
            lease = session.get(WorkerLeaseRow, SQLITE_LEASE_NAME)
            if lease is not None and lease.holder == self.worker_id:
                session.delete(lease)

    # --- claiming and delivering ---------------------------------------------

    def claim(self, now: datetime) -> list[Plan]:
        """Take up to `batch` due warnings; a crashed worker's lease runs out and they return."""
        with self.sessions() as session, session.begin():
            query = (
                select(WarningRow)
                .where(WarningRow.status.in_(("queued", "sending")))
                .where(WarningRow.next_attempt_at <= now)
                .where(or_(WarningRow.lease_until.is_(None), WarningRow.lease_until < now))
                .order_by(WarningRow.id)
                .limit(self.batch)
            )
            if not self.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = list(session.execute(query).scalars())
            for row in rows:
                row.status = "sending"
                row.lease_until = now + self.lease
                row.claimed_by = self.worker_id
            return [Plan(row.id, row.customer_id, row.attempts) for row in rows]

    def run_once(self, now: datetime | None = None) -> int:
        """One batch; returns how many warnings were handled. A database that
        is away raises (see bot/proactive/outage.py), after every push of the
        batch has ended and its outcome is kept."""
        now = now or self.clock()
        self.failed_in_round = 0
        self.record_unrecorded()
        self.hold_lease(now)
        if self.quiet.active(now):
            return 0
        plans = self.claim(now)
        # Every push ends before the next claim, even when one of them raised.
        futures = [self.pool.submit(self.deliver, plan) for plan in plans]
        wait(futures)
        for future in futures:
            future.result()
        return len(plans)

    def deliver(self, plan: Plan) -> None:
        try:
            outcome = self.decide(plan)
        except Exception as error:
            if database_unreachable(error):
                # Nothing was pushed: the warning goes back to the queue at once,
                # rather than when its lease runs out.
                self._keep(Outcome(plan, "queued", self.clock()))
            raise
        self._record(outcome)

    def decide(self, plan: Plan) -> Outcome:
        """Push the warning if the customer can be reached; what became of it."""
        with self.sessions() as session:
            opted_out = session.get(OptOutRow, plan.customer_id) is not None
            candidates = [] if opted_out else reachable(session, plan.customer_id, self.channels)
        if opted_out:
            return Outcome(plan, "suppressed", self.clock())
        try:
            target = self.first_open(candidates)
            if target is None:
                # Nowhere to push now: shown at the customer's next visit or reply.
                return Outcome(plan, "unread", self.clock())
            if self.direct is not None and self.direct.takes(target):
                self.direct.send(target, plan.warning_id, plan.customer_id)
            else:
                self.rasa.trigger_warning(target.address, target.output_channel, plan.warning_id)
        except PushFailed as error:
            return self._failed(plan, str(error), error.retryable)
        return Outcome(plan, "sent", self.clock(), channel=target.channel, address=target.address)

    def first_open(self, candidates: list[Reach]) -> Reach | None:
        """The most recent channel that reaches the customer now: a chat widget
        only while it is open (a push to a closed one would go nowhere)."""
        for target in candidates:
            if target.channel != "socketio" or self.rasa.widget_connected(target.address):
                return target
        return None

    def _failed(self, plan: Plan, reason: str, retryable: bool) -> Outcome:
        attempts = plan.attempts + 1
        dead = not retryable or attempts >= self.max_attempts
        with self._lock:
            self.failed_in_round += 1
            wait_for = backoff(attempts, self.backoff_seconds, self.rng, self.max_backoff_seconds)
        now = self.clock()
        logger.warning(
            "warning %s attempt %s failed (%s)%s",
            plan.warning_id,
            attempts,
            reason,
            ": dead" if dead else "",
        )
        return Outcome(
            plan,
            "dead" if dead else "queued",
            now,
            attempts=attempts,
            error=reason,
            next_attempt_at=now + wait_for,
        )

    # --- writing outcomes, also after the database was away ------------------

    def _write(self, outcome: Outcome) -> None:
        plan = outcome.plan
        with self.sessions() as session, session.begin():
            session.execute(
                update(WarningRow)
                .where(WarningRow.id == plan.warning_id, WarningRow.claimed_by == self.worker_id)
                .values(**outcome.values())
            )
        if not outcome.failed:
            logger.info(
                "warning %s for customer %s: %s", plan.warning_id, plan.customer_id, outcome.status
            )

    def _keep(self, outcome: Outcome) -> None:
        with self._lock:
            self._unrecorded.append(outcome)

    def _record(self, outcome: Outcome) -> None:
        try:
            self._write(outcome)
        except Exception as error:
            if database_unreachable(error):
                self._keep(outcome)
            raise

    def record_unrecorded(self) -> int:
        """Write the outcomes kept while the database was away; how many.
        Raises (keeping the rest) while it is still away."""
        with self._lock:
            kept, self._unrecorded = self._unrecorded, []
        for done, outcome in enumerate(kept):
            try:
                self._write(outcome)
            except Exception:
                with self._lock:
                    self._unrecorded[:0] = kept[done:]
                raise
        if kept:
            logger.info("%d outcomes kept while the database was away are written", len(kept))
        return len(kept)
