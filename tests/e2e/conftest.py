"""A real Rasa server and action server (`python -m bot run`) on free ports,
with a fresh demo database, for the end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "order-assistant.tar.gz"
SHOP_SECRET = "e2e-shop-secret-at-least-32-bytes-long"
RASA_TOKEN = "e2e-rasa-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningAssistant:
    process: subprocess.Popen[bytes]
    rasa_url: str
    log_path: Path
    env: dict[str, str]

    def say(
        self, sender: str, message: str, token: str | None = None, timeout: float = 30
    ) -> list[str]:
        body: dict[str, object] = {"sender": sender, "message": message}
        if token is not None:
            body["metadata"] = {"customer_token": token}
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=timeout
        )
        response.raise_for_status()
        return [item.get("text", "") for item in response.json()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"assistant exited early:\n{log_path.read_text()[-4000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"assistant not ready in time:\n{log_path.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAssistant]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run 'make train'", pytrace=False)
    folder = tmp_path_factory.mktemp("e2e")
    rasa_port, action_port = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'shop.db'}",
            "ORDER_SYSTEM": "sql",
            "SHOP_TOKEN_SECRET": SHOP_SECRET,
            "RASA_TOKEN": RASA_TOKEN,
            "RASA_PORT": str(rasa_port),
            "ACTION_PORT": str(action_port),
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    subprocess.run(
        [sys.executable, "-m", "bot", "seed"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log_path = folder / "assistant.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--model", str(MODEL)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = RunningAssistant(process, f"http://127.0.0.1:{rasa_port}", log_path, env)
    try:
        _wait_ready(f"{running.rasa_url}/", process, log_path)
        _wait_ready(f"http://127.0.0.1:{action_port}/health", process, log_path)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
