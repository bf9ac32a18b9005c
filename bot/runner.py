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
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from bot.channels.credentials import CredentialsError, write_active_credentials
from bot.console_log import LogFile, pump
from bot.processes import stop_all, wait_until_ready
from bot.run_secrets import LAUNCHER_NEEDS, secret_problems
from bot.settings import PROJECT_ROOT, Settings
from bot.texts import TextsError, load_catalog


def action_server_command(settings: Settings) -> list[str]:
    """rasa-sdk behind a token, actions on threads (bot/action_server.py); its
    token comes from the environment (child_environment)."""
    return [
        sys.executable,
        "-m",
        "bot.action_server",
        "--actions",
        "actions",
        "--port",
        str(settings.action_port),
    ]


def active_credentials_path() -> Path:
    """What this run's Rasa gets: credentials.yml less the channels without their
    variables. One file per run, so that runs side by side keep their own."""
    return PROJECT_ROOT / "var" / f"credentials.{os.getpid()}.yml"


def active_endpoints_path() -> Path:
    """This run's endpoints.yml, beside its credentials."""
    return PROJECT_ROOT / "var" / f"endpoints.{os.getpid()}.yml"


# The project's action server as this run starts it: Rasa fills the port and the
# token in from its environment (child_environment), so the file holds no secret.
RUN_ACTION_ENDPOINT = {
    "url": "http://127.0.0.1:${ACTION_PORT}/webhook",
    "token": "${ACTION_SERVER_TOKEN}",
    # Rasa sends its whole domain with every action call unless told not to;
    # only the form's validation (validate_*) reads it, and gets it still.
    "enable_selective_domain": True,
}


def endpoints_for_run(source: Path) -> dict[str, Any]:
    """endpoints.yml with its action_endpoint pointed at this run's action server.

    The shipped file names rasa-sdk's default address without a token, so that
    `rasa shell` works beside `rasa run actions`; Rasa cannot take a default for
    an unset `${VARIABLE}`, so the run's address and token are put in here."""
    endpoints = yaml.safe_load(source.read_text()) or {}
    if not isinstance(endpoints, dict):
        raise ValueError(f"{source} must map endpoint names to their settings")
    endpoints["action_endpoint"] = dict(RUN_ACTION_ENDPOINT)
    return endpoints


def write_run_endpoints(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "# Written by `python -m bot run` from endpoints.yml: this run's action server.\n"
        + yaml.safe_dump(endpoints_for_run(source), sort_keys=False)
    )


