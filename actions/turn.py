"""Reading one turn of the conversation: text, language, who is asking."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.services import Services
from bot.channels.addresses import PLATFORM_CHANNELS
from bot.channels.client_address import CLIENT_ADDRESS_KEY
from bot.clock import utcnow
from bot.handoff.mood import mood_of
from bot.identity import Identity, resolve_identity
from bot.language import choose_language
from bot.orders.matching import parse_order_number
from bot.orders.system import OrderSystemUnavailable
from bot.proactive.channels import customer_registered_at, remember_channel
from bot.texts.catalog import LANGUAGES
from bot.usecases.asker import Asker

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    text: str
    intent: str
    asker: Asker  # who is asking, in which language and mood (for bot/usecases)
    too_long: bool
    confidence: float = 1.0  # how sure the NLU was of the intent (a button: 1.0)

    @property
    def language(self) -> str:
        return self.asker.language

    @property
    def identity(self) -> Identity:
        return self.asker.identity

    @property
    def order_number(self) -> int | None:
        """An order named in this message."""
        return self.asker.order_number

    @property
    def mood(self) -> str:
        """calm, upset or angry (bot/handoff/mood.py)."""
        return self.asker.mood

    def language_events(self, tracker: Tracker) -> list[dict[str, Any]]:
        if tracker.get_slot("language") == self.language:
            return []
        return [SlotSet("language", self.language)]


def _metadata(tracker: Tracker) -> dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def conversation_key(tracker: Tracker) -> str:
    """What a verification proof is bound to: the sender id on its channel. A
    client on another channel that claims the same sender id shares Rasa's
    record of the conversation, never its proof."""
    return f"{tracker.get_latest_input_channel() or ''}|{tracker.sender_id}"


def platform_customer(tracker: Tracker, services: Services) -> int | None:
    """The customer whose Telegram chat, Slack user or phone number the shop
    registered as theirs, when the message really came in on that platform (its
    webhook is signed). A chat in which an order was verified is not the
    customer: it sees that order while its proof lasts, nothing more."""
    channel = tracker.get_latest_input_channel()
    if channel not in PLATFORM_CHANNELS:
        return None
    return customer_registered_at(services.sessions, tracker.sender_id, channel)


def client_of(tracker: Tracker) -> str | None:
    """Who is trying, across conversations: the network address the REST or
    socket.io channel saw (the server puts it in the metadata, never the
    client), or on a messaging platform the platform's own sender. None when
    unknown."""
    address = _metadata(tracker).get(CLIENT_ADDRESS_KEY)
    if isinstance(address, str) and address.strip():
        return f"address:{address.strip()[:100]}"
    channel = tracker.get_latest_input_channel()
    if channel in PLATFORM_CHANNELS:
        return f"sender:{conversation_key(tracker)}"
    return None


def entity_value(tracker: Tracker, entity: str) -> Any:
    for item in (tracker.latest_message or {}).get("entities") or []:
        if item.get("entity") == entity:
            return item.get("value")
    return None


def read_turn(tracker: Tracker, services: Services) -> Turn:
    settings = services.settings
    message = tracker.latest_message or {}
    services.questions.count_message(message)
    text = str(message.get("text") or "")
    identity = resolve_identity(
        _metadata(tracker).get("customer_token"),
        tracker.get_slot("verification_proof"),
        conversation_key(tracker),
        settings.shop_token_secret,
        settings.proof_secret,
    )
    if identity.customer_id is None:
        linked = platform_customer(tracker, services)
        if linked is not None:
            identity = Identity(customer_id=linked)
    # The language of the page the widget is on, then the customer's own.
    page_language = _metadata(tracker).get("language")
    preferred = page_language if page_language in LANGUAGES else None
    if preferred is None and identity.customer_id is not None and not tracker.get_slot("language"):
        try:
            customer = services.orders.get_customer(identity.customer_id)
            preferred = customer.language if customer else None
        except OrderSystemUnavailable:
            logger.info("customer language unknown: order system unavailable")
    language = choose_language(
        # A button or the widget's "/get_started" is a payload, not the customer's words.
        None if text.startswith("/") else text[: settings.max_message_chars],
        tracker.get_slot("language"),
        preferred,
        settings.default_language,
    )
    if identity.customer_id is not None:
        # Where this customer can be reached (a warning may follow later).
        remember_channel(
            services.sessions,
            identity.customer_id,
            str(tracker.get_latest_input_channel() or ""),
            tracker.sender_id,
            utcnow(),
            language,
        )
    asker = Asker(
        identity=identity,
        language=language,
        address=tracker.sender_id,
        channel=str(tracker.get_latest_input_channel() or ""),
        mood=mood_of(text[: settings.max_message_chars]),
        order_number=parse_order_number(entity_value(tracker, "order_number")),
        words="" if text.startswith("/") else text[: settings.max_message_chars],
    )
    return Turn(
        text=text,
        intent=str((message.get("intent") or {}).get("name") or ""),
        asker=asker,
        too_long=len(text) > settings.max_message_chars,
        confidence=_confidence(message),
    )


def _confidence(message: dict[str, Any]) -> float:
    try:
        return float((message.get("intent") or {}).get("confidence", 1.0))
    except (TypeError, ValueError):
        return 0.0
