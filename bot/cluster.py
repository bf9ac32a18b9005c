"""`make run-cluster` (`python -m bot cluster`): the production profile on one machine.

nginx as the single entry, several Rasa instances each with its own action
server, two notifier workers and the web service, all on shared stores:

- conversations in PostgreSQL through Rasa's SQL tracker store (TRACKER_STORE_URL),
- their turns kept in order across instances by Rasa's Redis lock store (LOCK_STORE_URL),
- socket.io pushes crossing instances through python-socketio's Redis manager,
  and which widgets are open kept in Redis (SOCKETIO_MESSAGE_QUEUE),
- the order system and the outbox in PostgreSQL (DATABASE_URL).

The files each run gives its processes (credentials, endpoints, nginx's
configuration) are written under the run's folder and hold placeholders, not
secrets. Every process logs to its own file in `<folder>/logs/`. Ctrl-C or
SIGTERM stops them all; a process that dies is started again (a crash loop
stops the cluster). The tests and `make bench-cluster` use `Cluster` directly.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.channels.credentials import CredentialsError, write_active_credentials
from bot.channels.redis_url import without_password
from bot.processes import stop_all, wait_until_ready
from bot.runner import (
    action_server_command,
    cannot_start,
    endpoints_for_run,
    rasa_server_command,
    secrets_environment,
    with_run_secrets,
    with_staff_password,
)
from bot.settings import PROJECT_ROOT, Settings

NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "cluster.conf.template"
LOCK_PASSWORD_VARIABLE = "CLUSTER_LOCK_STORE_PASSWORD"
READY_TIMEOUT = 300.0
# A process that ran this long before it died was healthy: its next restart is quick again.
HEALTHY_SECONDS = 60.0
# Restarts wait 1 s, 2 s, 4 s ... up to this, so a crash loop (the database
# away, a full disk) costs little while the rest of the cluster keeps serving.
MAX_RESTART_DELAY = 60.0


class ClusterError(RuntimeError):
    """The cluster cannot start: a store is unreachable, nginx is missing, ..."""


def find_nginx() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None


def _redis_problem(url: str) -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        client.close()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(error).__name__}: {error}".splitlines()[0]


def _sql_problem(url: str) -> str | None:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(error).__name__}: {error}".splitlines()[0]


def store_problems(settings: Settings) -> list[str]:
    """What keeps the cluster from starting, each said plainly; empty when all is well."""
    problems = []
    for name, url in (
        ("DATABASE_URL", settings.database_url),
        ("TRACKER_STORE_URL", settings.tracker_store_url),
    ):
        if not url.startswith("postgresql"):
            problems.append(
                f"{name} must be a PostgreSQL URL for several instances "
                f"(postgresql://user@host:5432/db), got {without_password(url) or 'nothing'}"
            )
        elif (problem := _sql_problem(url)) is not None:
            problems.append(
                f"PostgreSQL at {name}={without_password(url)} is unreachable: {problem}"
            )
    for name, url in (
        ("LOCK_STORE_URL", settings.lock_store_url),
        ("SOCKETIO_MESSAGE_QUEUE", settings.socketio_message_queue),
    ):
        if not url.startswith(("redis://", "rediss://")):
            problems.append(
                f"{name} must be a Redis URL (redis://host:6379/0), got {url or 'nothing'}"
            )
        elif (problem := _redis_problem(url)) is not None:
            problems.append(f"Redis at {name}={without_password(url)} is unreachable: {problem}")
    return problems


def lock_store_block(url: str, key_prefix: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Rasa's Redis lock store takes host, port and db apart, not a URL: the
    endpoints block, and the environment that fills its password placeholder."""
    parts = urlsplit(url)
    block: dict[str, Any] = {
        "type": "redis",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "db": int(parts.path.strip("/") or 0),
        "key_prefix": key_prefix,
    }
    env = {}
    if parts.scheme == "rediss":
        block["use_ssl"] = True
    if parts.username:
        block["username"] = parts.username
    if parts.password:
        block["password"] = "${" + LOCK_PASSWORD_VARIABLE + "}"
        env[LOCK_PASSWORD_VARIABLE] = parts.password
    return block, env


def write_endpoints(settings: Settings, source: Path, target: Path) -> dict[str, str]:
    """endpoints.yml plus the shared tracker and lock stores; the environment it needs."""
    endpoints = endpoints_for_run(source)
    # Rasa fills ${TRACKER_STORE_URL} in from the environment: no password in the file.
    endpoints["tracker_store"] = {"type": "SQL", "url": "${TRACKER_STORE_URL}"}
    endpoints["lock_store"], env = lock_store_block(
        settings.lock_store_url, settings.redis_key_prefix
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "# Written by `python -m bot cluster` from endpoints.yml: shared stores.\n"
        + yaml.safe_dump(endpoints, sort_keys=False)
    )
    return env


