"""`python -m bot notifier`: the notifier loop, with the promise watcher beside it."""

from __future__ import annotations

import logging
import signal
import sys
import time
from datetime import timedelta
from types import FrameType

from bot.clock import shop_today, utcnow
from bot.handoff.relay import relay_waiting_replies
from bot.orders.factory import build_session_factory
from bot.proactive.channels import configured_push_channels
from bot.proactive.notifier import AnotherNotifierRuns, Notifier, QuietHours
from bot.proactive.rasa_api import RasaApi
from bot.proactive.watcher import watch_promises
from bot.settings import Settings

logger = logging.getLogger(__name__)

# How often the chats with a person's reply waiting are asked whether they are open again.
RELAY_EVERY_SECONDS = 2.0


def build_notifier(settings: Settings) -> Notifier:
    return Notifier(
        build_session_factory(settings),
        RasaApi(settings.rasa_url, settings.rasa_token),
        QuietHours(settings.quiet_start, settings.quiet_end, settings.shop_timezone),
        batch=settings.notifier_batch,
        max_attempts=settings.notifier_max_attempts,
        backoff_seconds=settings.notifier_backoff_seconds,
        lease_seconds=settings.notifier_lease_seconds,
        concurrency=settings.notifier_concurrency,
        channels=configured_push_channels(settings.credentials_path),
    )


def run_notifier(settings: Settings, once: bool = False) -> int:
    if not settings.rasa_token:
        print("RASA_TOKEN is not set: the notifier needs Rasa's HTTP API", file=sys.stderr)
        return 2
    try:
        notifier = build_notifier(settings)
    except ValueError as error:
        print(f"notifier: {error}", file=sys.stderr)
        return 2
    logger.info("pushing to: %s", ", ".join(notifier.channels) or "no channel (all unread)")
    stopping = False

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    last_watch = last_relay = 0.0
    try:
        notifier.hold_lease(utcnow())
        logger.info("notifier %s started", notifier.worker_id)
        while not stopping:
            if time.monotonic() - last_watch >= settings.watch_interval_seconds or once:
                result = watch_promises(
                    notifier.sessions,
                    shop_today(settings.shop_timezone),
                    utcnow(),
                    reminder_lead=timedelta(minutes=settings.express_reminder_minutes),
                )
                last_watch = time.monotonic()
                if result.warning_ids:
                    logger.info("watcher queued %d warnings", len(result.warning_ids))
            if "socketio" in notifier.channels and (
                time.monotonic() - last_relay >= RELAY_EVERY_SECONDS or once
            ):
                relay_waiting_replies(notifier.sessions, notifier.rasa, utcnow())
                last_relay = time.monotonic()
            handled = notifier.run_once()
            if once:
                break
            if not handled:
                time.sleep(settings.notifier_poll_seconds)
    except AnotherNotifierRuns as error:
        print(str(error), file=sys.stderr)
        return 3
    finally:
        notifier.release_lease()
    return 0