def rasa_server_command(
    settings: Settings, model: str, credentials: Path, endpoints: Path | None = None
) -> list[str]:
    # bot.rasa_server adds the API token from RASA_TOKEN: never on the command line.
    command = [
        sys.executable,
        "-m",
        "bot.rasa_server",
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
    return command


def secrets_environment(settings: Settings) -> dict[str, str]:
    """The secrets every process of a run shares (the demo's come from var/)."""
    return {
        "SHOP_TOKEN_SECRET": settings.shop_token_secret,
        "ORDER_API_TOKEN": settings.order_api_token,
        "RASA_TOKEN": settings.rasa_token,
        "PUSH_SECRET": settings.push_secret,
        "ACTION_SERVER_TOKEN": settings.action_server_token,
    }


def child_environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(secrets_environment(settings))
    env["DEMO_SHOP"] = "true" if settings.demo_shop else "false"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env["ACTION_PORT"] = str(settings.action_port)
    # rasa-sdk listens on SANIC_HOST (0.0.0.0 by default) and has no auth.
    env["SANIC_HOST"] = settings.action_host
    # No telemetry calls out of a shop's servers (and no network here anyway).
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    return env


def with_run_secrets(settings: Settings) -> Settings:
    """The secrets only this run's own processes share, made for the run when
    not configured: Rasa's API token (the notifier needs the API, and it is
    never enabled without one), the action server's token and the key that
    signs pushes. Processes started apart need them set (bot/run_secrets.py)."""
    return dataclasses.replace(
        settings,
        rasa_token=settings.rasa_token or secrets.token_urlsafe(32),
        action_server_token=settings.action_server_token or secrets.token_urlsafe(32),
        push_secret=settings.push_secret or secrets.token_urlsafe(32),
    )


def with_staff_password(settings: Settings) -> tuple[Settings, bool]:
    """The staff pages have no built-in password: without STAFF_PASSWORD, one
    for this run (True when made here, so that it is printed once)."""
    if settings.staff_password:
        return settings, False
    return dataclasses.replace(settings, staff_password=secrets.token_urlsafe(12)), True


def cannot_start(settings: Settings, model: str) -> str | None:
    """Why nothing should start (no model, texts with mistakes, secrets that are
    missing or public outside the demo); None when ready."""
    problems = secret_problems(settings, LAUNCHER_NEEDS)
    if problems:
        return "secrets: " + "; ".join(problems) + " (see .env.example and docs/security.md)"
    if not Path(model).exists():
        return f"no trained model at {model}: run 'make train' first"
    try:
        # The texts staff may edit are checked before anything starts.
        load_catalog(settings.reason_texts_path, settings.message_texts_path)
    except TextsError as error:
        return f"text files: {error}"
    return None


def run_log_path() -> Path:
    """Every line every process of `python -m bot run` writes (the console
    leaves out the libraries' deprecation noise: bot/console_log.py)."""
    return PROJECT_ROOT / "var" / "logs" / "run.log"


def where_to_go(
    settings: Settings, without: tuple[str, ...], log: Path, staff_password: str = ""
) -> list[str]:
    """What a person can open and try once everything answers. The staff password
    made for this run is said here once, on the console only (never in a log)."""
    web = f"http://127.0.0.1:{settings.web_port}"
    lines = ["ready:"]
    if settings.demo_shop and "web" not in without:
        lines.append(f"  shop site        {web}/shop (log in as a demo customer, then chat)")
    if "web" not in without:
        # The e2e tests read it as "password for this run: (\S+)".
        password = f", password for this run: {staff_password}" if staff_password else ""
        lines.append(f"  staff dashboard  {web}/staff{password}")
    lines.append(
        f"  REST             curl -s http://127.0.0.1:{settings.rasa_port}/webhooks/rest/webhook "
        """-d '{"sender": "me", "message": "hallo"}'"""
    )
    if settings.demo_shop and "web" not in without:
        lines += [
            "  customer token   DEMO_SHOP=true .venv/bin/python -m bot token 1001 "
            '(as "metadata": {"customer_token": ...})',
            f"  intake API       {web}/api/v1/..., Authorization: Bearer "
            f"{settings.order_api_token}",
            f"  shop webhooks    {web}/sources/{{shopify,woocommerce,sendcloud}}, signed with "
            "the secrets in var/demo-secrets.json (docs/shops/)",
        ]
    lines += [f"  full log         {log}", "Ctrl-C stops everything."]
    return lines


def _start(
    command: list[str], env: dict[str, str], name: str, log: LogFile
) -> tuple[subprocess.Popen[bytes], threading.Thread]:
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None  # piped just above
    return process, pump(process.stdout, log, name)


def run_services(
    settings: Settings, model: str, without: tuple[str, ...] = (), log_path: Path | None = None
) -> int:
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
    endpoints = active_endpoints_path()
    write_run_endpoints(PROJECT_ROOT / "endpoints.yml", endpoints)
    settings = with_run_secrets(settings)
    env = child_environment(settings)
    settings, made_staff_password = with_staff_password(settings)
    env.setdefault("RASA_URL", f"http://127.0.0.1:{settings.rasa_port}")
    log = LogFile(log_path or run_log_path())
    started: list[tuple[subprocess.Popen[bytes], threading.Thread]] = []
    stopping = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    started.append(_start(action_server_command(settings), env, "actions", log))
    started.append(
        _start(rasa_server_command(settings, model, credentials, endpoints), env, "rasa", log)
    )
    for command in ("web", "notifier"):
        if command in without:
            continue
        # Only the web service serves the staff pages: only it gets the password.
        child_env = {**env, "STAFF_PASSWORD": settings.staff_password} if command == "web" else env
        started.append(_start([sys.executable, "-m", "bot", command], child_env, command, log))
    processes = [process for process, _ in started]
    print(
        f"starting: action server on {settings.action_host}:{settings.action_port}, "
        f"Rasa on {settings.rasa_host}:{settings.rasa_port} (loading the model takes a while), "
        f"web service on {settings.web_host}:{settings.web_port}, notifier; "
        f"channels: {', '.join(sorted(channels))}; every line in {log.path}",
        flush=True,
    )
    ready_url = f"http://127.0.0.1:{settings.rasa_port}/"
    if wait_until_ready(ready_url, processes[1], timeout=300, cancelled=lambda: stopping):
        password = settings.staff_password if made_staff_password else ""
        print("\n".join(where_to_go(settings, without, log.path, password)), flush=True)
    exit_code = 0
    while not stopping:
        for process in processes:
            if process.poll() is not None:
                print(
                    f"a process stopped (exit {process.returncode}); stopping the rest",
                    file=sys.stderr,
                    flush=True,
                )
                exit_code = 1
                stopping = True
        time.sleep(0.5)
    stop_all(processes)
    for _, thread in started:
        thread.join(timeout=5)
    log.close()
    credentials.unlink(missing_ok=True)
    endpoints.unlink(missing_ok=True)
    print("stopped", flush=True)
    return exit_code
