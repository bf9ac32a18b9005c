"""Contract tests for the messaging channels: each platform's documented
webhook payloads go into the running assistant (`python -m bot run`, real Rasa
and action server), and the calls it makes to the platform's API are captured
on a local stand-in (tests/e2e/platform_standin.py).

Customers: Erik on Telegram, Emma on Slack, Anouk by SMS and Daan on WhatsApp,
each address registered by the shop through the API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from bot.channels.twilio import signature as twilio_signature
from bot.clock import shop_today
from bot.dates import spoken_date
from bot.settings import PROJECT_ROOT
from tests.e2e.conftest import ORDER_API_TOKEN, RunningAssistant
from tests.e2e.platform_standin import Call, PlatformStandIn, start_standin

PAYLOADS = Path(__file__).parent / "payloads"
TELEGRAM_SECRET = "e2e-telegram-webhook-secret"
SLACK_SIGNING_SECRET = "e2e-slack-signing-secret"
TWILIO_SID = "AC" + "1" * 32
TWILIO_TOKEN = "e2e-twilio-auth-token"
TWILIO_NUMBER = "+3197010000000"
# Where Twilio posts, as set in its console (a proxy in front): what it signs.
TWILIO_WEBHOOK_URL = "https://shop.example/webhooks/twilio/webhook"
TEMPLATE_NL = "HX" + "b" * 32
STAFF_PASSWORD = "e2e-contracts-staff-password"
API = {"Authorization": f"Bearer {ORDER_API_TOKEN}"}


@pytest.fixture(scope="module")
def platform() -> Iterator[PlatformStandIn]:
    standin = start_standin()
    yield standin
    standin.server.shutdown()


@pytest.fixture(scope="module")
def assistant_env(platform: PlatformStandIn) -> dict[str, str]:
    return {
        "TELEGRAM_ACCESS_TOKEN": "6000000001:AAE-e2e-token",
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_URL": platform.url,
        "SLACK_BOT_TOKEN": "xoxb-e2e-token",
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "SLACK_API_URL": f"{platform.url}/api/",
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_NUMBER": TWILIO_NUMBER,
        "TWILIO_WEBHOOK_URL": TWILIO_WEBHOOK_URL,
        "TWILIO_API_URL": platform.url,
        "WHATSAPP_TEMPLATE_NL": TEMPLATE_NL,
        "NOTIFIER_BACKOFF_SECONDS": "0.3",
        "STAFF_PASSWORD": STAFF_PASSWORD,
    }


def payload(name: str) -> dict[str, Any]:
    return dict(json.loads((PAYLOADS / name).read_text()))


def register(assistant: RunningAssistant, customer: int, channel: str, address: str) -> None:
    response = requests.put(
        f"{assistant.web_url}/api/v1/customers/{customer}/channels",
        json={"channel": channel, "address": address},
        headers=API,
        timeout=10,
    )
    assert response.status_code == 200, response.text


def post_delay(assistant: RunningAssistant, body: dict[str, object]) -> None:
    response = assistant.report_delay(body)
    assert response.status_code == 202, response.text


# --- Telegram ---------------------------------------------------------------------


def telegram(assistant: RunningAssistant, update: dict[str, Any], secret: str = TELEGRAM_SECRET):
    return requests.post(
        f"{assistant.rasa_url}/webhooks/telegram/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
        timeout=30,
    )


def pushed(assistant: RunningAssistant, platform: PlatformStandIn, ending: str) -> Call:
    """The last call a pushed warning made (with the assistant's log when none came)."""
    try:
        return platform.wait_for(ending)[-1]
    except AssertionError as error:
        raise AssertionError(f"{error}\n{assistant.log()[-4000:]}") from None


def sent_texts(calls: list[Call], key: str) -> str:
    return "\n".join(str(call.body.get(key, "")) for call in calls)


def test_telegram_answers_erik_by_his_chat_alone(
    assistant: RunningAssistant, platform: PlatformStandIn
) -> None:
    platform.clear()
    register(assistant, 1001, "telegram", "777000111")
    response = telegram(assistant, payload("telegram_message.json"))
    assert response.status_code == 200
    calls = platform.wait_for("/sendMessage")
    assert calls[0].path.startswith("/bot6000000001:AAE-e2e-token/")
    assert all(call.body["chat_id"] == "777000111" for call in calls)
    answer = sent_texts(calls, "text")
    # Known by the chat the shop registered: no order number asked, the real reason told.
    assert "Gazelle" in answer and "postcode" not in answer


def test_telegram_refuses_forged_updates_and_group_chats(
    assistant: RunningAssistant, platform: PlatformStandIn
) -> None:
    platform.clear()
    assert (
        telegram(assistant, payload("telegram_message.json"), secret="guessed").status_code == 403
    )
    assert telegram(assistant, payload("telegram_group_message.json")).status_code == 200
    time.sleep(2)
    assert platform.calls == []  # nothing said, certainly not in a group


def test_telegram_warning_with_buttons_and_the_answer(
    assistant: RunningAssistant, platform: PlatformStandIn
) -> None:
    register(assistant, 1001, "telegram", "777000111")
    platform.clear()
    today = shop_today("Europe/Amsterdam")
    new_date = today + timedelta(days=21)
    post_delay(
        assistant,
        {
            "supplier": "Gazelle",
            "new_date": new_date.isoformat(),
            "reason_code": "production_problem",
            "reason": "een onderdeel van het frame is afgekeurd",
        },
    )
    warning = pushed(assistant, platform, "/sendMessage")
    assert warning.body["chat_id"] == "777000111"
    assert "een onderdeel van het frame is afgekeurd" in warning.body["text"]
    assert spoken_date(new_date, "nl", today) in warning.body["text"]
    keyboard = warning.body["reply_markup"]["inline_keyboard"]
    buttons = {row[0]["text"]: row[0]["callback_data"] for row in keyboard}
    assert "Ik wacht" in buttons
    assert all(len(data.encode()) <= 64 for data in buttons.values())

    platform.clear()
    press = payload("telegram_callback_query.json")
    press["callback_query"]["data"] = buttons["Ik wacht"]
    assert telegram(assistant, press).status_code == 200
    platform.wait_for("/answerCallbackQuery")
    answer = sent_texts(platform.wait_for("/sendMessage"), "text")
    assert "blijft staan" in answer


def test_the_person_taking_over_reads_the_warning_the_notifier_sent(
    assistant: RunningAssistant, platform: PlatformStandIn
) -> None:
    """A warning to a chat the shop registered is sent by the notifier itself,
    with no Rasa turn (bot/proactive/direct.py): Rasa's record of the
    conversation does not hold it, and the handoff's transcript still shows it
    in its place, before the customer's words that answer it."""
    register(assistant, 1001, "telegram", "777000111")
    platform.clear()
    reason = "de lakstraat van de fabriek ligt een week stil"
    post_delay(
        assistant,
        {
            "supplier": "Gazelle",
            "delay_days": 9,
            "reason_code": "production_problem",
            "reason": reason,
        },
    )
    assert reason in pushed(assistant, platform, "/sendMessage").body["text"]

    platform.clear()
    words = payload("telegram_message.json")
    words["message"]["text"] = "dit is de tweede keer, ik wil een medewerker spreken"
    assert telegram(assistant, words).status_code == 200
    platform.wait_for("/sendMessage")

    record = requests.get(
        f"{assistant.rasa_url}/conversations/telegram:777000111/tracker",
        params={"token": assistant.env["RASA_TOKEN"]},
        timeout=10,
    ).json()
    assert not any(reason in str(event.get("text") or "") for event in record["events"])

    staff = requests.Session()
    staff.post(f"{assistant.web_url}/staff/login", data={"password": STAFF_PASSWORD}, timeout=10)
    queue = staff.get(f"{assistant.web_url}/staff/handoffs", timeout=10).text
    pages = [
        staff.get(f"{assistant.web_url}/staff/handoffs/{handoff_id}", timeout=10).text
        for handoff_id in re.findall(r'data-handoff="(\d+)"', queue)
    ]
    [page] = [page for page in pages if "ik wil een medewerker spreken" in page]
    story = page[page.index('id="transcript"') :]  # the conversation, in time order
    assert reason in story and "ik wil een medewerker spreken" in story
    assert story.index(reason) < story.index("ik wil een medewerker spreken")


# --- Slack ------------------------------------------------------------------------


def slack(assistant: RunningAssistant, body: bytes, content_type: str, sign: bool = True):
    stamp = str(int(time.time()))
    digest = hmac.new(
        SLACK_SIGNING_SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256
    ).hexdigest()
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp}
    headers["X-Slack-Signature"] = f"v0={digest}" if sign else "v0=" + "0" * 64
    return requests.post(
        f"{assistant.rasa_url}/webhooks/slack/webhook", data=body, headers=headers, timeout=30
    )


