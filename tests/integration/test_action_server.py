"""The action server answers only Rasa, and one slow action holds up no other turn.

A real `python -m bot.action_server` process on a free port.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.processes import free_port, stop_all, wait_until_ready
from bot.settings import PROJECT_ROOT
from tests.conftest import PUSH_SECRET, SHOP_SECRET

TOKEN = secrets.token_urlsafe(32)


def action_call(action: str, sender: str = "someone") -> dict[str, Any]:
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {},
            "latest_message": {"text": "hallo", "intent": {}, "entities": []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        },
    }


def start_server(
    env: dict[str, str], log: Path, actions: str = "tests.integration.action_server_actions"
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.action_server", "--actions", actions, "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, f"http://127.0.0.1:{port}"


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"DEMO_SHOP", "ACTION_SERVER_TOKEN", "PUSH_SECRET", "RASA_TOKEN", "PROOF_SECRET"}
    }
    env.update(
        {
            "PYTHONPATH": str(PROJECT_ROOT),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
            "SHOP_TOKEN_SECRET": SHOP_SECRET,
            "PUSH_SECRET": PUSH_SECRET,
        }
    )
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("action-server")
    env = {**base_env(folder), "ACTION_SERVER_TOKEN": TOKEN}
    process, url = start_server(env, folder / "log")
    try:
        if not wait_until_ready(f"{url}/health", process, timeout=60):
            pytest.fail((folder / "log").read_text()[-3000:])
        yield url
    finally:
        stop_all([process])


def test_a_request_without_the_token_gets_401(server: str) -> None:
    for params in ({}, {"token": "wrong"}, {"token": ""}, {"token": TOKEN[:-1]}):
        answer = requests.post(
            f"{server}/webhook", params=params, json=action_call("action_quick"), timeout=10
        )
        assert answer.status_code == 401, params
        assert "quick" not in answer.text
    assert requests.get(f"{server}/actions", timeout=10).status_code == 401


def test_rasa_with_the_token_is_answered(server: str) -> None:
    answer = requests.post(
        f"{server}/webhook", params={"token": TOKEN}, json=action_call("action_quick"), timeout=10
    )
    assert answer.status_code == 200
    assert answer.json()["responses"][0]["text"] == "quick for someone"
    asynchronous = requests.post(
        f"{server}/webhook",
        params={"token": TOKEN},
        json=action_call("action_async_quick"),
        timeout=10,
    )
    assert asynchronous.json()["responses"][0]["text"] == "async done"
    assert requests.get(f"{server}/health", timeout=10).status_code == 200


def test_a_failing_action_gives_away_nothing_of_the_request(server: str) -> None:
    answer = requests.post(
        f"{server}/webhook",
        params={"token": TOKEN},
        json=action_call("action_broken", sender="erik-private-id"),
        timeout=10,
    )
    assert answer.status_code == 500
    assert "erik-private-id" not in answer.text and "secret detail" not in answer.text


def test_a_slow_action_holds_up_no_other_conversation(server: str) -> None:
    """rasa-sdk runs a synchronous run() on its event loop: there the quick
    answer would wait for the slow one. Here the quick one finishes first."""
    finished: list[str] = []

    def call(action: str) -> None:
        requests.post(
            f"{server}/webhook", params={"token": TOKEN}, json=action_call(action), timeout=30
        ).raise_for_status()
        finished.append(action)

    slow = threading.Thread(target=call, args=("action_slow_lookup",))
    slow.start()
    time.sleep(0.5)  # the slow action is running
    call("action_quick")
    slow.join()
    assert finished == ["action_quick", "action_slow_lookup"]


def test_without_a_token_the_action_server_does_not_start(tmp_path: Path) -> None:
    for token in ("", "short", "dev-only-example-token-change-me-0123456789"):
        env = {**base_env(tmp_path), "ACTION_SERVER_TOKEN": token}
        process, _url = start_server(env, tmp_path / "log")
        assert process.wait(timeout=60) == 2
        assert "ACTION_SERVER_TOKEN" in (tmp_path / "log").read_text()
