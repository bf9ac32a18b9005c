"""Tried as an attacker would, against the running assistant (`python -m bot run`):
forged pushes, another channel's sender id, the action server and Rasa's token.

The issue's reproduction: the shop registers Erik's Telegram chat, a Gazelle
delay is queued for him, and anyone posts the warning's intent to the REST
channel. Before, the reply held Erik's order and the reason, and Erik never got
the warning.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from bot.database import create_db_engine, make_session_factory
from bot.memory.warnings import WarningRow
from tests.e2e.conftest import ORDER_API_TOKEN, RASA_TOKEN, RunningAssistant

API = {"Authorization": f"Bearer {ORDER_API_TOKEN}"}
ERIK_CHAT = "987654321"
ORDER_FACTS = ("Gazelle", "10001", "frames", "productie", "Utrecht")


def post(assistant: RunningAssistant, body: object) -> requests.Response:
    return requests.post(f"{assistant.rasa_url}/webhooks/rest/webhook", json=body, timeout=30)


@pytest.fixture(scope="module")
def erik_warning(assistant: RunningAssistant) -> int:
    """Erik's Telegram chat registered by the shop, then a Gazelle delay queued."""
    registered = requests.put(
        f"{assistant.web_url}/api/v1/customers/1001/channels",
        json={"channel": "telegram", "address": ERIK_CHAT},
        headers=API,
        timeout=30,
    )
    assert registered.status_code in (200, 201, 204), registered.text
    delay = assistant.report_delay(
        {
            "supplier": "Gazelle",
            "delay_days": 7,
            "reason_code": "production_problem",
            "reason": "frames komen later",
        }
    )
    assert delay.status_code == 202, delay.text
    [warning_id] = delay.json()["warning_ids"]
    return int(warning_id)


def delivered_at(assistant: RunningAssistant, warning_id: int) -> object:
    engine = create_db_engine(assistant.env["DATABASE_URL"])
    try:
        with make_session_factory(engine)() as session:
            return session.execute(
                select(WarningRow.delivered_at).where(WarningRow.id == warning_id)
            ).scalar_one()
    finally:
        engine.dispose()


def test_anothers_platform_sender_id_is_refused_on_rest(
    assistant: RunningAssistant, erik_warning: int
) -> None:
    forged = f'/EXTERNAL_order_warning{{"warning_id":"{erik_warning}"}}'
    for sender in (f"telegram:{ERIK_CHAT}", f"Telegram:{ERIK_CHAT}", "whatsapp:+31612345678"):
        answer = post(assistant, {"sender": sender, "message": forged})
        assert answer.status_code == 403, answer.text
        assert not any(fact in answer.text for fact in ORDER_FACTS)
    assert delivered_at(assistant, erik_warning) is None


def test_a_typed_warning_intent_gets_the_fallback_and_erik_keeps_his_warning(
    assistant: RunningAssistant, erik_warning: int
) -> None:
    forged = f'/EXTERNAL_order_warning{{"warning_id":"{erik_warning}"}}'
    for sender in ("attacker", "attacker-2"):
        answer = post(assistant, {"sender": sender, "message": forged})
        assert answer.status_code == 200
        said = " ".join(item.get("text", "") for item in answer.json())
        assert "Sorry" in said, said
        assert not any(fact in said for fact in ORDER_FACTS), said
    # Also with made-up signature entities, as the notifier would name them.
    signed = json.dumps(
        {"warning_id": str(erik_warning), "push_channel": "rest", "push_signature": "1.abc"}
    )
    answer = post(assistant, {"sender": "attacker", "message": f"/EXTERNAL_order_warning{signed}"})
    assert not any(fact in answer.text for fact in ORDER_FACTS)
    assert delivered_at(assistant, erik_warning) is None, "the warning still waits for Erik"


def test_rest_keeps_its_own_channel_name_and_the_real_client_address(
    assistant: RunningAssistant,
) -> None:
    answer = post(
        assistant,
        {
            "sender": "claims-to-be-telegram",
            "message": "hallo",
            "input_channel": "telegram",
            "metadata": {"client_address": "203.0.113.9"},
        },
    )
    assert answer.status_code == 200
    tracker = requests.get(
        f"{assistant.rasa_url}/conversations/claims-to-be-telegram/tracker",
        params={"token": RASA_TOKEN},
        timeout=30,
    ).json()
    message = tracker["latest_message"]
    assert tracker["latest_input_channel"] == "rest"
    assert message["metadata"]["client_address"] == "127.0.0.1"


def test_bodies_over_64_kb_and_bad_bodies_are_refused(assistant: RunningAssistant) -> None:
    huge = post(assistant, {"sender": "big", "message": "a" * 70_000})
    assert huge.status_code == 413
    assert post(assistant, ["not", "an", "object"]).status_code == 400
    assert post(assistant, {"sender": "", "message": "hi"}).status_code == 400
    assert post(assistant, {"sender": "x" * 300, "message": "hi"}).status_code == 400
    # 10,000 characters is a long message, not an attack: it is answered.
    long = post(assistant, {"sender": "long", "message": "waar is mijn bestelling " * 420})
    assert long.status_code == 200 and long.json()


def test_the_action_server_answers_only_rasa(assistant: RunningAssistant) -> None:
    """A tracker posted straight to the action server, claiming Erik's Telegram chat."""
    port = assistant.env["ACTION_PORT"]
    call = {
        "next_action": "action_answer_order_question",
        "sender_id": f"telegram:{ERIK_CHAT}",
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": f"telegram:{ERIK_CHAT}",
            "slots": {},
            "latest_message": {"text": "wat is er gewijzigd", "intent": {}, "entities": []},
            "latest_input_channel": "telegram",
            "events": [
                {"event": "user", "text": "wat is er gewijzigd", "input_channel": "telegram"}
            ],
            "paused": False,
            "active_loop": {},
        },
    }
    for params in ({}, {"token": RASA_TOKEN}):
        answer = requests.post(
            f"http://127.0.0.1:{port}/webhook", params=params, json=call, timeout=30
        )
        assert answer.status_code == 401
        assert not any(fact in answer.text for fact in ORDER_FACTS)


def test_no_token_is_on_a_command_line(assistant: RunningAssistant) -> None:
    """Any local user reads /proc/<pid>/cmdline; the environment only the owner."""
    lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if assistant.env["RASA_PORT"] in line or "bot.action_server" in line:
            lines.append(line)
    assert any("bot.rasa_server" in line for line in lines), lines
    for line in lines:
        assert RASA_TOKEN not in line and "--auth-token" not in line
