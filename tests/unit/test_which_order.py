"""Which of several orders the customer's words name (issue 16: one order is the order)."""

from datetime import date, timedelta

import pytest

from bot.which_order import order_named
from tests.fakes import make_line, make_order

TODAY = date(2026, 11, 28)
BIKE = make_order(10001, promised_date=TODAY + timedelta(days=10))
HELMET = make_order(
    10100,
    promised_date=TODAY + timedelta(days=4),
    lines=[make_line(2, "Abus fietshelm Urban M", "AB-HELM-M", "Abus")],
)
LOCK = make_order(
    10200,
    promised_date=TODAY + timedelta(days=4),
    lines=[make_line(3, "Kettingslot 85 cm", "AX-LOCK-85", None)],
)
ORDERS = [BIKE, HELMET, LOCK]


@pytest.mark.parametrize(
    ("words", "meant"),
    [
        ("ik wacht wel op de Gazelle", BIKE),
        ("annuleer de helm maar", HELMET),  # the end of "fietshelm"
        ("cancel the Abus please", HELMET),  # its maker
        ("het slot mag weg", LOCK),  # the end of "kettingslot"
        ("ik wacht op mijn ULTIMATE", BIKE),
        ("die van 8 december wil ik houden", BIKE),  # its date
        ("de levering van 2 december annuleren", None),  # two orders that day
        ("ik wacht wel", None),  # names nothing
        ("mijn bestelling annuleren", None),  # words of the question, no product
        ("de fiets", None),  # "fiets" begins "fietshelm": not a helmet
        ("de helm en het slot", None),  # two orders named
        ("", None),  # a button: no words
    ],
)
def test_the_order_the_words_name(words: str, meant: object) -> None:
    assert order_named(words, ORDERS, TODAY, "nl") is meant


def test_words_and_date_together_pick_among_the_named() -> None:
    second_helmet = make_order(
        10300,
        promised_date=TODAY + timedelta(days=20),
        lines=[make_line(4, "Abus fietshelm Urban M", "AB-HELM-M", "Abus")],
    )
    both = [*ORDERS, second_helmet]
    assert order_named("de helm van 2 december", both, TODAY, "nl") is HELMET
    assert order_named("de helm", both, TODAY, "nl") is None


def test_one_order_needs_no_words() -> None:
    assert order_named("de helm", [BIKE], TODAY, "nl") is None  # the caller's rule
