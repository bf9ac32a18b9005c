"""What `python -m bot cluster` writes: endpoints with shared stores, nginx's configuration."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from bot.cluster import lock_store_block, render_nginx, store_problems, write_endpoints
from bot.settings import PROJECT_ROOT, Settings, SettingsError, load_settings


@pytest.fixture
def cluster_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TRACKER_STORE_URL", "postgresql://rasa:s3cret@db.internal:5432/rasa")
    monkeypatch.setenv("LOCK_STORE_URL", "redis://:lockpw@cache.internal:6380/2")
    monkeypatch.setenv("REDIS_KEY_PREFIX", "shop1")
    monkeypatch.setenv("PROXY_PORT", "9080")
    monkeypatch.setenv("PROXY_API_PORT", "9081")
    return load_settings()


def test_the_lock_store_is_taken_apart_and_its_password_stays_out_of_the_file() -> None:
    block, env = lock_store_block("redis://:lockpw@cache.internal:6380/2", "shop1")
    assert block == {
        "type": "redis",
        "url": "cache.internal",
        "port": 6380,
        "db": 2,
        "key_prefix": "shop1",
        "password": "${CLUSTER_LOCK_STORE_PASSWORD}",
    }
    assert env == {"CLUSTER_LOCK_STORE_PASSWORD": "lockpw"}
    assert lock_store_block("redis://127.0.0.1:6379", "p")[0]["db"] == 0


def test_endpoints_keep_the_action_server_and_add_the_shared_stores(
    cluster_settings: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "endpoints.yml"
    env = write_endpoints(cluster_settings, PROJECT_ROOT / "endpoints.yml", target)
    written = target.read_text()
    assert "s3cret" not in written and "lockpw" not in written
    endpoints = yaml.safe_load(written)
    assert endpoints["tracker_store"] == {"type": "SQL", "url": "${TRACKER_STORE_URL}"}
    assert endpoints["lock_store"]["type"] == "redis"
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:${ACTION_PORT}/webhook"
    assert env == {"CLUSTER_LOCK_STORE_PASSWORD": "lockpw"}


def test_nginx_balances_every_instance_and_keeps_the_api_internal(
    cluster_settings: Settings, tmp_path: Path
) -> None:
    conf = render_nginx(cluster_settings, [5005, 5006], 8000, tmp_path).read_text()
    assert not re.search(r"@[A-Z_]+@", conf)  # every marker filled in
    assert conf.count("server 127.0.0.1:5005 ") == 2 and conf.count("server 127.0.0.1:5006 ") == 2
    assert "listen 127.0.0.1:9080;" in conf
    assert "listen 127.0.0.1:9081;" in conf
    assert "daemon off;" in conf
    assert str(tmp_path) in conf  # pid, logs and temp files in the run's folder


def test_sqlite_and_missing_stores_are_refused_plainly(cluster_settings: Settings) -> None:
    settings = dataclasses.replace(
        cluster_settings, database_url="sqlite:///x.db", socketio_message_queue=""
    )
    problems = store_problems(
        dataclasses.replace(settings, tracker_store_url="", lock_store_url="")
    )
    assert any(p.startswith("DATABASE_URL must be a PostgreSQL URL") for p in problems)
    assert any(p.startswith("TRACKER_STORE_URL must be a PostgreSQL URL") for p in problems)
    assert any(p.startswith("SOCKETIO_MESSAGE_QUEUE must be a Redis URL") for p in problems)


def test_the_key_prefix_is_letters_and_digits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_KEY_PREFIX", "shop:one")
    with pytest.raises(SettingsError):
        load_settings()


async def _ignore(_message: object) -> None:
    return None


def test_the_widget_channel_shares_a_message_queue_when_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socketio

    from bot.channels.webchat import WebchatInput

    # Nothing connects here: the clients connect on first use.
    monkeypatch.setenv("SOCKETIO_MESSAGE_QUEUE", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("REDIS_KEY_PREFIX", "shop1")
    channel = WebchatInput.from_credentials({"session_persistence": True})
    channel.blueprint(_ignore)
    assert channel.sio is not None
    assert isinstance(channel.sio.manager, socketio.AsyncRedisManager)
    assert channel.sio.manager.server is channel.sio
    assert channel.sio.manager.channel == "shop1:socketio"
    assert isinstance(channel, WebchatInput) and channel.presence is not None
    handlers = channel.sio.handlers["/"]
    assert handlers["session_request"].__name__ == "on_session_request"
    assert handlers["disconnect"].__name__ == "on_disconnect"
    assert "user_uttered" in handlers


def test_without_a_message_queue_the_widget_channel_is_rasas_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socketio

    from bot.channels.webchat import WebchatInput

    monkeypatch.delenv("SOCKETIO_MESSAGE_QUEUE", raising=False)
    channel = WebchatInput.from_credentials({"session_persistence": True})
    channel.blueprint(_ignore)
    assert channel.sio is not None
    assert not isinstance(channel.sio.manager, socketio.AsyncRedisManager)
    assert isinstance(channel, WebchatInput) and channel.presence is None
