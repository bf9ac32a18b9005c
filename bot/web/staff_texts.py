"""The staff pages' words, in Dutch and English, and what each figure means."""

from __future__ import annotations

STAFF_TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Dashboard voor medewerkers",
        "login_title": "Inloggen voor medewerkers",
        "password": "Wachtwoord",
        "login_button": "Inloggen",
        "wrong_password": "Dat wachtwoord klopt niet.",
        "throttled": "Te veel mislukte pogingen. Probeer het over een kwartier opnieuw.",
        "no_password": "Er is geen STAFF_PASSWORD ingesteld: inloggen kan niet.",
        "unavailable": "De database is nu niet bereikbaar. Probeer het zo nog eens.",
        "logout": "Uitloggen",
        "other_language": "English",
        "weeks_note": "De laatste {weeks} weken, per week (maandag tot en met zondag).",
        "changes_by_reason": "Waarom bestellingen veranderen",
        "changes_by_reason_help": (
            "Wijzigingen van bestellingen per week, naar de reden die het bestelsysteem "
            "vastlegde (voortgang zoals verzonden of bezorgd telt niet mee)."
        ),
        "changes_by_supplier": "Wijzigingen door leveranciers",
        "changes_by_supplier_help": (
            "Wijzigingen per week die een leverancier veroorzaakte, per leverancier."
        ),
        "warnings": "Waarschuwingen aan klanten",
        "warnings_help": "Alle waarschuwingen in de outbox, naar hun stand nu.",
        "shown": "getoond in het gesprek",
        "shown_help": (
            "De assistent heeft de waarschuwing in het gesprek laten zien (niet: gelezen; dat "
            "weten we niet)."
        ),
        "opted_out": "klanten afgemeld",
        "opted_out_help": (
            "Klanten die geen waarschuwingen meer willen (\u201cstop\u201d, \u201cafmelden\u201d)."
        ),
        "promises": "Beloftes",
        "promises_help": "Elke belofte aan een klant, per soort, naar hoe het afliep.",
        "questions": "Wat klanten het meest vragen",
        "sources": "Winkelplatforms",
        "sources_help": (
            "Wanneer elk platform voor het laatst een wijziging stuurde, en hoe het afliep "
            "(de laatste 8 dagen). WooCommerce stopt een webhook na 5 mislukte pogingen: "
            "staat hier lang niets, kijk dan in WooCommerce."
        ),
        "source_last": "laatste bericht",
        "source_never": "nog nooit",
        "source_applied": "verwerkt",
        "source_failed": "mislukt",
        "source_pending": "wacht",
        "questions_help": (
            "Getypte berichten van klanten, naar wat de assistent herkende; sinds {since}. "
            "Zonder tekst of wie het vroeg."
        ),
        "question": "Vraag",
        "total": "Totaal",
        "in_dutch": "Nederlands",
        "in_english": "Engels",
        "language_unknown": "taal onbekend",
        "no_questions": "Nog geen vragen geteld.",
        "count": "Aantal",
        "week_of": "week van",
        "loading_failed": "De grafieken konden niet worden geladen.",
        "no_reason": "geen reden vastgelegd",
        "other_suppliers": "overige leveranciers",
        "status_queued": "in de wachtrij",
        "status_sent": "verstuurd (naar een kanaal gepusht)",
        "status_unread": "wacht op het volgende bezoek",
        "status_dead": "mislukt (opnieuw te proberen)",
        "status_suppressed": "niet verstuurd: klant afgemeld",
        "promise_open": "loopt nog",
        "promise_kept": "nagekomen",
        "promise_renewed": "eerlijk vernieuwd",
        "promise_broken": "gebroken",
        "promise_ended": "vervallen (bestelling geannuleerd)",
        "kind_delivery_date": "leverdatum",
        "kind_pickup_date": "ophaaldatum",
        "kind_keep_posted": "op de hoogte houden",
        "kind_callback": "antwoord van een collega",
        "kind_cutoff_reminder": "herinnering voor de sluitingstijd van spoed",
    },
    "en": {
        "title": "Staff dashboard",
        "login_title": "Staff login",
        "password": "Password",
        "login_button": "Log in",
        "wrong_password": "That password is not right.",
        "throttled": "Too many failed attempts. Please try again in a quarter of an hour.",
        "no_password": "No STAFF_PASSWORD is set: nobody can log in.",
        "unavailable": "The database cannot be reached right now. Please try again shortly.",
        "logout": "Log out",
        "other_language": "Nederlands",
        "weeks_note": "The last {weeks} weeks, per week (Monday to Sunday).",
        "changes_by_reason": "Why orders change",
        "changes_by_reason_help": (
            "Order changes per week, by the reason the order system recorded (progress such as "
            "shipped or delivered is not counted)."
        ),
        "changes_by_supplier": "Changes caused by suppliers",
        "changes_by_supplier_help": "Changes per week that a supplier caused, per supplier.",
        "warnings": "Warnings to customers",
        "warnings_help": "Every warning in the outbox, by where it stands now.",
        "shown": "shown in the conversation",
        "shown_help": (
            "The assistant showed the warning in the conversation (not: read; we cannot know that)."
        ),
        "opted_out": "customers opted out",
        "opted_out_help": (
            "Customers who want no more warnings (\u201cstop\u201d, \u201copt out\u201d)."
        ),
        "promises": "Promises",
        "promises_help": "Every promise made to a customer, by kind, by how it turned out.",
        "questions": "What customers ask most",
        "sources": "Shop platforms",
        "sources_help": (
            "When each platform last sent a change, and how it went (the last 8 days). "
            "WooCommerce disables a webhook after 5 failed deliveries: if nothing shows "
            "here for long, look in WooCommerce."
        ),
        "source_last": "last event",
        "source_never": "never",
        "source_applied": "applied",
        "source_failed": "failed",
        "source_pending": "waiting",
        "questions_help": (
            "Messages customers typed, by what the assistant recognised; since {since}. Without "
            "the text or who asked."
        ),
        "question": "Question",
        "total": "Total",
        "in_dutch": "Dutch",
        "in_english": "English",
        "language_unknown": "language unknown",
        "no_questions": "No questions counted yet.",
        "count": "Count",
        "week_of": "week of",
        "loading_failed": "The charts could not be loaded.",
        "no_reason": "no reason recorded",
        "other_suppliers": "other suppliers",
        "status_queued": "queued",
        "status_sent": "sent (pushed to a channel)",
        "status_unread": "waiting for the next visit",
        "status_dead": "failed (can be retried)",
        "status_suppressed": "not sent: customer opted out",
        "promise_open": "still open",
        "promise_kept": "kept",
        "promise_renewed": "honestly renewed",
        "promise_broken": "broken",
        "promise_ended": "lapsed (order cancelled)",
        "kind_delivery_date": "delivery date",
        "kind_pickup_date": "pickup date",
        "kind_keep_posted": "keep posted",
        "kind_callback": "answer from a colleague",
        "kind_cutoff_reminder": "reminder before the express cut-off",
    },
}

