"""`make run`: Rasa, the action server, the web service and the notifier, together.

Ctrl-C or SIGTERM stops them all cleanly; if one dies, the rest are stopped too.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from bot.channels.credentials import CredentialsError, write_active_credentials
from bot.processes import stop_all, wait_until_ready
from bot.settings import PROJECT_ROOT, Settings
from bot.texts import TextsError, load_catalog


def action_server_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "rasa_sdk",
        "--actions",
        "actions",
        "--port",
        str(settings.action_port),
    ]


def active_credentials_path() -> Path:
    """What this run's Rasa gets: credentials.yml less the channels without their
    variables. One file per run, so that runs side by side keep their own."""
    return PROJECT_ROOT / "var" / f"credentials.{os.getpid()}.yml"


def rasa_server_command(
    settings: Settings, model: str, credentials: Path, endpoints: Path | None = None
) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "rasa",
        "run",
        "--model",
        model,
        "--port",
        str(settings.rasa_port),
        "--interface",
        settings.rasa_host,
        "--credentials",
        str(credentials),
        "--endpoints",
        str(endpoints or "endpoints.yml"),
        "--cors",
        "*",
    ]
    if settings.rasa_token:
        # The HTTP API only with a token: without one it is CVE-2024-49375's way in.
        command += ["--enable-api", "--auth-token", settings.rasa_token]
    return command


def child_environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env["ACTION_PORT"] = str(settings.action_port)
    # rasa-sdk listens on SANIC_HOST (0.0.0.0 by default) and has no auth.
    env["SANIC_HOST"] = settings.action_host
    # No telemetry calls out of a shop's servers (and no network here anyway).
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    return env


def with_rasa_token(settings: Settings) -> Settings:
    """The notifier needs Rasa's HTTP API, and that API needs a token: make one
    for this run when none is configured (it is never enabled without)."""
    if settings.rasa_token:
        return settings
    return dataclasses.replace(settings, rasa_token=secrets.token_urlsafe(32))


def with_staff_password(settings: Settings) -> tuple[Settings, bool]:
    """The staff pages have no built-in password: without STAFF_PASSWORD, one
    for this run (True when made here, so that it is printed once)."""
    if settings.staff_password:
        return settings, False
    return dataclasses.replace(settings, staff_password=secrets.token_urlsafe(12)), True


def cannot_start(settings: Settings, model: str) -> str | None:
    """Why nothing should start (no model, texts with mistakes); None when ready."""
    if not Path(model).exists():
        return f"no trained model at {model}: run 'make train' first"
    try:
        # The texts staff may edit are checked before anything starts.
        load_catalog(settings.reason_texts_path, settings.message_texts_path)
    except TextsError as error:
        return f"text files: {error}"
    return None


def run_services(settings: Settings, model: str, without: tuple[str, ...] = ()) -> int:
    problem = cannot_start(settings, model)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        credentials = active_credentials_path()
        channels = write_active_credentials(settings.credentials_path, os.environ, credentials)
    except CredentialsError as error:
        print(f"channels: {error}", file=sys.stderr)
        return 2
    settings = with_rasa_token(settings)
    env = child_environment(settings)
    env["RASA_TOKEN"] = settings.rasa_token
    settings, made_staff_password = with_staff_password(settings)
    env.setdefault("RASA_URL", f"http://127.0.0.1:{settings.rasa_port}")
    processes: list[subprocess.Popen[bytes]] = []
    stopping = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    processes.append(subprocess.Popen(action_server_command(settings), cwd=PROJECT_ROOT, env=env))
    processes.append(
        subprocess.Popen(
            rasa_server_command(settings, model, credentials), cwd=PROJECT_ROOT, env=env
        )
    )
    for command in ("web", "notifier"):
        if command in without:
            continue
        # Only the web service serves the staff pages: only it gets the password.
        child_env = {**env, "STAFF_PASSWORD": settings.staff_password} if command == "web" else env
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "bot", command], cwd=PROJECT_ROOT, env=child_env
            )
        )
    print(
        f"starting: action server on {settings.action_host}:{settings.action_port}, "
        f"Rasa on {settings.rasa_host}:{settings.rasa_port} (loading the model takes a while), "
        f"web service on {settings.web_host}:{settings.web_port}, notifier; "
        f"channels: {', '.join(sorted(channels))}"
    )
    if made_staff_password and "web" not in without:
        # Once, on the console only (never in a log file we write).
        print(
            f"staff dashboard: http://127.0.0.1:{settings.web_port}/staff, "
            f"password for this run: {settings.staff_password}"
        )
    ready_url = f"http://127.0.0.1:{settings.rasa_port}/"
    if wait_until_ready(ready_url, processes[1], timeout=300, cancelled=lambda: stopping):
        print(
            f"ready: POST http://127.0.0.1:{settings.rasa_port}/webhooks/rest/webhook "
            '{"sender": "me", "message": "hallo"}'
        )
    exit_code = 0
    while not stopping:
        for process in processes:
            if process.poll() is not None:
                print(
                    f"a process stopped (exit {process.returncode}); stopping the rest",
                    file=sys.stderr,
                )
                exit_code = 1
                stopping = True
        time.sleep(0.5)
    stop_all(processes)
    credentials.unlink(missing_ok=True)
    print("stopped")
    return exit_code
