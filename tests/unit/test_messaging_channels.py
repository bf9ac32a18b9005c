"""The messaging channels' pure parts: addresses, which channels a run has,
WhatsApp's 24 hours, Twilio's signature, Telegram updates, numbered choices."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from rasa.shared.core.events import BotUttered, UserUttered
from twilio.request_validator import RequestValidator

from bot.channels.addresses import AddressError, sender_id, twilio_recipient, twilio_sender
from bot.channels.credentials import CredentialsError, active_credentials, write_active_credentials
from bot.channels.telegram import inline_keyboard, read_update, split_text
from bot.channels.twilio import numbered_choices, offered_payload, signature
from bot.channels.whatsapp import one_line, template_message, window_open
from bot.settings import PROJECT_ROOT

PAYLOADS = PROJECT_ROOT / "tests" / "e2e" / "payloads"


@pytest.mark.parametrize(
    ("channel", "address", "expected"),
    [
        ("telegram", "777000111", "telegram:777000111"),
        ("telegram", "telegram:-1001234", "telegram:-1001234"),
        ("slack", "U2147483697", "slack:U2147483697"),
        ("twilio", "+31612345678", "sms:+31612345678"),
        ("twilio", "whatsapp:+31612345678", "whatsapp:+31612345678"),
        ("twilio", " sms:+31612345678 ", "sms:+31612345678"),
        ("callback", "anything-goes", "anything-goes"),
    ],
)
def test_platform_addresses_become_named_sender_ids(channel: str, address: str, expected: str):
    assert sender_id(channel, address) == expected


@pytest.mark.parametrize(
    ("channel", "address"),
    [
        ("telegram", "@erik"),
        ("slack", "erik"),
        ("twilio", "0612345678"),  # not international
        ("twilio", "signal:+31612345678"),
        ("twilio", "whatsapp:+31"),
    ],
)
def test_an_address_that_cannot_be_the_channels_is_refused(channel: str, address: str) -> None:
    with pytest.raises(AddressError):
        sender_id(channel, address)


def test_twilio_senders_and_recipients() -> None:
    assert twilio_sender("whatsapp:+31687654321") == "whatsapp:+31687654321"
    assert twilio_sender("+31612345678") == "sms:+31612345678"
    assert twilio_sender("not a number") is None
    assert twilio_recipient("sms:+31612345678") == "+31612345678"
    assert twilio_recipient("whatsapp:+31612345678") == "whatsapp:+31612345678"


# --- credentials.yml ------------------------------------------------------------------


def test_a_channel_runs_only_with_all_its_variables(tmp_path: Path) -> None:
    shipped = PROJECT_ROOT / "credentials.yml"
    assert set(active_credentials(shipped, {})) == {
        "bot.channels.rest.GuardedRestInput",
        "bot.channels.webchat.WebchatInput",
    }
    slack = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    assert "bot.channels.slack.SlackInput" in active_credentials(shipped, slack)
    with pytest.raises(CredentialsError, match="TWILIO_AUTH_TOKEN"):
        active_credentials(shipped, {"TWILIO_ACCOUNT_SID": "AC1"})


def test_the_file_rasa_gets_keeps_placeholders_not_secrets(tmp_path: Path) -> None:
    target = tmp_path / "active.yml"
    env = {"TELEGRAM_ACCESS_TOKEN": "1:very-secret", "TELEGRAM_SECRET_TOKEN": "also-secret"}
    names = write_active_credentials(PROJECT_ROOT / "credentials.yml", env, target)
    assert names == {"rest", "socketio", "telegram"}
    written = target.read_text()
    assert "${TELEGRAM_ACCESS_TOKEN}" in written and "very-secret" not in written
    assert "SlackInput" not in written


# --- WhatsApp's 24 hours --------------------------------------------------------------


def user(at: float, external: bool = False) -> dict[str, object]:
    event: dict[str, object] = {"event": "user", "timestamp": at, "text": "hoi"}
    if external:
        event.update(text="EXTERNAL: EXTERNAL_order_warning", metadata={"is_external": True})
    return event


def test_the_window_counts_only_the_customers_own_messages() -> None:
    now = time.time()
    assert not window_open([], now)
    assert window_open([user(now - 23 * 3600)], now)
    assert not window_open([user(now - 25 * 3600)], now)
    # A push recorded as a user event does not open the window.
    assert not window_open([user(now - 25 * 3600), user(now - 60, external=True)], now)


def test_template_variables_are_single_lines_within_whatsapps_limit() -> None:
    message = template_message("HX" + "a" * 32, "Fietsen & Meer", ["Eerste.\n\nTweede", "x" * 2000])
    variables = message["twilio_template"]["variables"]
    assert variables["1"] == "Fietsen & Meer"
    assert "\n" not in variables["2"] and len(variables["2"]) <= 1000
    assert one_line("a \t b\n\nc") == "a b c"


# --- Twilio ---------------------------------------------------------------------------


def test_our_signature_is_twilios_own() -> None:
    params = {k: str(v) for k, v in json.loads((PAYLOADS / "twilio_sms.json").read_text()).items()}
    url = "https://shop.example/webhooks/twilio/webhook"
    assert signature("token", url, params) == RequestValidator("token").compute_signature(
        url, params
    )
    assert signature("other", url, params) != signature("token", url, params)


def test_buttons_become_numbered_choices_and_a_number_their_payload() -> None:
    buttons = [
        {"title": "Ik wacht", "payload": '/keep_order{"order_number": "10002"}'},
        {"title": "Kosteloos annuleren", "payload": '/cancel_order{"order_number": "10002"}'},
    ]
    text = numbered_choices("De tablets zijn later.", buttons, "Antwoord met het nummer.")
    assert "1. Ik wacht\n2. Kosteloos annuleren" in text and "/keep_order" not in text
    events = [
        UserUttered("hoi"),
        BotUttered("De tablets zijn later.", data={"buttons": buttons}),
        BotUttered("Nog iets?"),
    ]
    assert offered_payload(events, "2") == buttons[1]["payload"]
    assert offered_payload(events, " 1. ") == buttons[0]["payload"]
    assert offered_payload(events, "3") is None
    assert offered_payload(events, "wachten") is None
    # Choices offered before the customer's last message are over.
    assert offered_payload([*events, UserUttered("ok")], "1") is None


# --- Telegram -------------------------------------------------------------------------


def test_telegram_updates_we_answer_and_those_we_do_not() -> None:
    message = json.loads((PAYLOADS / "telegram_message.json").read_text())
    assert read_update(message) == ("777000111", message["message"]["text"], None, "nl")
    group = json.loads((PAYLOADS / "telegram_group_message.json").read_text())
    assert read_update(group) is None
    press = json.loads((PAYLOADS / "telegram_callback_query.json").read_text())
    press["callback_query"]["data"] = "/keep_order"
    assert read_update(press) == ("777000111", "/keep_order", "4382bfdwdsb323b2d9", "nl")
    start = {"update_id": 1, "message": {**message["message"], "text": "/start"}}
    assert read_update(start) == ("777000111", "/get_started", None, "nl")
    assert read_update({"update_id": 2, "edited_message": message["message"]}) is None
    assert read_update("not an update") is None


def test_telegram_limits() -> None:
    assert split_text("a" * 5000, 4096) == ["a" * 4096, "a" * 904]
    assert split_text("one\n\ntwo", 4096) == ["one\n\ntwo"]
    keyboard = inline_keyboard([{"title": "Wacht", "payload": "/x" + "y" * 80}])
    assert keyboard == {"inline_keyboard": [[{"text": "Wacht", "callback_data": "Wacht"}]]}
