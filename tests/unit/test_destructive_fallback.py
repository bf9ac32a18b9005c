"""bot/nlu/destructive_fallback.py: cancel_order and opt_out are not acted on below the bar."""

from __future__ import annotations

from rasa.nlu.classifiers.fallback_classifier import undo_fallback_prediction
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.destructive_fallback import DestructiveIntentFallback


def _read(intent: str, confidence: float) -> Message:
    ranking = [
        {"name": intent, "confidence": confidence},
        {"name": "ask_status", "confidence": 0.1},
    ]
    return Message(data={"text": "x", "intent": dict(ranking[0]), "intent_ranking": ranking})


def test_a_destructive_intent_below_the_bar_becomes_the_fallback() -> None:
    guard = DestructiveIntentFallback(DestructiveIntentFallback.get_default_config())
    (message,) = guard.process([_read("cancel_order", 0.59)])
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 0.7}
    # The intent beneath stays readable, as under Rasa's own FallbackClassifier.
    undone = undo_fallback_prediction(message.as_dict())
    assert undone["intent"]["name"] == "cancel_order"


def test_a_sure_destructive_read_and_other_intents_pass() -> None:
    guard = DestructiveIntentFallback({"intents": ["cancel_order", "opt_out"], "threshold": 0.7})
    sure, other = guard.process([_read("opt_out", 0.93), _read("ask_status", 0.5)])
    assert sure.get("intent")["name"] == "opt_out"
    assert other.get("intent")["name"] == "ask_status"