def slack_json(assistant: RunningAssistant, event: dict[str, Any], sign: bool = True):
    return slack(assistant, json.dumps(event).encode(), "application/json", sign)


def test_slack_checks_signatures_and_answers_the_url_check(
    assistant: RunningAssistant, platform: PlatformStandIn
) -> None:
    check = payload("slack_url_verification.json")
    assert slack_json(assistant, check, sign=False).status_code == 400
    response = slack_json(assistant, check)
    assert response.status_code == 200 and check["challenge"] in response.text


def test_slack_direct_message_and_warning_buttons(
    assistant: RunningAssistant, platform: PlatformStandIn
) -> None:
    register(assistant, 1005, "slack", "U2147483697")
    platform.clear()
    assert slack_json(assistant, payload("slack_message_im.json")).status_code == 200
    calls = platform.wait_for("/chat.postMessage")
    assert calls[0].headers.get("Authorization") == "Bearer xoxb-e2e-token"
    assert all(call.body["channel"] == "D024BE91L" for call in calls)
    assert "as_user" not in calls[0].body
    assert "Abus" in sent_texts(calls, "text")

    # A mention in a shared channel gets nothing: order details stay private.
    platform.clear()
    assert slack_json(assistant, payload("slack_message_channel.json")).status_code == 200
    time.sleep(2)
    assert platform.calls_to("/chat.postMessage") == []

    post_delay(
        assistant,
        {
            "supplier": "Abus",
            "delay_days": 6,
            "reason_code": "supplier_delay",
            "reason": "the paint shop is behind",
        },
    )
    warning = pushed(assistant, platform, "/chat.postMessage")
    # A push goes to the user id: Slack opens the bot's direct messages with them.
    assert warning.body["channel"] == "U2147483697"
    blocks = warning.body["blocks"]
    assert "the paint shop is behind" in blocks[0]["text"]["text"]
    values = {e["text"]["text"]: e["value"] for e in blocks[1]["elements"]}
    assert "I'll wait" in values or any("wait" in title.lower() for title in values)

    platform.clear()
    press = payload("slack_block_actions.json")
    title = next(t for t in values if "wait" in t.lower())
    press["actions"][0]["value"] = values[title]
    press["actions"][0]["text"]["text"] = title
    body = urlencode({"payload": json.dumps(press)}).encode()
    assert slack(assistant, body, "application/x-www-form-urlencoded").status_code == 200
    assert "stays" in sent_texts(platform.wait_for("/chat.postMessage"), "text")


