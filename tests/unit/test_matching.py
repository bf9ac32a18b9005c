"""Normalising what customers type before comparing it with the order system."""

from __future__ import annotations

import pytest

from bot.orders.matching import (
    normalise_email,
    normalise_postcode,
    order_matches,
    parse_order_number,
)


@pytest.mark.parametrize(
    "typed", ["3511 ab", "3511AB", "3511ab", " 3511 AB ", "3511-AB", "3511\tAB"]
)
def test_normalise_postcode_ignores_spaces_case_and_punctuation(typed: str) -> None:
    assert normalise_postcode(typed) == "3511AB"


@pytest.mark.parametrize("typed", [None, "", "   "])
def test_normalise_postcode_of_nothing_is_empty(typed: str | None) -> None:
    assert normalise_postcode(typed) == ""


def test_normalise_email_ignores_case_and_surrounding_spaces() -> None:
    assert normalise_email("  Erik@Example.NL ") == "erik@example.nl"
    assert normalise_email(None) == ""


@pytest.mark.parametrize(
    "typed", ["10001", "#10001", " 10001 ", "# 10001", "10001\n", 10001, 10001.0]
)
def test_parse_order_number_reads_what_customers_type(typed: object) -> None:
    assert parse_order_number(typed) == 10001


@pytest.mark.parametrize(
    "typed",
    [
        "abc",
        "10001x",
        "x10001",
        "",
        "   ",
        None,
        True,
        False,
        -5,
        0,
        -10001.0,
        10001.5,
        float("nan"),
        float("inf"),
        "1" * 30,
        "123",  # too short for an order number
        "10 001",
        "10001 10002",
        "-10001",
        "1e4",
        ["10001"],
        {"order": 10001},
    ],
)
def test_parse_order_number_refuses_anything_else(typed: object) -> None:
    assert parse_order_number(typed) is None


@pytest.mark.parametrize("typed", [10**30, 1e30])
def test_parse_order_number_refuses_numbers_too_long_for_an_order_number(typed: object) -> None:
    assert parse_order_number(typed) is None


# --- order_matches -----------------------------------------------------------------

ORDER_POSTCODE = "3511 AB"
ORDER_EMAIL = "erik@example.nl"


@pytest.mark.parametrize("postcode", ["3511 ab", "3511AB", "3511-ab"])
def test_order_matches_by_postcode_however_typed(postcode: str) -> None:
    assert order_matches(ORDER_POSTCODE, ORDER_EMAIL, postcode=postcode)


@pytest.mark.parametrize("email", ["erik@example.nl", "ERIK@Example.nl", " erik@example.nl "])
def test_order_matches_by_email_case_insensitively(email: str) -> None:
    assert order_matches(ORDER_POSTCODE, ORDER_EMAIL, email=email)


def test_order_matches_when_either_the_postcode_or_the_email_is_right() -> None:
    assert order_matches(ORDER_POSTCODE, ORDER_EMAIL, postcode="9999 ZZ", email=ORDER_EMAIL)
    assert order_matches(ORDER_POSTCODE, ORDER_EMAIL, postcode="3511AB", email="wrong@x.nl")


@pytest.mark.parametrize(
    ("postcode", "email"),
    [
        ("3512 AB", None),
        ("3511", None),  # only the digits
        ("3511 ABC", None),
        (None, "anouk@example.nl"),
        (None, "erik@example.com"),
        ("9999 ZZ", "someone@example.nl"),
    ],
)
def test_order_does_not_match_a_wrong_postcode_or_email(
    postcode: str | None, email: str | None
) -> None:
    assert not order_matches(ORDER_POSTCODE, ORDER_EMAIL, postcode=postcode, email=email)


@pytest.mark.parametrize(
    ("postcode", "email"), [(None, None), ("", ""), ("   ", "   "), ("-- --", None)]
)
def test_empty_input_never_matches(postcode: str | None, email: str | None) -> None:
    assert not order_matches(ORDER_POSTCODE, ORDER_EMAIL, postcode=postcode, email=email)


@pytest.mark.parametrize(("postcode", "email"), [("", None), (" ", None), (None, ""), ("-", " ")])
def test_empty_input_never_matches_an_order_with_empty_postcode_and_email(
    postcode: str | None, email: str | None
) -> None:
    assert not order_matches("", "", postcode=postcode, email=email)
