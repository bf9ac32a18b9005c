"""What a Rasa developer types in the repository root works as shipped, with
nothing set but a database of its own: no ACTION_PORT, no token, no channel's
variables. The real commands, run from the root with the trained model."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from bot.processes import free_port, stop_all, wait_until_ready
from bot.settings import PROJECT_ROOT

RASA = str(Path(sys.executable).with_name("rasa"))
MODEL = PROJECT_ROOT / "models" / "order-assistant.tar.gz"
TRAINING_FILES = [PROJECT_ROOT / "config.yml", *PROJECT_ROOT.glob("domain/*.yml")] + [
    *PROJECT_ROOT.glob("data/**/*.yml")
]
CONVERSATIONS = sorted((PROJECT_ROOT / "tests" / "conversations").glob("test_*.yml"))


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """A shell with none of the project's variables, a database of the test's own."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
        "RASA_TELEMETRY_ENABLED": "false",
    }


@pytest.fixture(autouse=True)
def trained_model() -> None:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run 'make train'", pytrace=False)


def rasa(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RASA, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [RASA, *args], cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    stop_all(started)


def test_rasa_data_validate(clean_env: dict[str, str]) -> None:
    done = rasa(["data", "validate", "--fail-on-warnings"], clean_env, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # Rasa's default domain.yml is the domain/ folder: nothing is missing from it.
    assert "not part of the domain" not in done.stderr
    assert "Using empty domain" not in done.stderr


def test_rasa_train_reads_what_make_train_reads(clean_env: dict[str, str]) -> None:
    """`rasa train --dry-run` with Rasa's default paths finds the model `make
    train` made (with --domain domain --data data) up to date: the same files.
    A real `rasa train --out DIR` was run by hand; it takes minutes."""
    if MODEL.stat().st_mtime < max(path.stat().st_mtime for path in TRAINING_FILES):
        pytest.skip("the model is older than its training data: run 'make train'")
    done = rasa(["train", "--dry-run"], clean_env, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "No training of components required" in done.stdout


def test_rasa_run_starts_with_the_shipped_credentials(
    clean_env: dict[str, str], processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    port = free_port()
    args = ["run", "--enable-api", "--port", str(port), "--interface", "127.0.0.1"]
    processes.append(start(args, clean_env, tmp_path / "rasa.log"))
    status = f"http://127.0.0.1:{port}/status"
    assert wait_until_ready(status, processes[0], timeout=240), (tmp_path / "rasa.log").read_text()
    assert requests.get(status, timeout=10).json()["model_file"] == MODEL.name
    # The channels that need no secret: REST and the widget's socket.io.
    rest = requests.get(f"http://127.0.0.1:{port}/webhooks/rest/", timeout=10)
    assert rest.json() == {"status": "ok"}
    socketio = requests.get(f"http://127.0.0.1:{port}/webhooks/socketio/", timeout=10)
    assert socketio.status_code == 200


def test_rasa_run_actions_serves_the_projects_actions(
    clean_env: dict[str, str], processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    port = free_port()
    env = {**clean_env, "DEMO_SHOP": "true", "SANIC_HOST": "127.0.0.1"}
    processes.append(start(["run", "actions", "--port", str(port)], env, tmp_path / "sdk.log"))
    url = f"http://127.0.0.1:{port}"
    assert wait_until_ready(f"{url}/health", processes[0], timeout=120), (
        tmp_path / "sdk.log"
    ).read_text()
    names = {action["name"] for action in requests.get(f"{url}/actions", timeout=10).json()}
    assert "action_answer_order_question" in names


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_rasa_shell_with_rasa_run_actions(
    clean_env: dict[str, str], processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """The shipped endpoints.yml points at rasa-sdk's default port: a customer
    asks where the order is and the action asks for the order number."""
    action_url = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())["action_endpoint"]
    assert action_url["url"] == "http://localhost:5055/webhook"
    if not _port_is_free(5055):
        pytest.skip("port 5055 (rasa-sdk's default, in endpoints.yml) is taken by another process")
    env = {**clean_env, "DEMO_SHOP": "true", "SANIC_HOST": "127.0.0.1"}
    seeded = subprocess.run(
        [sys.executable, "-m", "bot", "seed"],
        cwd=PROJECT_ROOT,
        env={**env, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seeded.returncode == 0, seeded.stderr
    processes.append(start(["run", "actions"], env, tmp_path / "sdk.log"))
    assert wait_until_ready("http://127.0.0.1:5055/health", processes[0], timeout=120)
    done = subprocess.run(
        [RASA, "shell", "--port", str(free_port())],
        input="hallo\nwaar is mijn bestelling?\n/stop\n",
        cwd=PROJECT_ROOT,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Hoi!" in done.stdout
    assert "Wat is je bestelnummer?" in done.stdout  # said by the action server


def test_rasa_test_runs_the_projects_conversation_tests(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    """`rasa test` reads every test_*.yml story file under the root (and NLU
    from data/): ours in tests/conversations, nothing from .venv or pytest's."""
    stories = sum(len(yaml.safe_load(path.read_text())["stories"]) for path in CONVERSATIONS)
    done = rasa(["test", "--out", str(tmp_path / "results")], clean_env, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"Evaluating {stories} stories" in done.stdout + done.stderr
    # Exactly ours were evaluated; whether each is predicted right is
    # make test-conversations' job (rasa test core --e2e, every story must pass).
    report = json.loads((tmp_path / "results" / "story_report.json").read_text())
    assert report["conversation_accuracy"]["total"] == stories