# --- Twilio: SMS and WhatsApp --------------------------------------------------------


def twilio(assistant: RunningAssistant, params: dict[str, str], valid: bool = True):
    sig = twilio_signature(TWILIO_TOKEN if valid else "wrong", TWILIO_WEBHOOK_URL, params)
    return requests.post(
        f"{assistant.rasa_url}/webhooks/twilio/webhook",
        data=params,
        headers={"X-Twilio-Signature": sig},
        timeout=30,
    )


def sms_from(number: str, body: str) -> dict[str, str]:
    params = {k: str(v) for k, v in payload("twilio_sms.json").items()}
    params.update(From=number, Body=body)
    return params


def whatsapp_from(number: str, body: str) -> dict[str, str]:
    params = {k: str(v) for k, v in payload("twilio_whatsapp.json").items()}
    params.update(From=f"whatsapp:{number}", Body=body)
    return params


def messages(platform: PlatformStandIn, count: int = 1) -> list[Call]:
    return platform.wait_for(f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json", count)


def test_twilio_refuses_an_unsigned_message(
    assistant: RunningAssistant, platform: PlatformStandIn
) -> None:
    platform.clear()
    assert twilio(assistant, sms_from("+31612345678", "hoi"), valid=False).status_code == 403
    time.sleep(1)
    assert platform.calls == []


def test_sms_warning_with_numbered_choices_and_a_number_as_the_answer(
    assistant: RunningAssistant, platform: PlatformStandIn
) -> None:
    register(assistant, 1002, "twilio", "+31612345678")
    platform.clear()
    post_delay(
        assistant,
        {
            "supplier": "TabletWereld",
            "delay_days": 5,
            "reason_code": "supplier_out_of_stock",
            "reason": "de nieuwe zending is nog niet binnen",
        },
    )
    warning = pushed(assistant, platform, "/Messages.json")
    assert (
        warning.headers["Authorization"]
        == "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    )
    assert warning.body["To"] == "+31612345678" and warning.body["From"] == TWILIO_NUMBER
    text = warning.body["Body"]
    assert "de nieuwe zending is nog niet binnen" in text
    assert "1. Ik wacht" in text and "Antwoord met het nummer" in text
    assert "/keep_order" not in text  # payloads are never shown

    platform.clear()
    assert twilio(assistant, sms_from("+31612345678", "1")).status_code == 200
    assert "blijft staan" in messages(platform)[-1].body["Body"]


def test_whatsapp_outside_24_hours_sends_the_approved_template(
    assistant: RunningAssistant, platform: PlatformStandIn
) -> None:
    """Daan never wrote on WhatsApp: free text is not allowed, the template is."""
    register(assistant, 1006, "twilio", "whatsapp:+31687654321")
    platform.clear()
    today = shop_today("Europe/Amsterdam")
    response = requests.post(
        f"{assistant.web_url}/api/v1/orders/10006/events",
        json={
            "field": "promised_date",
            "new_value": (today + timedelta(days=9)).isoformat(),
            "reason_code": "carrier_delay",
            "reason": "de vervoerder heeft een achterstand",
            "party_type": "carrier",
            "party_name": "PostNL",
        },
        headers=API,
        timeout=30,
    )
    assert response.status_code in (200, 201, 202), response.text
    template = pushed(assistant, platform, "/Messages.json")
    assert template.body["To"] == "whatsapp:+31687654321"
    assert template.body["From"] == f"whatsapp:{TWILIO_NUMBER}"
    assert template.body["ContentSid"] == TEMPLATE_NL
    assert "Body" not in template.body
    variables = json.loads(template.body["ContentVariables"])
    assert "de vervoerder heeft een achterstand" in variables["2"]
    assert "\n" not in variables["2"]

    # Daan answers: inside the 24 hours now, so free text with numbered choices.
    platform.clear()
    assert (
        twilio(assistant, whatsapp_from("+31687654321", "wat is er aan de hand?")).status_code
        == 200
    )
    reply = messages(platform)[-1]
    assert "Body" in reply.body and "ContentSid" not in reply.body
    assert reply.body["To"] == "whatsapp:+31687654321"


def delay_refused_then_sent(
    assistant: RunningAssistant, platform: PlatformStandIn, path: str, supplier: str, reason: str
) -> dict[str, Any]:
    """A supplier's delay while the platform answers `path` with 500, until it
    was tried twice; then the platform is back. The latest warning in the
    outbox once it is sent (it fails the test when it is not, within a minute)."""
    platform.clear()
    platform.failing.add(path)
    try:
        post_delay(
            assistant,
            {
                "supplier": supplier,
                "delay_days": 2,
                "reason_code": "supplier_delay",
                "reason": reason,
            },
        )
        platform.wait_for(path, count=2)  # tried, and tried again
    finally:
        platform.failing.clear()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        outbox = requests.get(f"{assistant.web_url}/api/v1/outbox", headers=API, timeout=10)
        latest = max(outbox.json()["warnings"], key=lambda warning: warning["id"])
        if latest["status"] == "sent":
            break
        time.sleep(0.5)
    assert latest["status"] == "sent", latest
    return dict(latest)


def test_a_platform_failure_leaves_the_warning_to_be_retried(
    assistant: RunningAssistant, platform: PlatformStandIn
) -> None:
    """Telegram answers 500: the push fails, the notifier tries again, nothing is lost."""
    register(assistant, 1001, "telegram", "777000111")
    latest = delay_refused_then_sent(
        assistant, platform, "/sendMessage", "Gazelle", "de lakstraat ligt stil"
    )
    told = [c for c in platform.calls_to("/sendMessage") if "lakstraat" in c.body["text"]]
    assert len(told) >= 3  # two refused, then the one that reached Erik
    assert latest["attempts"] >= 1, "the refusals were counted as failed tries"


def test_a_slack_failure_leaves_the_warning_to_be_retried(
    assistant: RunningAssistant, platform: PlatformStandIn
) -> None:
    """Slack's SDK raises its own error on a 500: the notifier, which sends a
    warning to a registered Slack user itself, tries again; nothing is lost."""
    register(assistant, 1005, "slack", "U2147483697")
    latest = delay_refused_then_sent(
        assistant, platform, "/chat.postMessage", "Abus", "the varnish did not dry"
    )
    assert latest["attempts"] >= 1, "the refusals were counted as failed tries"


def test_telegram_webhook_is_set_with_its_secret(platform: PlatformStandIn) -> None:
    platform.clear()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "TELEGRAM_ACCESS_TOKEN": "6000000001:AAE-e2e-token",
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_URL": platform.url,
    }
    url = "https://shop.example/webhooks/telegram/webhook"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "telegram-webhook", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    call = platform.wait_for("/setWebhook")[-1]
    assert call.path == "/bot6000000001:AAE-e2e-token/setWebhook"
    assert call.body["url"] == url and call.body["secret_token"] == TELEGRAM_SECRET
    refused = subprocess.run(
        [sys.executable, "-m", "bot", "telegram-webhook", "http://plain.example/hook"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1 and "https" in refused.stderr
