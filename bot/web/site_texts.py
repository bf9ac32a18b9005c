"""The shop site's own words (headings, buttons); what it says about orders
comes from the assistant's texts (bot/texts)."""

from __future__ import annotations

from bot.texts.catalog import LANGUAGES

__all__ = ["LANGUAGES", "PAGE_TEXTS"]

PAGE_TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "login_title": "Inloggen",
        "login_intro": "Dit is de demowinkel. Kies een klant om als in te loggen.",
        "login_button": "Inloggen als",
        "logout": "Uitloggen",
        "my_orders": "Mijn bestellingen",
        "no_orders": "Je hebt nog geen bestellingen.",
        "order": "Bestelling",
        "status": "Status",
        "what_changed": "Wat is er veranderd",
        "nothing_changed": "Er is niets veranderd aan deze bestelling.",
        "what_next": "Wat nu",
        "history": "Geschiedenis",
        "when": "Wanneer",
        "change": "Wijziging",
        "reason": "Reden",
        "by": "Door",
        "back": "Terug naar mijn bestellingen",
        "not_found": "Deze bestelling vinden we niet bij je account.",
        "unavailable": "We kunnen het bestelsysteem nu niet bereiken. Probeer het zo nog eens.",
        "other_language": "English",
        "chat_subtitle": "Vraag het de assistent",
        "chat_hint": "Typ je vraag...",
    },
    "en": {
        "login_title": "Log in",
        "login_intro": "This is the demo shop. Pick a customer to log in as.",
        "login_button": "Log in as",
        "logout": "Log out",
        "my_orders": "My orders",
        "no_orders": "You have no orders yet.",
        "order": "Order",
        "status": "Status",
        "what_changed": "What changed",
        "nothing_changed": "Nothing has changed in this order.",
        "what_next": "What happens next",
        "history": "History",
        "when": "When",
        "change": "Change",
        "reason": "Reason",
        "by": "By",
        "back": "Back to my orders",
        "not_found": "We can't find this order on your account.",
        "unavailable": "We can't reach the order system right now. Please try again shortly.",
        "other_language": "Nederlands",
        "chat_subtitle": "Ask the assistant",
        "chat_hint": "Type your question...",
    },
}
