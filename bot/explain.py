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


# Changes whose reason already says what changed (the reason's sentence names
# the product and the party): said once, by the reason.
SAID_BY_REASON = {"out_of_stock": {"supplier_out_of_stock", "shop_out_of_stock"}}


def with_quote(text: str, quote: str) -> str:
    """The sentence ended by someone's own words: "... gemeld: “...”."."""
    return f"{text.rstrip().rstrip('.')}: \u201c{quote}\u201d."


def with_clause(text: str, clause: str) -> str:
    """The sentence continued after a semicolon, the clause's own end kept off."""
    return f"{text.rstrip().rstrip('.')}; {clause}"


def sentence(text: str) -> str:
    """A reason text that starts with who caused it ("{party} ...") starts with a
    capital even when that is "de vervoerder" rather than a name."""
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class WhyPiece:
    """A why-sentence; for the party's own words standing alone, who and what."""

    text: str
    party: str | None = None
    quote: str | None = None


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
        pieces, nexts, missing = self.why_pieces(order, change, told)
        return [piece.text for piece in pieces], nexts, missing

    def why_pieces(
        self, order: Order, change: Change, told: set[str] | None = None
    ) -> tuple[list[WhyPiece], list[str], int | None]:
        """As `why`, each why-sentence with the party's own words when they stand
        alone (no reason code to hang them on): explain() hangs those on the
        sentence saying what changed. A quote behind a reason code ends that
        reason's sentence: one sentence, not two."""
        pieces: list[WhyPiece] = []
        nexts: list[str] = []
        seen = told if told is not None else set()
        newest = max(change.events, key=lambda e: e.id)
        for event in sorted(change.events, key=lambda e: e.id, reverse=True):
            code = event.reason_code
            coded = False
            if code and self.catalog.has_reason(code) and code not in seen:
                seen.add(code)
                values = self.reason_values(order, change, event)
                why = sentence(self.catalog.reason(code, "why", self.language, **values))
                pieces.append(WhyPiece(why))
                nexts.append(sentence(self.catalog.reason(code, "next", self.language, **values)))
                coded = True
            if event.reason_text and event.reason_text not in seen:
                # The free text as recorded: the real reason, never rewritten.
                seen.add(event.reason_text)
                party = self.party(event)
                if coded:
                    said = pieces[-1].text
                    if party.lower() not in said.lower():
                        # Whose words they are, when the reason does not say.
                        said = with_clause(said, self.text("reason_clause", party=party))
                    pieces[-1] = WhyPiece(with_quote(said, event.reason_text))
                else:
                    alone = self.text("reason_recorded", party=party, text=event.reason_text)
                    pieces.append(WhyPiece(alone, party, event.reason_text))
        if self.has_reason(newest):
            return pieces, nexts, None
        return [WhyPiece(self.text("reason_not_recorded")), *pieces], nexts, newest.id

    def expected(self, order: Order, changes: list[Change]) -> list[str]:
        """When the order is expected, said once: when a change already named
        the new date, only where to pick it up."""
        if not self.names_new_date(order, changes):
            return [
                self.text(
                    f"expected_{order.fulfilment}",
                    date=self.date(order.promised_date),
                    location=order.pickup_location or "",
                )
            ]
        if order.fulfilment == "pickup" and order.pickup_location:
            return [self.text("pickup_where", location=order.pickup_location)]
        return []

    @staticmethod
    def names_new_date(order: Order, changes: list[Change]) -> bool:
        """Whether telling these changes already says the order's date now."""
        return any(
            event.field == "promised_date" and event.new_value == str(order.promised_date)
            for change in changes
            for event in change.events
        )

    def has_reason(self, event: OrderEvent) -> bool:
        """A reason the customer can be told: a known code or the recorded text."""
        return self.catalog.has_reason(event.reason_code) or bool(event.reason_text)

    def explain(self, order: Order, changes: list[Change]) -> Explanation:
        facts: list[str] = []
        next_steps: list[str] = []
        unexplained: int | None = None
        told: set[str] = set()
        for change in changes:
            what = self.what(order, change)
            if change.is_progress:
                facts.append(what)
                continue
            pieces, nexts, missing = self.why_pieces(order, change, told)
            codes = {event.reason_code for event in change.events}
            if pieces and codes & SAID_BY_REASON.get(change.kind, set()):
                # "TabletWereld has no tablets in stock" says "out of stock": once.
                said = [piece.text for piece in pieces]
            else:
                said = [what]
                for piece in pieces:
                    if piece.quote is not None and piece.party is not None and len(said) == 1:
                        # "The date moved ...; TabletWereld explained: “...”." One sentence.
                        clause = self.text("reason_clause", party=piece.party)
                        said[0] = with_quote(with_clause(said[0], clause), piece.quote)
                    else:
                        said.append(piece.text)
            facts.append(" ".join(said))
            for step in nexts:
                if step not in next_steps:
                    next_steps.append(step)
            unexplained = unexplained or missing
        return Explanation(facts=facts, next_steps=next_steps, unexplained_event_id=unexplained)
