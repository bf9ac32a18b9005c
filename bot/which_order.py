"""The order a customer's words point at, among several of theirs: the one
whose product or maker they name ("ik wacht wel op de helm", "annuleer de
Gazelle") or whose date they give ("die van 8 december"). None when the words
fit no order or more than one: then the customer is asked which."""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.deadlines.parse import normalize, parse_deadline
from bot.orders.model import Order

# Shorter words say too little ("de", "M", "85").
MIN_WORD = 4
# Words of the question itself, never a product's name.
GENERAL = frozenset(
    """bestelling bestellingen order orders pakket pakketje levering zending product
    artikel spullen mijn wacht wachten wel annuleer annuleren cancel want wait keep
    graag toch niet maar deze die that this with voor from""".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def _names(order: Order) -> list[str]:
    """The words of what the order holds: its products and their makers."""
    names = [line.product_name for line in order.lines]
    names += [line.supplier_name for line in order.lines if line.supplier_name]
    return [word for name in names for word in _words(name) if len(word) >= MIN_WORD]


def _names_it(said: list[str], order: Order) -> bool:
    """A word said is one of the order's words, or the end of one: Dutch
    compounds end in what they are ("helm" names a "fietshelm", "fiets" does not)."""
    names = _names(order)
    return any(word == name or name.endswith(word) for word in said for name in names)


def _dated_it(day: date, order: Order) -> bool:
    return day in (order.promised_date, order.original_promised_date)


def order_named(
    words: str, orders: list[Order], today: date, language: str, dates: bool = True
) -> Order | None:
    """The one order of `orders` these words name by its product, its maker or
    (with `dates`) its date; None when they name none, or several. A deadline
    ("ik heb hem nodig voor vrijdag") is a date that names no order: no `dates`."""
    if not words or len(orders) < 2:
        return None
    said = [w for w in _words(words[:500]) if len(w) >= MIN_WORD and w not in GENERAL]
    named = [order for order in orders if _names_it(said, order)]
    if len(named) == 1:
        return named[0]
    parsed = parse_deadline(words, today, language) if dates else None
    if parsed is not None:
        # "voor 8 december" reads as a deadline of the 7th: the day named is the 8th.
        day = parsed.day + timedelta(days=1) if parsed.before else parsed.day
        dated = [order for order in (named or orders) if _dated_it(day, order)]
        if len(dated) == 1:
            return dated[0]
    return None
