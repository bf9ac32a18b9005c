"""validate_verification_form: order number plus postcode or email, checked.

Nothing about an order is disclosed (not even that it exists) until both
match. A match is remembered as a signed proof, not as a plain slot.

Failures count twice: in the conversation (a slot, MAX_VERIFICATION_ATTEMPTS)
and across conversations in the database, per order number and per client
(bot/verification/limits.py). A locked order or client gets the answer a
conversation gets after its own last try, whether or not the order exists.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.services import Services, services
from actions.turn import client_of, conversation_key, read_turn
from bot.clock import utcnow
from bot.identity import issue_proof, orders_from_proof
from bot.orders.matching import normalise_postcode, parse_order_number
from bot.orders.system import OrderSystemUnavailable
from bot.proactive.channels import remember_channel
from bot.verification.limits import Subject, VerificationLimits, subjects_for

logger = logging.getLogger(__name__)

_POSTCODE_LENGTH = range(4, 9)


class ValidateVerificationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_verification_form"

    def _failures(self, tracker: Tracker) -> int:
        return int(tracker.get_slot("verification_failures") or 0)

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = parse_order_number(value)
        if number is None:
            language = read_turn(tracker, services()).language
            dispatcher.utter_message(
                text=services().catalog.message("verify_bad_order_number", language)
            )
            return {"order_number": None}
        return {"order_number": str(number)}

    def validate_postcode(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if "@" in text and len(text) <= 254:
            return {"postcode": None, "email": text}
        if len(normalise_postcode(text)) not in _POSTCODE_LENGTH:
            language = read_turn(tracker, services()).language
            dispatcher.utter_message(
                text=services().catalog.message("verify_bad_postcode", language)
            )
            return {"postcode": None}
        return {"postcode": text}

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        # The parent validates the slots just filled and updates tracker.slots.
        events = [
            event
            for event in await super().run(dispatcher, tracker, domain)
            if not (event.get("event") == "slot" and event.get("name") == "requested_slot")
        ]
        if self._failures(tracker) >= services().settings.max_verification_attempts:
            return [*events, SlotSet("requested_slot", None)]
        order_id = parse_order_number(tracker.get_slot("order_number"))
        if order_id is None:
            return [*events, SlotSet("requested_slot", "order_number")]
        found = services()
        subjects = subjects_for(found.settings, order_id, client_of(tracker))
        if VerificationLimits(found.sessions).is_locked(subjects, utcnow()):
            # Not even the postcode is asked for: a locked order is not worth it.
            return [*events, *self._locked(found, order_id)]
        postcode, email = tracker.get_slot("postcode"), tracker.get_slot("email")
        if not (postcode or email):
            return [*events, SlotSet("requested_slot", "postcode")]
        return [*events, *self._check(dispatcher, tracker, order_id, postcode, email, subjects)]

    def _locked(self, found: Services, order_id: int) -> list[dict[str, Any]]:
        """Too many failures on this order or from this client, in any
        conversation: the form ends as after the conversation's own last try,
        and the answer that follows says how to go on (log in on the shop's
        site, or a person). The same for an order that does not exist."""
        logger.info("verification of order %s refused: too many failures", order_id)
        return [
            SlotSet("order_number", None),
            SlotSet("postcode", None),
            SlotSet("email", None),
            SlotSet("verification_failures", float(found.settings.max_verification_attempts)),
            SlotSet("requested_slot", None),
        ]

    def _remember_channel(self, found: Services, tracker: Tracker, order_id: int) -> None:
        """A verified visitor can be told later what changes: warnings may be
        pushed here. The address does not identify the customer by that (only
        one the shop registered does); the verified order is in the proof."""
        try:
            order = found.orders.get_order(order_id)
        except OrderSystemUnavailable:
            return
        if order is not None:
            remember_channel(
                found.sessions,
                order.customer_id,
                str(tracker.get_latest_input_channel() or ""),
                tracker.sender_id,
                utcnow(),
            )

    def _check(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        order_id: int,
        postcode: str | None,
        email: str | None,
        subjects: list[Subject],
    ) -> list[dict[str, Any]]:
        found = services()
        language = read_turn(tracker, found).language
        cleared = [SlotSet("order_number", None), SlotSet("postcode", None), SlotSet("email", None)]
        limits = VerificationLimits(found.sessions)
        attempt = limits.begin(subjects, utcnow())
        if attempt is None:
            return self._locked(found, order_id)
        try:
            match = found.orders.verify_order(order_id, postcode, email)
        except OrderSystemUnavailable as error:
            limits.take_back(attempt)
            logger.warning("verification of order %s impossible: %s", order_id, error)
            dispatcher.utter_message(
                text=found.catalog.message("error_order_system_unavailable", language)
            )
            return [*cleared, SlotSet("requested_slot", "order_number")]
        if match:
            # Only this attempt's own rows go: nobody else's failures are forgiven.
            limits.take_back(attempt)
            logger.info("order %s verified in conversation", order_id)
            self._remember_channel(found, tracker, order_id)
            already = orders_from_proof(
                tracker.get_slot("verification_proof"),
                conversation_key(tracker),
                found.settings.proof_secret,
            )
            proof = issue_proof(
                conversation_key(tracker),
                [*already, order_id],
                found.settings.proof_secret,
                found.settings.proof_ttl_seconds,
            )
            return [
                SlotSet("verification_proof", proof),
                SlotSet("postcode", None),
                SlotSet("email", None),
                SlotSet("needs_verification", False),
                SlotSet("requested_slot", None),
            ]
        failures = self._failures(tracker) + 1
        logger.info("verification failed in conversation (%s so far)", failures)
        events = [*cleared, SlotSet("verification_failures", float(failures))]
        if failures >= found.settings.max_verification_attempts:
            # The form ends; the answer action then offers a person.
            return [*events, SlotSet("requested_slot", None)]
        dispatcher.utter_message(text=found.catalog.message("verify_mismatch", language))
        return [*events, SlotSet("requested_slot", "order_number")]


def _ask(dispatcher: CollectingDispatcher, tracker: Tracker, message_key: str) -> list[Any]:
    """The form's question for one slot, in the customer's language."""
    found = services()
    turn = read_turn(tracker, found)
    dispatcher.utter_message(text=found.catalog.message(message_key, turn.language))
    return turn.language_events(tracker)


class ActionAskOrderNumber(Action):
    def name(self) -> str:
        return "action_ask_order_number"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return _ask(dispatcher, tracker, "verify_ask_order_number")


class ActionAskPostcode(Action):
    def name(self) -> str:
        return "action_ask_postcode"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return _ask(dispatcher, tracker, "verify_ask_postcode")
