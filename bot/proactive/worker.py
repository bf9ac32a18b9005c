"""`python -m bot notifier`: the notifier loop, with the promise watcher beside it.

The loop outlives outages. The database away (PostgreSQL restarting, the
network gone): every round's connection error is caught here, logged as one
line, and the round is tried again after a pause of 1 s doubling to 30 s;
what the notifier decided meanwhile is written when the database is back
(bot/proactive/notifier.py). Rasa away: a round whose every push failed is
followed by the same growing pause, so a backlog is not run through (and its
tries spent) in a tight loop; each warning keeps its own schedule of tries.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType

from bot.bootstrap import Parts, build_parts
from bot.clock import shop_today, utcnow
from bot.database import database_unreachable
from bot.handoff.relay import relay_waiting_replies
from bot.orders.system import OrderSystem
from bot.proactive.channel_outputs import ChannelOutputs
from bot.proactive.channels import configured_push_channels
from bot.proactive.direct import DIRECT_CHANNELS, DirectSender
from bot.proactive.notifier import AnotherNotifierRuns, Notifier, QuietHours, shortest_retry_span
from bot.proactive.outage import Pacing, describe, pause
from bot.proactive.rasa_api import RasaApi
from bot.proactive.watcher import watch_promises
from bot.settings import Settings

logger = logging.getLogger(__name__)

# How often the chats with a person's reply waiting are asked whether they are open again.
RELAY_EVERY_SECONDS = 2.0
# The pause after a round the database or Rasa failed: doubling from the first to the last.
OUTAGE_FIRST_PAUSE_SECONDS = 1.0
OUTAGE_LONGEST_PAUSE_SECONDS = 30.0


def build_notifier(
    settings: Settings, clock: Callable[[], datetime] = utcnow, parts: Parts | None = None
) -> Notifier:
    channels = configured_push_channels(settings.credentials_path)
    parts = parts or build_parts(settings)
    return Notifier(
        parts.sessions,
        RasaApi(settings.rasa_url, settings.rasa_token, push_secret=settings.push_secret),
        QuietHours(settings.quiet_start, settings.quiet_end, settings.shop_timezone),
        batch=settings.notifier_batch,
        max_attempts=settings.notifier_max_attempts,
        backoff_seconds=settings.notifier_backoff_seconds,
        max_backoff_seconds=settings.notifier_max_backoff_seconds,
        lease_seconds=settings.notifier_lease_seconds,
        concurrency=settings.notifier_concurrency,
        channels=channels,
        clock=clock,
        direct=direct_sender(settings, parts, channels),
    )


def direct_sender(
    settings: Settings, parts: Parts, channels: tuple[str, ...]
) -> DirectSender | None:
    """The warnings this notifier sends itself (bot/proactive/direct.py): on the
    channels that can take them, unless NOTIFIER_DIRECT is off."""
    if not settings.notifier_direct:
        return None
    direct = tuple(channel for channel in channels if channel in DIRECT_CHANNELS)
    outputs = ChannelOutputs.from_credentials(settings.credentials_path, os.environ, direct)
    return DirectSender(parts, outputs) if outputs.channels else None


class NotifierLoop:
    """One round: the promise watcher and the staff replies when their time has
    come, then a batch of warnings. Remembers when each last ran."""

    def __init__(self, notifier: Notifier, settings: Settings, shop: OrderSystem) -> None:
        self.notifier = notifier
        self.settings = settings
        # The promise watcher reads the orders as the shop has them now.
        self.orders = shop
        self.last_watch = self.last_relay = float("-inf")
        self.started = False

    def round(self, once: bool = False) -> int:
        """How many warnings were handled. Raises when the database is away."""
        notifier, settings = self.notifier, self.settings
        if not self.started:
            notifier.hold_lease(notifier.clock())
            logger.info("notifier %s started", notifier.worker_id)
            self.started = True
        if time.monotonic() - self.last_watch >= settings.watch_interval_seconds or once:
            result = watch_promises(
                notifier.sessions,
                self.orders,
                shop_today(settings.shop_timezone),
                utcnow(),
                reminder_lead=timedelta(minutes=settings.express_reminder_minutes),
            )
            self.last_watch = time.monotonic()
            if result.warning_ids:
                logger.info("watcher queued %d warnings", len(result.warning_ids))
        if "socketio" in notifier.channels and (
            time.monotonic() - self.last_relay >= RELAY_EVERY_SECONDS or once
        ):
            relay_waiting_replies(notifier.sessions, notifier.rasa, utcnow())
            self.last_relay = time.monotonic()
        return notifier.run_once()


def run_notifier(settings: Settings, once: bool = False) -> int:
    if not settings.rasa_token:
        print("RASA_TOKEN is not set: the notifier needs Rasa's HTTP API", file=sys.stderr)
        return 2
    try:
        parts = build_parts(settings)
        notifier = build_notifier(settings, parts=parts)
    except ValueError as error:
        print(f"notifier: {error}", file=sys.stderr)
        return 2
    logger.info("pushing to: %s", ", ".join(notifier.channels) or "no channel (all unread)")
    span = shortest_retry_span(
        notifier.max_attempts, notifier.backoff_seconds, notifier.max_backoff_seconds
    )
    logger.info(
        "a warning Rasa does not take is tried %d times over at least %d minutes",
        notifier.max_attempts,
        span.total_seconds() // 60,
    )
    stopping = False

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    loop = NotifierLoop(notifier, settings, parts.shop)
    database = Pacing(OUTAGE_FIRST_PAUSE_SECONDS, OUTAGE_LONGEST_PAUSE_SECONDS)
    rasa = Pacing(OUTAGE_FIRST_PAUSE_SECONDS, OUTAGE_LONGEST_PAUSE_SECONDS)
    away_since = 0.0
    try:
        while not stopping:
            try:
                handled = loop.round(once)
            except AnotherNotifierRuns:
                raise
            except Exception as error:
                if not database_unreachable(error):
                    raise
                if once:
                    print(f"notifier: database unreachable ({describe(error)})", file=sys.stderr)
                    return 1
                if not database.failures:
                    away_since = time.monotonic()
                wait = database.failed()
                logger.warning(
                    "database unreachable (%s): trying again in %.0f s", describe(error), wait
                )
                pause(wait, lambda: stopping)
                continue
            if database.worked():
                logger.info("database back after %.0f s", time.monotonic() - away_since)
            if once:
                break
            if handled and notifier.failed_in_round == handled:
                # Rasa took none of them: wait before the next ones are tried.
                pause(rasa.failed(), lambda: stopping)
            elif handled:
                rasa.worked()
            else:
                pause(settings.notifier_poll_seconds, lambda: stopping)
    except AnotherNotifierRuns as error:
        print(str(error), file=sys.stderr)
        return 3
    finally:
        release(notifier)
        if notifier.direct is not None:
            notifier.direct.close()
    return 0


def release(notifier: Notifier) -> None:
    """Give up the SQLite lease on the way out; with the database away it runs out."""
    try:
        notifier.release_lease()
    except Exception as error:
        if not database_unreachable(error):
            raise
        logger.warning("lease not given up, the database is away (%s)", describe(error))
