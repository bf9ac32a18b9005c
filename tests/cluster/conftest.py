"""Several Rasa instances behind nginx, on PostgreSQL and Redis, as real processes.

One cluster per test module (`bot.cluster.Cluster`, what `make run-cluster`
starts): a private PostgreSQL schema for the order system, the outbox and
Rasa's SQL tracker store, a private Redis key prefix for the lock store, the
socket.io message queue and the widgets' presence. Both are removed afterwards.
With CI=true an unreachable PostgreSQL or Redis fails the run; elsewhere the
tests are skipped and say why.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import redis
import requests
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.cluster import Cluster, find_nginx
from bot.database import create_db_engine, make_session_factory
from bot.processes import free_port, stop_all
from bot.settings import PROJECT_ROOT, load_settings
from scripts.callback_sink import CallbackSink, is_warning
from tests.conftest import _seeded

MODEL = PROJECT_ROOT / "models" / "order-assistant.tar.gz"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SHOP_SECRET = "cluster-shop-secret-at-least-32-bytes-long"
# Production's rules hold in the cluster (no DEMO_SHOP): secrets of a real length.
RASA_TOKEN = secrets.token_urlsafe(32)
ORDER_API_TOKEN = secrets.token_urlsafe(32)
WARNING_INTENT = "EXTERNAL_order_warning"


def _unavailable(what: str, problem: str, hint: str) -> None:
    message = f"{what} is unreachable ({problem})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + "; CI=true requires it", pytrace=False)
    pytest.skip(f"{message}; {hint}")


def require_redis() -> None:
    """In CI a missing Redis fails the run; elsewhere the test is skipped."""
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as error:
        _unavailable(
            f"Redis at {REDIS_URL}",
            f"{type(error).__name__}: {error}",
            "set TEST_REDIS_URL or start Redis to run these tests",
        )


def require_nginx() -> None:
    if find_nginx() is None:
        _unavailable("nginx", "not installed", "run 'make nginx' (as root) to run these tests")


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    """A key prefix of this module's own (letters and digits: Rasa's lock store
    wants that), and its keys deleted afterwards."""
    require_redis()
    prefix = f"t{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(key)
    client.close()


def free_port_run(count: int) -> int:
    """The first of `count` consecutive free ports (the cluster numbers its instances)."""
    while True:
        first = free_port()
        sockets = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", port))
                sockets.append(sock)
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()


@dataclass
class RunningCluster:
    cluster: Cluster
    env: dict[str, str]
    engine: Engine
    sessions: sessionmaker[Session]
    sink: CallbackSink
    folder: Path

    def rasa_url(self, index: int) -> str:
        return self.cluster.rasa_url(index)

    def say(self, base_url: str, sender: str, message: str, token: str | None = None) -> list[str]:
        body: dict[str, Any] = {"sender": sender, "message": message}
        if token:
            body["metadata"] = {"customer_token": token}
        response = requests.post(f"{base_url}/webhooks/rest/webhook", json=body, timeout=60)
        response.raise_for_status()
        return [item.get("text", "") for item in response.json()]

    def notifier(self, name: str, **overrides: str) -> subprocess.Popen[bytes]:
        env = {**self.cluster.base_env, **overrides}
        log = (self.folder / "logs" / f"{name}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "notifier"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def warning_counts(self, senders: list[str]) -> dict[str, tuple[int, int]]:
        """Per conversation, from Rasa's own tracker store: (pushes Rasa
        received, warnings the assistant showed)."""
        counts = {sender: [0, 0] for sender in senders}
        with self.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT sender_id, type_name, intent_name, data FROM events "
                    "WHERE sender_id = ANY(:senders) AND type_name IN ('user', 'bot')"
                ),
                {"senders": senders},
            )
            for sender, kind, intent, data in rows:
                if kind == "user" and intent == WARNING_INTENT:
                    counts[sender][0] += 1
                elif kind == "bot" and is_warning(data):
                    counts[sender][1] += 1
        return {sender: (pushes, shown) for sender, (pushes, shown) in counts.items()}

    def seen_by_customer(self) -> dict[str, int]:
        """Warnings each address saw on the callback channel (the sink shows a
        message id once, as the endpoint's contract asks)."""
        seen: dict[str, int] = {}
        for message in self.sink.messages():
            if is_warning(message.get("text")):
                address = str(message.get("recipient_id"))
                seen[address] = seen.get(address, 0) + 1
        return seen

    def warning_copies_posted(self) -> dict[str, list[str]]:
        """The message ids of every warning posted to each address, repeats included."""
        posted: dict[str, list[str]] = {}
        for message in self.sink.deliveries():
            if is_warning(message.get("text")):
                address = str(message.get("recipient_id"))
                posted.setdefault(address, []).append(str(message.get("message_id")))
        return posted


@pytest.fixture(scope="module")
def running_cluster(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RunningCluster]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run 'make train'", pytrace=False)
    require_nginx()
    database_url = request.getfixturevalue("postgres_url_module")
    prefix = request.getfixturevalue("redis_prefix")
    from bot.clock import shop_today

    _seeded(database_url, shop_today("Europe/Amsterdam"))
    folder = tmp_path_factory.mktemp("cluster")
    with CallbackSink() as sink:
        credentials = folder / "source-credentials.yml"
        # REST, the widget as the shop's pages set it up, and the callback channel to the sink.
        credentials.write_text(
            "bot.channels.rest.GuardedRestInput:\n"
            "bot.channels.webchat.WebchatInput:\n"
            "  session_persistence: true\n"
            "  metadata_key: customData\n"
            f"bot.channels.callback.CallbackInput:\n  url: {sink.url}\n"
        )
        rasa_port, action_port = free_port_run(2), free_port_run(2)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TRACKER_STORE_URL": database_url,
            "LOCK_STORE_URL": REDIS_URL,
            "SOCKETIO_MESSAGE_QUEUE": REDIS_URL,
            "REDIS_KEY_PREFIX": prefix,
            "PRESENCE_TTL_SECONDS": "6",
            "RASA_PORT": str(rasa_port),
            "ACTION_PORT": str(action_port),
            "WEB_PORT": str(free_port()),
            "PROXY_PORT": str(free_port()),
            "PROXY_API_PORT": str(free_port()),
            "RASA_TOKEN": RASA_TOKEN,
            "SHOP_TOKEN_SECRET": SHOP_SECRET,
            "ORDER_API_TOKEN": ORDER_API_TOKEN,
            "CREDENTIALS_PATH": str(credentials),
            "PYTHONPATH": str(PROJECT_ROOT),
            # Warnings at any hour; the promise watcher out of the way.
            "QUIET_HOURS_START": "0",
            "QUIET_HOURS_END": "0",
            "WATCH_INTERVAL_SECONDS": "3600",
            "NOTIFIER_POLL_SECONDS": "0.2",
            "NOTIFIER_BACKOFF_SECONDS": "0.5",
            "NOTIFIER_LEASE_SECONDS": "20",
            "NOTIFIER_BATCH": "20",
            # These tests are about pushes through the Rasa instances (a warning
            # as a Rasa turn, across instances, killed mid-turn): the notifier
            # hands every one to Rasa, as it does for the widget and WhatsApp.
            "NOTIFIER_DIRECT": "false",
            # Rasa's own: a crashed instance's conversation locks free up after this.
            "TICKET_LOCK_LIFETIME": "15",
        }
        with mock.patch.dict(os.environ, env, clear=True):
            settings = load_settings()
        cluster = Cluster(
            settings, str(MODEL), folder, env=env, instances=2, notifiers=0, web=False
        )
        engine = create_db_engine(database_url)
        try:
            cluster.start(progress=lambda _line: None)
            yield RunningCluster(cluster, env, engine, make_session_factory(engine), sink, folder)
        finally:
            cluster.stop()
            engine.dispose()


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    stop_all(processes)