def render_nginx(settings: Settings, rasa_ports: list[int], web_port: int, folder: Path) -> Path:
    """nginx's configuration for this run, from deploy/nginx/cluster.conf.template."""
    run, logs = folder / "nginx", folder / "logs"
    run.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    servers = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in rasa_ports
    )
    # As root, nginx's workers would switch to `nobody`, who cannot write here.
    user = "user root;" if hasattr(os, "geteuid") and os.geteuid() == 0 else ""
    values = {
        "@RUN@": str(run),
        "@LOGS@": str(logs),
        "@USER@": user,
        "@RASA_SERVERS@": servers,
        "@WEB@": f"127.0.0.1:{web_port}",
        "@PROXY_HOST@": settings.proxy_host,
        "@PROXY_PORT@": str(settings.proxy_port),
        "@PROXY_API_PORT@": str(settings.proxy_api_port),
    }
    text = NGINX_TEMPLATE.read_text()
    for marker, value in values.items():
        text = text.replace(marker, value)
    target = folder / "nginx.conf"
    target.write_text(text)
    return target


@dataclass
class Service:
    """One process of the cluster, with its own log file."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    ready_url: str | None = None
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.started_at = time.monotonic()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(
        self, timeout: float = READY_TIMEOUT, cancelled: Callable[[], bool] = lambda: False
    ) -> None:
        if self.ready_url is None or self.process is None:
            return
        if not wait_until_ready(self.ready_url, self.process, timeout, cancelled):
            if cancelled():
                return
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise ClusterError(f"{self.name} did not start (log {self.log_path}):\n{tail}")

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            stop_all([self.process])


@dataclass
class Cluster:
    settings: Settings
    model: str
    folder: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    instances: int = 2
    notifiers: int = 2
    web: bool = True
    services: dict[str, Service] = field(default_factory=dict)
    channels: set[str] = field(default_factory=set)
    made_password: bool = False  # no STAFF_PASSWORD: one for this run, printed once
    base_env: dict[str, str] = field(default_factory=dict)  # what every process gets

    @property
    def rasa_ports(self) -> list[int]:
        return [self.settings.rasa_port + i for i in range(self.instances)]

    def rasa_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[index]}"

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.proxy_port}"

    @property
    def api_url(self) -> str:
        """Rasa's HTTP API through nginx (what the notifiers use)."""
        return f"http://127.0.0.1:{self.settings.proxy_api_port}"

    def prepare(self) -> None:
        """Write this run's files and describe its processes (nothing starts yet)."""
        nginx = find_nginx()
        if nginx is None:
            raise ClusterError(
                "nginx is missing: run 'make nginx' (as root) or 'sudo apt-get install nginx'"
            )
        self.settings = with_run_secrets(self.settings)
        self.folder.mkdir(parents=True, exist_ok=True)
        logs = self.folder / "logs"
        credentials = self.folder / "credentials.yml"
        self.channels = write_active_credentials(
            self.settings.credentials_path, self.env, credentials
        )
        endpoints = self.folder / "endpoints.yml"
        store_env = write_endpoints(self.settings, PROJECT_ROOT / "endpoints.yml", endpoints)
        base = {
            **self.env,
            **store_env,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(PROJECT_ROOT), self.env.get("PYTHONPATH")])
            ),
            **secrets_environment(self.settings),
            "DEMO_SHOP": "true" if self.settings.demo_shop else "false",
            "RASA_URL": self.api_url,
            "CHAT_SOCKET_URL": self.env.get("CHAT_SOCKET_URL") or self.proxy_url,
            "RASA_TELEMETRY_ENABLED": "false",
        }
        self.base_env = base
        for index, rasa_port in enumerate(self.rasa_ports):
            number = index + 1
            instance = dataclasses.replace(
                self.settings, rasa_port=rasa_port, action_port=self.settings.action_port + index
            )
            env = {
                **base,
                "ACTION_PORT": str(instance.action_port),
                # rasa-sdk listens on SANIC_HOST (0.0.0.0 by default) and has no auth.
                "SANIC_HOST": instance.action_host,
                "RASA_PORT": str(rasa_port),
            }
            self.services[f"actions-{number}"] = Service(
                f"actions-{number}",
                action_server_command(instance),
                env,
                logs / f"actions-{number}.log",
                f"http://127.0.0.1:{instance.action_port}/health",
            )
            self.services[f"rasa-{number}"] = Service(
                f"rasa-{number}",
                rasa_server_command(instance, self.model, credentials, endpoints),
                env,
                logs / f"rasa-{number}.log",
                f"http://127.0.0.1:{rasa_port}/",
            )
        if self.web:
            self.settings, self.made_password = with_staff_password(self.settings)
            self.services["web"] = Service(
                "web",
                [sys.executable, "-m", "bot", "web"],
                {**base, "STAFF_PASSWORD": self.settings.staff_password},
                logs / "web.log",
                f"http://127.0.0.1:{self.settings.web_port}/health",
            )
        conf = render_nginx(self.settings, self.rasa_ports, self.settings.web_port, self.folder)
        self.services["nginx"] = Service(
            "nginx",
            [
                nginx,
                "-e",
                str(logs / "nginx-error.log"),
                "-p",
                str(self.folder / "nginx"),
                "-c",
                str(conf),
            ],
            base,
            logs / "nginx.log",
            f"{self.api_url}/",
        )
        for number in range(1, self.notifiers + 1):
            self.services[f"notifier-{number}"] = Service(
                f"notifier-{number}",
                [sys.executable, "-m", "bot", "notifier"],
                base,
                logs / f"notifier-{number}.log",
            )

    def start(
        self, cancelled: Callable[[], bool] = lambda: False, progress: Callable[[str], None] = print
    ) -> None:
        """Start everything and wait until it answers; the notifiers last."""
        if not self.services:
            self.prepare()
        first = [s for name, s in self.services.items() if not name.startswith("notifier")]
        for service in first:
            service.start()
        progress(
            f"starting {len(self.rasa_ports)} Rasa instances on ports "
            f"{', '.join(map(str, self.rasa_ports))} (loading the model takes a while)"
        )
        for service in first:
            service.wait_ready(cancelled=cancelled)
            if cancelled():
                return
            progress(f"  {service.name} ready")
        for name, service in self.services.items():
            if name.startswith("notifier"):
                service.start()

    def restart(self, name: str, wait: bool = True) -> None:
        service = self.services[name]
        service.stop()
        service.restarts += 1
        service.start()
        if wait:
            service.wait_ready()

    def balance(self, ports: list[int]) -> None:
        """nginx sends work to these instances only from now on (a graceful reload)."""
        render_nginx(self.settings, ports, self.settings.web_port, self.folder)
        process = self.services["nginx"].process
        if process is None or process.poll() is not None:
            raise ClusterError("nginx is not running")
        process.send_signal(signal.SIGHUP)
        time.sleep(2)  # the new workers take over; the old ones finish their requests

    def stop(self) -> None:
        # Notifiers first (nothing pushed into stopping servers), nginx last but one.
        order = sorted(
            self.services.values(),
            key=lambda s: 0 if s.name.startswith("notifier") else 2 if s.name == "nginx" else 1,
        )
        stop_all([s.process for s in order if s.process is not None])


