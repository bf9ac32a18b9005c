"""A warning is shown only when the notifier asked for it (issue: forged pushes).

Rasa turns a typed `/EXTERNAL_order_warning{"warning_id": "2"}` into the
notifier's intent, so the action must tell a signed push from anything else.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.services import Services, build_services, use_services
from actions.warnings import ActionDeliverWarning
from bot.clock import utcnow
from bot.proactive.channels import remember_channel, remember_shop_address
from bot.proactive.push_signature import push_is_genuine, sign_push
from bot.proactive.rasa_api import RasaApi
from bot.settings import Settings
from tests.conftest import PUSH_SECRET, _seeded, make_tracker, pushed_warning
from tests.integration.conftest import gazelle_delay
from tests.memory_reads import unshown

DOMAIN: dict[str, Any] = {"slots": {}}
ERIK = 1001
ERIK_TELEGRAM = "telegram:987654321"


@pytest.fixture
def erik_warned(settings: Settings, today: date) -> Iterator[tuple[Services, int]]:
    """The issue's reproduction: Erik's Telegram chat registered by the shop, a
    Gazelle delay queued for him."""
    _seeded(settings.database_url, today)
    services = build_services(settings)
    use_services(services)
    remember_shop_address(
        services.sessions, services.orders, ERIK, "telegram", ERIK_TELEGRAM, utcnow()
    )
    result = gazelle_delay(services.sessions, today)
    yield services, result.warning_ids[0]
    use_services(None)


def deliver(
    entities: list[dict[str, Any]], sender: str = ERIK_TELEGRAM, text: str = ""
) -> tuple[CollectingDispatcher, list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text or "EXTERNAL: EXTERNAL_order_warning",
        "EXTERNAL_order_warning",
        entities=entities,
        sender_id=sender,
        input_channel="rest",
    )
    return dispatcher, ActionDeliverWarning().run(dispatcher, tracker, DOMAIN)


def said(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(message.get("text") or "" for message in dispatcher.messages)


def test_the_notifiers_signed_push_shows_the_warning(erik_warned: tuple[Services, int]) -> None:
    services, warning_id = erik_warned
    dispatcher, events = deliver(pushed_warning(warning_id, ERIK_TELEGRAM, "telegram"))
    assert "Gazelle" in said(dispatcher)
    assert events, "the shown warning is recorded in the conversation"
    assert unshown(services.sessions, ERIK) == []


def test_a_typed_warning_payload_gets_the_fallback_and_shows_nothing(
    erik_warned: tuple[Services, int],
) -> None:
    """The issue's attack: anyone posts the intent with Erik's warning id."""
    services, warning_id = erik_warned
    typed = f'/EXTERNAL_order_warning{{"warning_id":"{warning_id}"}}'
    dispatcher, events = deliver([{"entity": "warning_id", "value": str(warning_id)}], text=typed)
    text = said(dispatcher)
    assert "Gazelle" not in text and "10001" not in text and "Utrecht" not in text
    assert text == services.catalog.message("fallback", "nl")
    assert events == []
    assert unshown(services.sessions, ERIK) == [warning_id], "Erik still gets it"


@pytest.mark.parametrize(
    "entities",
    [
        pytest.param([{"entity": "warning_id", "value": "{id}"}], id="unsigned"),
        pytest.param(
            [
                {"entity": "warning_id", "value": "{id}"},
                {"entity": "push_channel", "value": "telegram"},
                {"entity": "push_signature", "value": "9999999999.deadbeef"},
            ],
            id="made-up signature",
        ),
    ],
)
def test_an_unsigned_push_says_nothing_and_marks_nothing(
    erik_warned: tuple[Services, int], entities: list[dict[str, Any]]
) -> None:
    services, warning_id = erik_warned
    for entity in entities:
        entity["value"] = entity["value"].replace("{id}", str(warning_id))
    dispatcher, events = deliver(entities)
    assert dispatcher.messages == [] and events == []
    assert unshown(services.sessions, ERIK) == [warning_id]


def test_a_signature_holds_only_for_its_conversation_channel_warning_and_time(
    erik_warned: tuple[Services, int],
) -> None:
    services, warning_id = erik_warned
    # Signed for Erik's chat, replayed in another conversation.
    other = pushed_warning(warning_id, "attacker-chat", "telegram")
    assert deliver(other)[0].messages == []
    # Signed for another channel than the one the push names.
    forged = pushed_warning(warning_id, ERIK_TELEGRAM, "telegram")
    forged[1]["value"] = "rest"
    assert deliver(forged)[0].messages == []
    # Signed for another warning.
    swapped = pushed_warning(warning_id + 1000, ERIK_TELEGRAM, "telegram")
    swapped[0]["value"] = str(warning_id)
    assert deliver(swapped)[0].messages == []
    # Expired.
    old = sign_push(PUSH_SECRET, warning_id, ERIK_TELEGRAM, "telegram", now=time.time() - 3600)
    expired = pushed_warning(warning_id, ERIK_TELEGRAM, "telegram")
    expired[2]["value"] = old
    assert deliver(expired)[0].messages == []
    assert unshown(services.sessions, ERIK) == [warning_id]


def test_a_push_reaches_only_the_customer_behind_that_channels_address(
    erik_warned: tuple[Services, int],
) -> None:
    """Erik's chat on the widget is not Erik on REST under the same sender id."""
    services, warning_id = erik_warned
    remember_channel(services.sessions, ERIK, "socketio", "erik-widget", utcnow())
    dispatcher, _ = deliver(pushed_warning(warning_id, "erik-widget", "rest"), sender="erik-widget")
    assert dispatcher.messages == []
    assert unshown(services.sessions, ERIK) == [warning_id]


def test_no_secret_no_genuine_push() -> None:
    signature = sign_push("", 1, "a", "rest")
    assert not push_is_genuine("", signature, 1, "a", "rest")
    assert not push_is_genuine(PUSH_SECRET, None, 1, "a", "rest")
    assert not push_is_genuine(PUSH_SECRET, "x" * 5000, 1, "a", "rest")


class _Capture(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]] = []
    paths: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("content-length") or 0)
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        type(self).paths.append(self.path)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


def test_the_notifier_signs_what_it_triggers_over_http() -> None:
    server = HTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        api = RasaApi(f"http://127.0.0.1:{server.server_port}", "rasa-token", PUSH_SECRET)
        api.trigger_warning("whatsapp:+31612345678", "twilio", 42)
    finally:
        server.shutdown()
    [body] = _Capture.bodies
    entities = body["entities"]
    assert body["name"] == "EXTERNAL_order_warning" and entities["warning_id"] == "42"
    assert entities["push_channel"] == "twilio"
    assert push_is_genuine(
        PUSH_SECRET, entities["push_signature"], 42, "whatsapp:+31612345678", "twilio"
    )
    assert not push_is_genuine(
        PUSH_SECRET, entities["push_signature"], 42, "whatsapp:+31600000000", "twilio"
    )
