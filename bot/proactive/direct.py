"""Warnings the notifier speaks itself, without a Rasa turn.

A pushed warning needs nothing of Rasa's: no message to understand, no next
action to predict. Through Rasa it cost a whole turn (the conversation's lock,
its tracker read and written, a call to the action server) for every
customer of a supplier delay: Rasa's one process was the limit of a fan-out.

So where nothing in the conversation decides what the customer may hear, the
notifier composes the warning (the same use case the action runs) and sends it
with the channel's own output (bot/proactive/channel_outputs.py): to an
address the shop registered as the customer's (it hears about every order of
theirs), on a channel whose output the notifier has. What the conversation
kept of a warning is kept in the memory instead: its language
(customer_channels.language), the order "annuleren" is about (the warning
shown last at the address, bot/proactive/delivery.py) and the text, for the
person taking over (warnings.said).

Through Rasa still: the chat widget (only Rasa's process holds its sockets),
Twilio (a reply "2" to an SMS is read against the choices in the
conversation's record, and whether WhatsApp's 24 hours are open is in the
conversation) and any address a conversation learned (what it may hear is in
the conversation).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.shared.core.events import BotUttered
from sqlalchemy.exc import SQLAlchemyError

from bot.bootstrap import Parts
from bot.orders.system import OrderSystemUnavailable
from bot.proactive.channel_outputs import ChannelOutputs
from bot.proactive.channels import Reach
from bot.proactive.delivery import record_said
from bot.proactive.rasa_api import PushFailed
from bot.usecases.said import Message
from bot.usecases.warnings import Viewer, customer_language, show_warning

logger = logging.getLogger(__name__)

# The channels whose messages carry their choices themselves (buttons with
# their payloads), so that nothing of the conversation is needed to answer them.
DIRECT_CHANNELS = ("callback", "telegram", "slack")


def channel_messages(message: Message) -> list[dict[str, Any]]:
    """What Rasa hands a channel's output for `message` said by an action
    (rasa-sdk's dispatcher, then Rasa's RemoteAction and BotUttered.message())."""
    if message.custom is not None:
        response: dict[str, Any] = {"custom": message.custom, **message.extra}
    elif message.text:
        buttons = [{"title": b.title, "payload": b.payload} for b in message.buttons]
        response = {"text": message.text, "buttons": buttons, **message.extra}
    else:
        return []
    buttons = response.pop("buttons", None) or []
    draft: dict[str, Any] = {"buttons": list(buttons)} if buttons else {}
    draft.update({key: value for key, value in response.items() if value})
    # rasa.core.actions.action.create_bot_utterance, which would load TensorFlow here.
    data = {key: draft.pop(key, None) for key in ("elements", "quick_replies", "buttons")}
    data["attachment"] = draft.pop("attachment", None) or draft.get("image")
    data["image"] = draft.pop("image", None)
    data["custom"] = draft.pop("custom", None)
    return [BotUttered(text=draft.pop("text", None), data=data, metadata=draft).message()]


class DirectSender:
    def __init__(self, parts: Parts, outputs: ChannelOutputs) -> None:
        self.parts = parts
        self.outputs = outputs

    def takes(self, target: Reach) -> bool:
        """Whether this warning can go without a Rasa turn (see above)."""
        return (
            target.registered
            and target.channel in DIRECT_CHANNELS
            and target.channel in self.outputs.channels
        )

    def send(self, target: Reach, warning_id: int, customer_id: int) -> None:
        """Mark the warning shown, compose it and send it. Shown before at this
        address (a notifier died after marking it, or the platform refused it),
        it is sent again unless the channel's receipt says it arrived
        (bot/channels/receipts.py). PushFailed when the platform refused it."""
        try:
            with self.parts.work() as work:
                viewer = Viewer(
                    customer_id,
                    target.address,
                    target.language or customer_language(work, customer_id),
                )
                shown = show_warning(work, viewer, warning_id, recorded_here=False)
                if shown is None:
                    return  # shown already, elsewhere
                messages = channel_messages(shown.message)
                if shown.message.text:
                    record_said(work.session, warning_id, shown.message.text)
        except OrderSystemUnavailable as error:
            # Nothing marked (the unit rolled back): tried again later, as a
            # push the action server could not answer would be.
            raise PushFailed(f"order system unavailable: {error}") from error
        except SQLAlchemyError:
            raise  # the notifier's own handling of a database that is away
        except Exception as error:  # noqa: BLE001 - one warning stops no other
            # A warning that cannot be composed (a kind this version does not
            # know): it fails alone, as it would in the action server, and ends
            # dead and visible in the outbox once its tries are spent.
            logger.error("warning %s not composed: %s", warning_id, type(error).__name__)
            raise PushFailed(f"warning not composed: {type(error).__name__}") from error
        if messages:
            self.outputs.send(target.channel, target.address, messages)

    def close(self) -> None:
        self.outputs.close()