@dataclass
class Supervisor:
    """Starts a crashed process again, with a growing delay while it keeps crashing."""

    services: Iterable[Service]
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr))
    _due: dict[str, float] = field(default_factory=dict)
    _crashes: dict[str, int] = field(default_factory=dict)

    def restart_delay(self, crashes: int) -> float:
        return float(min(MAX_RESTART_DELAY, 2 ** max(0, crashes - 1)))

    def tend(self, now: float, stopping: Callable[[], bool] = lambda: False) -> None:
        for service in self.services:
            if stopping():  # Ctrl-C reaches the children too: they stop, not crash
                return
            if service.process is None or service.process.poll() is None:
                continue
            due = self._due.get(service.name)
            if due is None:
                ran = now - service.started_at
                crashes = 1 if ran >= HEALTHY_SECONDS else self._crashes.get(service.name, 0) + 1
                self._crashes[service.name] = crashes
                delay = self.restart_delay(crashes)
                self._due[service.name] = now + delay
                self.log(
                    f"{service.name} stopped (exit {service.process.returncode}); "
                    f"starting it again in {delay:.0f}s (see {service.log_path})"
                )
            elif now >= due:
                del self._due[service.name]
                service.restarts += 1
                service.start()


def run_cluster(settings: Settings, model: str) -> int:
    problem = cannot_start(settings, model)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    problems = store_problems(settings)
    if problems:
        print("the cluster needs PostgreSQL and Redis:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    from bot.demo_shop import prepare_database

    # The demo shop only when asked for: production seeds and serves nothing of it.
    prepare_database(settings)
    folder = PROJECT_ROOT / "var" / "cluster" / str(os.getpid())
    cluster = Cluster(settings, model, folder, instances=settings.cluster_instances)
    stopping = False

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        cluster.prepare()
        print(f"logs: {folder / 'logs'}; channels: {', '.join(sorted(cluster.channels))}")
        if cluster.made_password:
            print(
                f"staff dashboard: {cluster.proxy_url}/staff, "
                f"password for this run: {cluster.settings.staff_password}"
            )
        cluster.start(cancelled=lambda: stopping)
    except (ClusterError, CredentialsError) as error:
        print(f"cluster: {error}", file=sys.stderr)
        cluster.stop()
        return 2
    if not stopping:
        print(
            f"ready: {cluster.proxy_url}/shop and "
            f"POST {cluster.proxy_url}/webhooks/rest/webhook (nginx, "
            f"{len(cluster.rasa_ports)} Rasa instances, {cluster.notifiers} notifiers)"
        )
    supervisor = Supervisor(cluster.services.values())
    while not stopping:
        supervisor.tend(time.monotonic(), lambda: stopping)
        time.sleep(0.5)
    cluster.stop()
    print("stopped")
    return 0
