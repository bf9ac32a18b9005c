"""A person's reply to a customer whose chat widget was closed is said when the
chat opens again.

A push to a closed widget goes nowhere (the widget does not fetch missed
messages), so the staff page keeps such a reply instead of pushing it
(bot/web/staff_handoffs.py), and the notifier's loop asks every few seconds
whether those conversations have a widget open again, and then runs
`action_relay_staff_reply` in them. Replies are taken once
(`queue.take_waiting_replies`), so two notifiers, or a notifier and the staff
page, never say one twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.handoff import queue
from bot.proactive.rasa_api import PushFailed, RasaApi

logger = logging.getLogger(__name__)

RELAY_ACTION = "action_relay_staff_reply"
# A reply still unread after this long is not waited for any more (the staff
# page shows it unsaid); no chat is asked about forever.
WAIT_AT_MOST = timedelta(days=14)


def relay_waiting_replies(sessions: sessionmaker[Session], rasa: RasaApi, now: datetime) -> int:
    """Says the waiting replies in the chats open now; how many chats."""
    said = 0
    waiting = queue.conversations_with_waiting_replies(sessions, "socketio", now - WAIT_AT_MOST)
    for sender_id in waiting:
        try:
            if rasa.widget_connected(sender_id):
                rasa.run_action(sender_id, RELAY_ACTION, "socketio")
                said += 1
        except PushFailed as error:
            # Rasa busy or down: the replies stay waiting for the next round.
            logger.warning("waiting staff replies not said yet: %s", error)
            break
    if said:
        logger.info("staff replies said in %d chats opened again", said)
    return said
