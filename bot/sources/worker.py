"""The worker that applies what the platforms delivered, in the web service.

Woken by every delivery taken (so a change reaches the warning queue within
moments), and every few seconds for deliveries waiting for another try. It
also asks each platform's API what changed since its last look (reconcile:
a webhook the platform never sent or gave up on is caught) and forgets
deliveries older than the dedupe window.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.orders.system import OrderSystem
from bot.settings import SourceSettings
from bot.sources.apply import Applied, apply_delivery
from bot.sources.change import Source, SourceUnavailable
from bot.sources.inbox import (
    due_deliveries,
    forget_old,
    last_received,
    mark_failed,
    retry_later,
    take_delivery,
)

logger = logging.getLogger(__name__)

BATCH = 100
POLL_SECONDS = 5.0
CLEANUP_SECONDS = 3600.0


class SourceWorker:
    def __init__(
        self,
        settings: SourceSettings,
        sessions: sessionmaker[Session],
        sources: Mapping[str, Source],
        on_handoffs: Callable[[list[int]], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        shop: OrderSystem | None = None,
    ) -> None:
        """`shop`: the shop's own order system, read for the orders a change
        names (ORDER_SYSTEM=http or a platform); None: the demo shop's tables."""
        self.shop = shop
        self.settings = settings
        self.sessions = sessions
        self.sources = sources
        self.on_handoffs = on_handoffs
        self.clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # When each platform's API was last asked (none yet: at the first round).
        self._reconciled_at: dict[str, datetime] = {}
        self._cleaned_at = float("-inf")

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="source-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            try:
                self.work_due()
                self.reconcile_due()
                self.forget_old()
            except SQLAlchemyError as error:
                logger.warning("source deliveries: database unavailable (%s)", type(error).__name__)
            except Exception:  # noqa: BLE001 - the worker must outlive one bad round
                logger.exception("source deliveries: round failed")

    def work_due(self) -> int:
        """Apply every due delivery, oldest first; how many were worked on."""
        worked = 0
        while True:
            ids = due_deliveries(self.sessions, self.clock(), BATCH)
            for delivery_id, source_name in ids:
                self.work_one(delivery_id, source_name)
            worked += len(ids)
            if len(ids) < BATCH or self._stop.is_set():
                return worked

    def work_one(self, delivery_id: int, source_name: str) -> Applied | None:
        source = self.sources.get(source_name)
        if source is None:
            mark_failed(self.sessions, delivery_id, f"source {source_name} is not configured")
            return None
        try:
            outcome = apply_delivery(self.sessions, source, delivery_id, self.clock(), self.shop)
        except SourceUnavailable as error:
            again = retry_later(
                self.sessions, delivery_id, str(error), self.clock(), self.settings.max_attempts
            )
            logger.warning(
                "%s delivery %s: API unavailable, %s",
                source_name,
                delivery_id,
                "tried again later" if again else "given up",
            )
            return None
        except (ValueError, TypeError, KeyError) as error:
            # A payload the adapter cannot read: kept, marked, never retried.
            mark_failed(self.sessions, delivery_id, f"{type(error).__name__}: {error}")
            logger.error(
                "%s delivery %s failed: %s", source_name, delivery_id, type(error).__name__
            )
            return None
        if outcome is not None:
            logger.info(
                "%s delivery %s: %s (order %s, %d applied, %d unchanged, %d stale, %d warnings)",
                source_name,
                delivery_id,
                outcome.status,
                outcome.order_number or "-",
                outcome.applied,
                outcome.unchanged,
                outcome.stale,
                len(outcome.warning_ids),
            )
            if outcome.handoff_ids and self.on_handoffs is not None:
                self.on_handoffs(outcome.handoff_ids)
        return outcome

    def reconcile_due(self) -> int:
        """Ask each platform's API what changed since the last look; how many
        deliveries that added (the ones already taken are not taken twice)."""
        period = timedelta(minutes=self.settings.reconcile_minutes)
        now = self.clock()
        added = 0
        for name, source in self.sources.items():
            since = self._reconciled_at.get(name) or self._first_look(name, now)
            if name in self._reconciled_at and now - since < period:
                continue
            try:
                # Looking back a period more: what changed while the last look ran.
                found = source.reconcile(since - period)
            except SourceUnavailable as error:
                logger.warning("%s reconcile: API unavailable (%s)", name, error)
                continue
            self._reconciled_at[name] = now
            new = sum(1 for d in found if take_delivery(self.sessions, d, now) is not None)
            if found:
                logger.info("%s reconcile: %d orders changed, %d new", name, len(found), new)
            added += new
        if added:
            self.wake()
        return added

    def _first_look(self, name: str, now: datetime) -> datetime:
        """After a start: from the last delivery taken (what came in while the
        service was down), or a backfill of `backfill_days` for a new platform."""
        last = last_received(self.sessions, name)
        backfill = now - timedelta(days=self.settings.backfill_days)
        return max(last, backfill) if last else backfill

    def forget_old(self) -> None:
        if time.monotonic() - self._cleaned_at < CLEANUP_SECONDS:
            return
        self._cleaned_at = time.monotonic()
        gone = forget_old(self.sessions, self.clock(), self.settings.dedupe_days)
        if gone:
            logger.info(
                "source deliveries: %d older than %s days deleted", gone, self.settings.dedupe_days
            )
