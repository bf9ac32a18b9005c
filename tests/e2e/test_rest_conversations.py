"""Real conversations over the REST channel with the Rasa server and action server."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import jwt
import pytest
import requests

from bot.clock import shop_today
from bot.dates import spoken_date
from bot.identity import make_customer_token
from tests.e2e.conftest import RASA_TOKEN, SHOP_SECRET, RunningAssistant


@pytest.fixture(scope="module", params=["sql", "http"])
def order_system(request: pytest.FixtureRequest) -> str:
    """Once against the demo shop, once against a separate shop behind the REST adapter."""
    return str(request.param)


def new_sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"


def text_of(replies: list[str]) -> str:
    return "\n".join(replies)


def gazelle_new_date() -> str:
    today = shop_today("Europe/Amsterdam")
    return spoken_date(today + timedelta(days=10), "nl", today)


def test_erik_with_a_token_hears_gazelle_the_reason_and_the_new_date(
    assistant: RunningAssistant,
) -> None:
    token = make_customer_token(1001, SHOP_SECRET)
    reply = text_of(assistant.say(new_sender(), "wat is er gewijzigd aan mijn bestelling?", token))
    assert "Gazelle" in reply
    assert "productie" in reply  # production_problem, in Dutch
    assert "vertraging in de levering van frames" in reply  # the reason as recorded
    assert gazelle_new_date() in reply
    assert "Sorry" in reply  # acknowledged first


def test_anonymous_visitor_with_order_number_and_postcode_hears_the_same(
    assistant: RunningAssistant,
) -> None:
    sender = new_sender()
    first = text_of(assistant.say(sender, "wat is er gewijzigd aan mijn bestelling?"))
    assert "bestelnummer" in first
    assert "Gazelle" not in first
    second = text_of(assistant.say(sender, "10001"))
    assert "postcode" in second
    assert "Gazelle" not in second
    answer = text_of(assistant.say(sender, "3511 AB"))
    assert "Gazelle" in answer
    assert "productie" in answer
    assert gazelle_new_date() in answer


def test_a_wrong_postcode_discloses_nothing_about_the_order(
    assistant: RunningAssistant,
) -> None:
    sender = new_sender()
    assistant.say(sender, "wat is er gewijzigd aan mijn bestelling?")
    assistant.say(sender, "10001")
    answer = text_of(assistant.say(sender, "1012 JS"))  # Anouk's postcode, not Erik's
    assert "horen niet bij elkaar" in answer
    for secret in ("Gazelle", "C380", "ophalen", "december", "productie", "Erik"):
        assert secret not in answer
    # An unknown order number gets the very same answer: existence is not disclosed.
    assistant.say(sender, "99999")
    unknown = text_of(assistant.say(sender, "1012 JS"))
    assert unknown == answer


def test_lisa_hears_that_nothing_changed(assistant: RunningAssistant) -> None:
    token = make_customer_token(1004, SHOP_SECRET)
    reply = text_of(assistant.say(new_sender(), "is er iets veranderd aan mijn bestelling?", token))
    assert "niets gewijzigd" in reply
    assert "10004" in reply
    assert "Sorry" not in reply


def test_sam_is_answered_in_english_with_the_carrier_delay(assistant: RunningAssistant) -> None:
    token = make_customer_token(1003, SHOP_SECRET)
    reply = text_of(assistant.say(new_sender(), "hi, what changed in my order?", token))
    assert "PostNL" in reply
    assert "delivery date moved" in reply
    today = shop_today("Europe/Amsterdam")
    assert spoken_date(today + timedelta(days=2), "en", today) in reply


def test_five_failed_verifications_stop_and_offer_a_person(assistant: RunningAssistant) -> None:
    sender = new_sender()
    assistant.say(sender, "waar is mijn bestelling")
    for attempt in range(5):
        assistant.say(sender, "10001")
        last = text_of(assistant.say(sender, f"99{attempt:02d} ZZ"))
    assert "medewerker" in last
    # No further attempts: the right postcode now opens nothing.
    again = text_of(assistant.say(sender, "waar is mijn bestelling"))
    assert "medewerker" in again
    assert "Gazelle" not in again
    assert "bestelnummer" not in again


def test_an_expired_or_forged_token_counts_as_no_token(assistant: RunningAssistant) -> None:
    expired = jwt.encode(
        {"sub": "1001", "exp": int(time.time()) - 60}, SHOP_SECRET, algorithm="HS256"
    )
    forged = make_customer_token(1001, "not-the-shop-secret-but-just-as-long-as-it")
    for token in (expired, forged, "garbage.token.value"):
        reply = text_of(
            assistant.say(new_sender(), "wat is er gewijzigd aan mijn bestelling?", token)
        )
        assert "Gazelle" not in reply
        assert "bestelnummer" in reply
    assert "customer token rejected" in assistant.log()


def test_a_10000_character_message_gets_a_clear_answer(assistant: RunningAssistant) -> None:
    replies = assistant.say(new_sender(), "bestelling " * 1000)
    assert replies, "the assistant must answer"
    assert all("Traceback" not in reply and "Error" not in reply for reply in replies)


def test_the_http_api_needs_the_token(assistant: RunningAssistant) -> None:
    url = f"{assistant.rasa_url}/conversations/someone/tracker"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, params={"token": RASA_TOKEN}, timeout=10).status_code == 200


def test_no_personal_data_in_the_logs(assistant: RunningAssistant) -> None:
    log = assistant.log()
    for personal in ("3511 AB", "erik@example.nl", "Erik de Vries", "1012 JS"):
        assert personal not in log
