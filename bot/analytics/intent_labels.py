"""What each intent means, in words shop staff read on the dashboard (nl, en)."""

from __future__ import annotations

INTENT_LABELS: dict[str, dict[str, str]] = {
    "ask_changes": {
        "nl": "Wat is er gewijzigd aan mijn bestelling?",
        "en": "What changed in my order?",
    },
    "ask_status": {
        "nl": "Wat is de status van mijn bestelling?",
        "en": "What is my order's status?",
    },
    "ask_delivery_date": {
        "nl": "Wanneer komt mijn bestelling?",
        "en": "When will my order arrive?",
    },
    "ask_why_late": {"nl": "Waarom is mijn bestelling te laat?", "en": "Why is my order late?"},
    "ask_tracking": {"nl": "Track & trace", "en": "Track and trace"},
    "list_orders": {"nl": "Welke bestellingen heb ik?", "en": "Which orders do I have?"},
    "ask_returns": {"nl": "Hoe stuur ik iets terug?", "en": "How do I return something?"},
    "ask_opening_hours": {"nl": "Wanneer zijn jullie open?", "en": "When are you open?"},
    "cancel_order": {"nl": "Bestelling annuleren", "en": "Cancel the order"},
    "keep_order": {"nl": "Ik wacht wel (bestelling houden)", "en": "I'll wait (keep the order)"},
    "choose_alternative": {"nl": "Een alternatief kiezen", "en": "Choose an alternative"},
    "keep_me_posted": {"nl": "Hou me op de hoogte", "en": "Keep me posted"},
    "request_human": {"nl": "Een medewerker spreken", "en": "Talk to a person"},
    "opt_out": {"nl": "Geen berichten meer (afmelden)", "en": "No more messages (opt out)"},
    "opt_in": {"nl": "Weer berichten ontvangen (aanmelden)", "en": "Messages again (opt in)"},
    "inform_deadline": {
        "nl": "Ik heb hem nodig op ... (een deadline)",
        "en": "I need it by ... (a deadline)",
    },
    "choose_express": {"nl": "Met spoed versturen", "en": "Send by express"},
    "choose_store_pickup": {"nl": "Ophalen in de winkel", "en": "Pick up in store"},
    "accept_compensation": {
        "nl": "Neemt het aanbod aan (compensatie)",
        "en": "Accepts the offer (compensation)",
    },
    "order_number": {"nl": "Geeft een bestelnummer", "en": "Gives an order number"},
    "postcode": {"nl": "Geeft een postcode", "en": "Gives a postcode"},
    "email": {"nl": "Geeft een e-mailadres", "en": "Gives an email address"},
    "inform": {"nl": "Geeft gegevens", "en": "Gives details"},
    "warning_id": {"nl": "Reageert op een waarschuwing", "en": "Answers a warning"},
    "greet": {"nl": "Begroeting", "en": "Greeting"},
    "goodbye": {"nl": "Afscheid", "en": "Goodbye"},
    "thank": {"nl": "Bedankt", "en": "Thanks"},
    "affirm": {"nl": "Ja", "en": "Yes"},
    "deny": {"nl": "Nee", "en": "No"},
    "bot_challenge": {"nl": "Ben jij een robot?", "en": "Are you a bot?"},
    "out_of_scope": {
        "nl": "Iets anders (buiten de assistent)",
        "en": "Something else (out of scope)",
    },
    "nlu_fallback": {"nl": "Niet begrepen", "en": "Not understood"},
    "get_started": {"nl": "Chat geopend", "en": "Chat opened"},
}


def intent_label(intent: str, language: str) -> str:
    """The staff's words for an intent; an unknown one readable all the same."""
    labels = INTENT_LABELS.get(intent)
    if labels is not None:
        return labels.get(language) or labels["en"]
    return intent.replace("_", " ").capitalize()