# The reason codes the order system records (bot/texts/reasons.yml), as staff call them.
REASON_LABELS: dict[str, dict[str, str]] = {
    "supplier_delay": {"nl": "leverancier levert later", "en": "supplier delivers late"},
    "supplier_out_of_stock": {
        "nl": "uitverkocht bij de leverancier",
        "en": "out of stock at the supplier",
    },
    "production_problem": {"nl": "probleem in de productie", "en": "production problem"},
    "warehouse_delay": {"nl": "vertraging in het magazijn", "en": "warehouse delay"},
    "carrier_delay": {"nl": "vertraging bij de vervoerder", "en": "carrier delay"},
    "customs_delay": {"nl": "douane", "en": "customs"},
    "address_problem": {"nl": "probleem met het adres", "en": "address problem"},
    "payment_pending": {"nl": "betaling nog niet binnen", "en": "payment pending"},
    "item_replaced": {"nl": "artikel vervangen", "en": "item replaced"},
    "split_shipment": {"nl": "in delen verzonden", "en": "split shipment"},
    "cancelled_by_shop": {"nl": "geannuleerd door de winkel", "en": "cancelled by the shop"},
    "changed_by_customer": {"nl": "gewijzigd door de klant", "en": "changed by the customer"},
    "damaged_in_transit": {"nl": "beschadigd onderweg", "en": "damaged in transit"},
    "missed_delivery": {"nl": "niet thuis bij bezorging", "en": "missed delivery"},
    "delivery_attempt_failed": {
        "nl": "bezorgpoging mislukt",
        "en": "delivery attempt failed",
    },
    "unable_to_deliver": {"nl": "kan niet bezorgd worden", "en": "unable to deliver"},
    "weather_delay": {"nl": "vertraging door het weer", "en": "weather delay"},
    "high_volume": {"nl": "drukte bij de vervoerder", "en": "high volume at the carrier"},
    "returned_to_sender": {"nl": "retour afzender", "en": "returned to sender"},
    "refused_by_recipient": {"nl": "geweigerd bij bezorging", "en": "refused on delivery"},
    "awaiting_pickup": {"nl": "ligt bij een afhaalpunt", "en": "at a pickup point"},
    "not_collected_by_carrier": {
        "nl": "niet opgehaald door de vervoerder",
        "en": "not collected by the carrier",
    },
    "delivery_date_unknown": {"nl": "leverdatum onbekend", "en": "delivery date unknown"},
    "shop_out_of_stock": {"nl": "uitverkocht bij ons", "en": "out of stock with us"},
    "order_review": {"nl": "bestelling in controle", "en": "order under review"},
    "payment_declined": {"nl": "betaling mislukt", "en": "payment declined"},
    "cancelled_by_customer": {
        "nl": "geannuleerd door de klant",
        "en": "cancelled by the customer",
    },
    "awaiting_return": {"nl": "wacht op retour", "en": "awaiting a return"},
}


def reason_label(code: str, language: str) -> str:
    if not code:
        return STAFF_TEXTS[language]["no_reason"]
    labels = REASON_LABELS.get(code)
    return labels[language] if labels else code.replace("_", " ")
