"""`python -m bot run` as make run starts it: the console shows its processes
without the libraries' noise and ends with where to go, the log file gets every
line of every process, and Rasa reaches the project's action server with the
run's token through the endpoints file the run writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bot.processes import free_port, wait_until_ready
from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "order-assistant.tar.gz"


def test_the_console_is_filtered_and_the_log_file_gets_everything(tmp_path: Path) -> None:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run 'make train'", pytrace=False)
    rasa_port, action_port = free_port(), free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(PROJECT_ROOT),
        "DEMO_SHOP": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "RASA_TELEMETRY_ENABLED": "false",
    }
    subprocess.run(
        [sys.executable, "-m", "bot", "seed"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    log = tmp_path / "logs" / "run.log"
    console = tmp_path / "console.txt"
    with console.open("wb") as output:
        run = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "run",
                "--without",
                "web",
                "--without",
                "notifier",
                "--log-file",
                str(log),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_until_ready(f"http://127.0.0.1:{rasa_port}/", run, timeout=240), (
            console.read_text()
        )
        deadline = time.monotonic() + 30
        while "Ctrl-C stops everything." not in console.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        answer = requests.post(
            f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
            json={"sender": "log-test", "message": "waar is mijn bestelling?"},
            timeout=60,
        ).json()
        # Asked by action_answer_order_question: the action server took Rasa's call.
        assert any("bestelnummer" in message.get("text", "") for message in answer)
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
    shown = console.read_text()
    kept = log.read_text()
    assert run.returncode == 0, shown[-3000:]
    assert f"curl -s http://127.0.0.1:{rasa_port}/webhooks/rest/webhook" in shown
    assert f"full log         {log}" in shown
    assert "Rasa server is up and running" in shown
    for noise in ("DeprecationWarning", "declare_namespace", "Registered function for"):
        assert noise not in shown
        assert noise in kept
    # Each process's lines, under its name, nothing of the console's own lines missing.
    assert "rasa | " in kept and "actions | " in kept
    for line in shown.splitlines():
        if line.startswith(("20", "[20")):  # a process's log line, not the runner's own
            assert line in kept
    # The endpoints file written for this run is removed when it stops.
    assert not list((PROJECT_ROOT / "var").glob(f"endpoints.{run.pid}.yml"))
