"""Rasa and the action server on free ports, with warnings answered into a
callback sink: the stack the notifier tests and the proactive benchmark push to.
(The notifiers and the web service they start themselves, or not at all.)"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.processes import free_port, stop_all, wait_until_ready
from bot.settings import PROJECT_ROOT
from scripts.callback_sink import CallbackSink

MODEL = PROJECT_ROOT / "models" / "order-assistant.tar.gz"


@dataclass
class AssistantStack:
    process: subprocess.Popen[bytes]
    env: dict[str, str]  # also what a notifier for this stack runs with
    rasa_url: str

    def stop(self) -> None:
        stop_all([self.process])


def start_assistant_stack(
    database_url: str, token: str, folder: Path, sink: CallbackSink, **settings: str
) -> AssistantStack:
    """Start and wait until both servers answer; `settings` are extra environment."""
    folder.mkdir(parents=True, exist_ok=True)
    credentials = folder / "credentials.yml"
    credentials.write_text(sink.credentials())
    rasa_port, action_port = free_port(), free_port()
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        # A benchmark, not production: the demo's secrets where none are set.
        "DEMO_SHOP": "true",
        "RASA_TOKEN": token,
        "RASA_PORT": str(rasa_port),
        "RASA_URL": rasa_url,
        "ACTION_PORT": str(action_port),
        "PYTHONPATH": str(PROJECT_ROOT),
        "CREDENTIALS_PATH": str(credentials),
        # Warnings go out at any hour; the watcher stays out of the way.
        "QUIET_HOURS_START": "0",
        "QUIET_HOURS_END": "0",
        "WATCH_INTERVAL_SECONDS": "3600",
        **settings,
    }
    log_path = folder / "assistant.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--model", str(MODEL)]
            + ["--without", "notifier", "--without", "web"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    stack = AssistantStack(process, env, rasa_url)
    for ready in (f"{rasa_url}/", f"http://127.0.0.1:{action_port}/health"):
        if not wait_until_ready(ready, process, timeout=300):
            stack.stop()
            raise RuntimeError(f"assistant did not start:\n{log_path.read_text()[-3000:]}")
    return stack
