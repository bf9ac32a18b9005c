"""General questions about the shop, not about an order: how long delivery
takes, how to send something back, when someone is there. A short true answer
from the shop's settings, or honestly that a colleague can tell (with a button
to one): never a guess, never a fallback loop."""

from __future__ import annotations

from babel.dates import get_day_names

from bot.settings import Settings
from bot.texts import Catalog
from bot.usecases.said import Button, Message, text

TOPICS = ("delivery_times", "returns", "opening_hours")
_LOCALES = {"nl": "nl_NL", "en": "en_GB"}


def answer_shop_info(
    settings: Settings, catalog: Catalog, topic: str, language: str
) -> list[Message]:
    said = _known(settings, catalog, topic, language)
    if said:
        return [text(" ".join(said))]
    person = Button(catalog.message("choice_request_human", language), "/request_human")
    return [text(catalog.message("shop_info_unknown", language), person)]


def _known(settings: Settings, catalog: Catalog, topic: str, language: str) -> list[str]:
    usual = usual_delivery(settings, catalog, language)
    if topic == "delivery_times" and usual:
        return [usual, catalog.message("shop_info_your_order", language)]
    if topic == "returns" and settings.return_days > 0:
        return [catalog.message("shop_info_returns", language, days=settings.return_days)]
    if topic == "opening_hours" and settings.service_days:
        said = [
            catalog.message(
                "shop_info_service_hours",
                language,
                days=spoken_days(settings.service_days, language),
                start=settings.service_start,
                end=settings.service_end,
            )
        ]
        if settings.store_pickup_location:
            location = settings.store_pickup_location
            said.append(catalog.message("shop_info_store", language, location=location))
        return said
    return []


def usual_delivery(settings: Settings, catalog: Catalog, language: str) -> str | None:
    """How long delivery usually takes, as the shop says; None when it did not."""
    if settings.delivery_days is None:
        return None
    low, high = settings.delivery_days
    days = str(low) if low == high else f"{low}-{high}"
    return catalog.message("shop_info_delivery", language, days=days)


def spoken_days(days: frozenset[int], language: str) -> str:
    """'maandag t/m vrijdag' for a run of days, else 'maandag, woensdag en zaterdag'."""
    names = get_day_names("wide", locale=_LOCALES.get(language, "nl_NL"))
    ordered = sorted(days)
    joiner = {"nl": (" t/m ", " en "), "en": (" to ", " and ")}.get(language, (" t/m ", " en "))
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{names[ordered[0]]}{joiner[0]}{names[ordered[-1]]}"
    spoken = [str(names[day]) for day in ordered]
    return spoken[0] if len(spoken) == 1 else ", ".join(spoken[:-1]) + joiner[1] + spoken[-1]
