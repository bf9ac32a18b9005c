"""Turning changes into what a customer reads: what changed, why, who, what next.

Tone, from the seeds: acknowledge first, then the facts, then what the
customer can do. Never a reason that the order system did not record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from babel.numbers import format_currency

from bot.changes import Change
from bot.dates import parse_iso_date, spoken_date
from bot.orders.model import Order, OrderEvent
from bot.texts import Catalog

_LOCALES = {"nl": "nl_NL", "en": "en_GB"}


def sentence(text: str) -> str:
    """A reason text that starts with who caused it ("{party} ...") starts with a
    capital even when that is "de vervoerder" rather than a name."""
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Explanation:
    facts: list[str]  # one sentence (or two) per change
    next_steps: list[str]  # what happens now and what the customer can do
    unexplained_event_id: int | None  # a change without a recorded reason


class Explainer:
    def __init__(self, catalog: Catalog, language: str, today: date) -> None:
        self.catalog = catalog
        self.language = language
        self.today = today

    def text(self, key: str, **values: object) -> str:
        return self.catalog.message(key, self.language, **values)

    def date(self, value: date | None) -> str:
        return spoken_date(value, self.language, self.today) if value else self.text("date_unknown")

    def moment(self, value: datetime) -> str:
        """A local date and time: "morgen om 14:30", "Friday 5 December at 09:00"."""
        return self.text("date_at_time", date=self.date(value.date()), time=value.strftime("%H:%M"))

    def money(self, cents: str | None, currency: str) -> str:
        try:
            amount = int(cents or "0") / 100
        except ValueError:
            return cents or ""
        return format_currency(amount, currency, locale=_LOCALES[self.language])

    def party(self, event: OrderEvent) -> str:
        if event.party_name:
            return event.party_name
        key = f"party_{event.party_type}"
        return self.text(key if key in self.catalog.messages else "party_unknown")

    def order_title(self, order: Order) -> str:
        return self.text("order_title", order_id=order.id, products=order.product_summary)

    def what(self, order: Order, change: Change) -> str:
        if change.kind == "date_moved":
            return self.text(
                f"change_date_moved_{order.fulfilment}",
                old_date=self.date(parse_iso_date(change.old)),
                new_date=self.date(parse_iso_date(change.new)),
            )
        if change.kind in ("total", "refund"):
            return self.text(
                f"change_{change.kind}",
                old=self.money(change.old, order.currency),
                new=self.money(change.new, order.currency),
            )
        key = f"change_{change.kind}"
        if key not in self.catalog.messages:
            key = "change_other"
        return self.text(
            key, product=change.product or "", old=change.old or "", new=change.new or ""
        )

    def reason_values(self, order: Order, change: Change, event: OrderEvent) -> dict[str, str]:
        return {
            "party": self.party(event),
            "product": change.product or order.product_summary,
            "old_date": self.date(parse_iso_date(change.old)),
            "new_date": self.date(parse_iso_date(change.new)),
        }

    def why(
        self, order: Order, change: Change, told: set[str] | None = None
    ) -> tuple[list[str], list[str], int | None]:
        """Why-sentences, next-step sentences, and an event that has no reason.

        `told` holds reason codes and texts already said in this answer, so a
        reason behind two changes (out of stock, hence a later date) is said once.
        When the newest event lacks a reason, older reasons are still told, and
        the missing one is named and offered to be found out.
        """
        whys: list[str] = []
        nexts: list[str] = []
        seen = told if told is not None else set()
        newest = max(change.events, key=lambda e: e.id)
        for event in sorted(change.events, key=lambda e: e.id, reverse=True):
            code = event.reason_code
            if code and self.catalog.has_reason(code) and code not in seen:
                seen.add(code)
                values = self.reason_values(order, change, event)
                whys.append(sentence(self.catalog.reason(code, "why", self.language, **values)))
                nexts.append(sentence(self.catalog.reason(code, "next", self.language, **values)))
            if event.reason_text and event.reason_text not in seen:
                # The free text as recorded: the real reason, never rewritten.
                seen.add(event.reason_text)
                whys.append(
                    self.text("reason_recorded", party=self.party(event), text=event.reason_text)
                )
        if self.has_reason(newest):
            return whys, nexts, None
        return [self.text("reason_not_recorded"), *whys], nexts, newest.id

    def has_reason(self, event: OrderEvent) -> bool:
        """A reason the customer can be told: a known code or the recorded text."""
        return self.catalog.has_reason(event.reason_code) or bool(event.reason_text)

    def explain(self, order: Order, changes: list[Change]) -> Explanation:
        facts: list[str] = []
        next_steps: list[str] = []
        unexplained: int | None = None
        told: set[str] = set()
        for change in changes:
            sentence = self.what(order, change)
            if change.is_progress:
                facts.append(sentence)
                continue
            whys, nexts, missing = self.why(order, change, told)
            facts.append(" ".join([sentence, *whys]))
            for step in nexts:
                if step not in next_steps:
                    next_steps.append(step)
            unexplained = unexplained or missing
        return Explanation(facts=facts, next_steps=next_steps, unexplained_event_id=unexplained)
