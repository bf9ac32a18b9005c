"""The notifier: takes queued warnings and has the assistant speak them.

At least once to Rasa, exactly once to the customer: the assistant marks a
warning delivered when it shows it and shows nothing for a warning already
delivered, so a worker that dies after sending and before marking 'sent'
only causes a harmless second call. Rasa down: retries with exponential
backoff and jitter, then 'dead', visible and retryable by hand.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.orders.sql.tables import CustomerRow
from bot.proactive.channels import PUSH_CHANNELS, Reach, reachable
from bot.proactive.rasa_api import PushFailed, RasaApi
from bot.proactive.tables import WarningRow, WorkerLeaseRow

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


def backoff(attempt: int, base: float, rng: random.Random) -> timedelta:
    """Exponential, with full jitter between half and the whole step, capped at an hour."""
    step = min(base * (2 ** max(0, attempt - 1)), 3600.0)
    return timedelta(seconds=step * rng.uniform(0.5, 1.0))


class Notifier:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        rasa: RasaApi,
        quiet: QuietHours,
        batch: int = 50,
        max_attempts: int = 8,
        backoff_seconds: float = 2.0,
        worker_id: str | None = None,
        lease_seconds: float = 60.0,
        concurrency: int = 4,
        channels: tuple[str, ...] = PUSH_CHANNELS,
    ) -> None:
        self.sessions = session_factory
        self.rasa = rasa
        self.channels = channels  # the push channels Rasa is set up with
        self.quiet = quiet
        self.batch = batch
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        # How long a claimed warning stays with this worker; after a crash the
        # warnings return to the queue when it runs out.
        self.lease = timedelta(seconds=lease_seconds)
        self.rng = random.Random()
        # Pushes in flight at once: Rasa handles conversations in parallel.
        self.pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
        self._lease_until: datetime | None = None  # this worker's SQLite lease
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
        """One batch; returns how many warnings were handled."""
        now = now or utcnow()
        self.hold_lease(now)
        if self.quiet.active(now):
            return 0
        plans = self.claim(now)
        list(self.pool.map(self.deliver, plans))
        return len(plans)

    def deliver(self, plan: Plan) -> None:
        with self.sessions() as session:
            customer = session.get(CustomerRow, plan.customer_id)
            opted_out = customer is not None and customer.opted_out_at is not None
            candidates = [] if opted_out else reachable(session, plan.customer_id, self.channels)
        if opted_out:
            self._finish(plan, "suppressed")
            return
        try:
            target = self.first_open(candidates)
            if target is None:
                # Nowhere to push now: shown at the customer's next visit or reply.
                self._finish(plan, "unread")
                return
            self.rasa.trigger_warning(target.address, target.output_channel, plan.warning_id)
        except PushFailed as error:
            self._failed(plan, str(error), error.retryable)
            return
        self._finish(plan, "sent", channel=target.channel, address=target.address)

    def first_open(self, candidates: list[Reach]) -> Reach | None:
        """The most recent channel that reaches the customer now: a chat widget
        only while it is open (a push to a closed one would go nowhere)."""
        for target in candidates:
            if target.channel != "socketio" or self.rasa.widget_connected(target.address):
                return target
        return None

    def _finish(
        self, plan: Plan, status: str, channel: str | None = None, address: str | None = None
    ) -> None:
        with self.sessions() as session, session.begin():
            session.execute(
                update(WarningRow)
                .where(WarningRow.id == plan.warning_id, WarningRow.claimed_by == self.worker_id)
                .values(
                    status=status,
                    lease_until=None,
                    channel=channel,
                    address=address,
                    sent_at=utcnow() if status == "sent" else None,
                    last_error=None,
                )
            )
        logger.info("warning %s for customer %s: %s", plan.warning_id, plan.customer_id, status)

    def _failed(self, plan: Plan, reason: str, retryable: bool) -> None:
        attempts = plan.attempts + 1
        dead = not retryable or attempts >= self.max_attempts
        with self.sessions() as session, session.begin():
            session.execute(
                update(WarningRow)
                .where(WarningRow.id == plan.warning_id, WarningRow.claimed_by == self.worker_id)
                .values(
                    status="dead" if dead else "queued",
                    attempts=attempts,
                    lease_until=None,
                    last_error=reason[:500],
                    next_attempt_at=utcnow() + backoff(attempts, self.backoff_seconds, self.rng),
                )
            )
        logger.warning(
            "warning %s attempt %s failed (%s)%s",
            plan.warning_id,
            attempts,
            reason,
            ": dead" if dead else "",
        )

    def run_forever(self, poll_seconds: float, should_stop: Callable[[], bool]) -> None:
        try:
            while not should_stop():
                if not self.run_once():
                    time.sleep(poll_seconds)
        finally:
            self.release_lease()
