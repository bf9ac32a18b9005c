"""Rasa's event broker that counts customers' questions for the staff dashboard.

In endpoints.yml:

    event_broker:
      type: bot.analytics.question_counter.QuestionCounter

Rasa hands every tracker event to `publish()`; a customer's typed message is
counted in memory under (shop day, intent, language) and nothing else is kept.
A thread adds the counts to the `question_counts` table every
QUESTION_FLUSH_SECONDS. A conversation never waits for the database, and a
database that is down costs no counts: a failed write is logged and tried
again with the next flush. `close()` (Rasa's shutdown) writes what is left.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from asyncio import AbstractEventLoop
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.engine import Engine

from bot.analytics.questions import QuestionTally, add_question_counts, question_key
from bot.settings import Settings, load_settings

logger = logging.getLogger(__name__)


class QuestionCounter(EventBroker):
    def __init__(self, settings: Settings) -> None:
        self.database_url = settings.database_url
        self.timezone_name = settings.shop_timezone
        self.flush_seconds = max(0.1, settings.question_flush_seconds)
        self.tally = QuestionTally()
        self._engine: Engine | None = None  # made by the first flush, not before
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._flush_lock = threading.Lock()
        self.failed_flushes = 0

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig,
        event_loop: AbstractEventLoop | None = None,
    ) -> QuestionCounter:
        """Settings come from the environment (bot/settings.py), not endpoints.yml."""
        counter = cls(load_settings())
        counter.start()
        return counter

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._flush_regularly, name="question-counter", daemon=True
            )
            self._thread.start()

    def publish(self, event: dict[str, Any]) -> None:
        """Memory only: this runs inside Rasa's handling of a message."""
        try:
            key = question_key(event, self.timezone_name)
        except Exception:  # noqa: BLE001 - counting must never break a conversation
            logger.exception("question counter: an event could not be read")
            return
        if key is not None:
            self.tally.add(key)

    def is_ready(self) -> bool:
        return True

    def flush(self) -> bool:
        """Write the counts so far; True when nothing is left unwritten."""
        with self._flush_lock:
            counts = self.tally.take()
            if not counts:
                return True
            try:
                add_question_counts(self._database(), counts)
            except Exception as error:  # noqa: BLE001 - kept and tried again
                self.tally.give_back(counts)
                self.failed_flushes += 1
                # The error's type only: its text could quote the statement.
                logger.warning(
                    "question counter: writing %d counts failed (%s); trying again later",
                    len(counts),
                    type(error).__name__,
                )
                return False
            return True

    def _database(self) -> Engine:
        if self._engine is None:
            from bot.orders.sql.database import create_db_engine

            self._engine = create_db_engine(self.database_url)
        return self._engine

    def _flush_regularly(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()

    def stop(self) -> None:
        """Stop the thread, write what is left (blocking)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.flush_seconds + 30)
            self._thread = None
        if not self.flush():
            logger.warning(
                "question counter: %d questions not written at shutdown", self.tally.pending()
            )
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    async def close(self) -> None:
        await asyncio.to_thread(self.stop)
