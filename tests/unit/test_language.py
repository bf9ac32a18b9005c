"""Which language a customer writes in, and which one the assistant answers in."""

from __future__ import annotations

import pytest

from bot.language import choose_language, detect_language

DUTCH_MESSAGES = [
    "wrm is mn pakketje te laat",
    "Waar blijft mijn bestelling??",
    "hoi, wanneer komt mn fiets",
    "wat is de status van mn order",
    "ik wil een medewerker spreken",
    "Kan ik mijn bestelling nog annuleren of wijzigen?",
    "bedankt!",
    "hoezo is de bezorgdatum veranderd",
    "ff checken of mijn pakket al verzonden is",
    "Goedemorgen, ik heb een vraag over bestelnr 10001",
]

ENGLISH_MESSAGES = [
    "pls where is my ordr",
    "When will my package arrive?",
    "whats the status of my order",
    "thx, that helps",
    "can u check my order plz",
    "Why was my delivery date changed?",
    "I want to talk to a human",
    "hi, where is my parcel",
    "my order is late, what happened",
]


@pytest.mark.parametrize("text", DUTCH_MESSAGES)
def test_detects_dutch_chat_messages(text: str) -> None:
    assert detect_language(text) == "nl"


@pytest.mark.parametrize("text", ENGLISH_MESSAGES)
def test_detects_english_chat_messages(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    "text",
    ["10001", "3511 AB", "ok", "#10001", "erik@example.nl", "", None, "👍", "?!"],
)
def test_messages_without_language_words_give_none(text: str | None) -> None:
    assert detect_language(text) is None


def test_words_shared_by_both_languages_carry_no_vote() -> None:
    # "is", "we", "status", "week" are in both word lists.
    assert detect_language("is status week") is None


def test_an_equal_vote_gives_none() -> None:
    # "waar" and "mijn" are Dutch, "hi" and "order" English.
    assert detect_language("hi waar mijn order") is None


def test_case_does_not_matter() -> None:
    assert detect_language("WAAR IS MIJN BESTELLING") == "nl"
    assert detect_language("WHERE IS MY ORDER") == "en"


def test_only_the_start_of_a_very_long_message_is_read() -> None:
    text = "waar is mijn bestelling " * 100 + "where is my order " * 1000
    assert len(text) > 2000
    assert detect_language(text) == "nl"


@pytest.mark.parametrize(
    ("text", "previous", "preferred", "default", "expected"),
    [
        ("where is my order", "nl", "nl", "nl", "en"),  # what the customer writes wins
        ("waar is mijn bestelling", "en", "en", "en", "nl"),
        ("10001", "en", "nl", "nl", "en"),  # no language: keep the conversation's
        ("3511 AB", None, "en", "nl", "en"),  # then the customer's preference
        ("ok", None, None, "nl", "nl"),  # then the default
        ("ok", None, None, "en", "en"),
        (None, None, None, "nl", "nl"),
    ],
)
def test_choose_language_falls_back_to_previous_then_preferred_then_default(
    text: str | None, previous: str | None, preferred: str | None, default: str, expected: str
) -> None:
    assert choose_language(text, previous, preferred, default) == expected
