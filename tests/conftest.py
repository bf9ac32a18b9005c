"""Shared fixtures: texts, the demo shop on SQLite or PostgreSQL, trackers."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.clock import shop_today
from bot.database import create_db_engine
from bot.demo_shop import migrate_and_seed
from bot.orders.sql.system import SqlOrderSystem
from bot.settings import PROJECT_ROOT, Settings, load_settings
from bot.texts import Catalog, load_catalog

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SHOP_SECRET = "test-shop-secret-at-least-32-bytes-long"
PUSH_SECRET = "test-push-secret-at-least-32-bytes-long"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(
        PROJECT_ROOT / "bot" / "texts" / "reasons.yml",
        PROJECT_ROOT / "bot" / "texts" / "messages.yml",
        {"shop": "Fietsen & Meer", "contact": "030 123 45 67"},
    )


@pytest.fixture
def today() -> date:
    return shop_today("Europe/Amsterdam")


def _seeded(url: str, today: date) -> SqlOrderSystem:
    return SqlOrderSystem(migrate_and_seed(url, today))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shop.db'}"


@pytest.fixture
def demo_orders(sqlite_url: str, today: date) -> SqlOrderSystem:
    """The demo shop in a fresh SQLite file."""
    return _seeded(sqlite_url, today)


def postgres_available() -> str | None:
    """None when PostgreSQL answers; otherwise why not."""
    try:
        engine = create_db_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(error).__name__}: {error}".splitlines()[0]


def require_postgres() -> None:
    """In CI a missing PostgreSQL fails the run; elsewhere the test is skipped."""
    problem = postgres_available()
    if problem is None:
        return
    message = f"PostgreSQL at {POSTGRES_URL} is unreachable ({problem})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + "; CI=true requires it", pytrace=False)
    pytest.skip(message + "; set TEST_POSTGRES_URL or start PostgreSQL to run these tests")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A private schema in the test database, dropped afterwards."""
    yield from _private_schema()


@pytest.fixture(scope="module")
def postgres_url_module() -> Iterator[str]:
    """The same, shared by one test module (for a stack of real processes)."""
    yield from _private_schema()


def _private_schema() -> Iterator[str]:
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shop.db'}"
    return request.getfixturevalue("postgres_url")


def settings_for(url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings of the demo shop in the database at `url`, with the test secrets."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SHOP_TOKEN_SECRET", SHOP_SECRET)
    monkeypatch.setenv("PUSH_SECRET", PUSH_SECRET)
    monkeypatch.setenv("ORDER_SYSTEM", "sql")
    return load_settings()


@pytest.fixture
def settings(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return settings_for(sqlite_url, monkeypatch)


def pushed_warning(warning_id: int, sender_id: str, channel: str) -> list[dict[str, Any]]:
    """The entities of the notifier's push of a warning, signed as it signs them."""
    from bot.proactive.push_signature import sign_push

    return [
        {"entity": "warning_id", "value": str(warning_id)},
        {"entity": "push_channel", "value": channel},
        {
            "entity": "push_signature",
            "value": sign_push(PUSH_SECRET, warning_id, sender_id, channel),
        },
    ]


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    text: str = "",
    intent: str = "",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    sender_id: str = "test-conversation",
    active_loop: str | None = None,
    events: list[dict[str, Any]] | None = None,
    input_channel: str | None = None,
    sent_at: float | None = None,
) -> Tracker:
    """A tracker whose latest message is `text`, as Rasa would send it
    (with its user event when `input_channel` or `sent_at` is given)."""
    if input_channel is not None or sent_at is not None:
        events = [
            *(events or []),
            {
                "event": "user",
                "timestamp": time.time() if sent_at is None else sent_at,
                "text": text,
                "input_channel": input_channel,
                "parse_data": {"intent": {"name": intent}, "entities": entities or []},
            },
        ]
    return Tracker(
        sender_id=sender_id,
        slots=dict(slots or {}),
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.99},
            "entities": list(entities or []),
            "metadata": dict(metadata or {}),
        },
        events=list(events or []),
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@pytest.fixture
def tracker_for():  # type: ignore[no-untyped-def]
    return make_tracker
