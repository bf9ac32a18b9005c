"""The notifier with real processes: Rasa down, a worker killed mid-batch,
several workers on PostgreSQL, one worker on SQLite."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import shop_today, utcnow
from bot.database import create_db_engine, make_session_factory
from bot.generator import SUPPLIERS, generate_orders
from bot.memory.addresses import CustomerChannelRow
from bot.memory.warnings import WarningRow
from bot.orders.sql.tables import OrderRow
from bot.proactive.intake import SupplierDelay, apply_supplier_delay
from bot.processes import free_port, stop_all
from bot.settings import PROJECT_ROOT
from scripts.assistant_stack import start_assistant_stack
from scripts.callback_sink import CallbackSink, is_warning
from tests.conftest import _seeded

RASA_TOKEN = "reliability-rasa-token"


@dataclass
class Stack:
    env: dict[str, str]
    sessions: sessionmaker[Session]
    rasa_url: str
    folder: Path
    sink: CallbackSink

    def notifier(self, name: str, **overrides: str) -> subprocess.Popen[bytes]:
        env = {**self.env, **overrides}
        log = (self.folder / f"{name}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "notifier"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def warnings(self) -> list[WarningRow]:
        """The generated customers' warnings (the demo shop's own are left aside)."""
        with self.sessions() as session:
            return list(
                session.execute(
                    select(WarningRow)
                    .where(WarningRow.customer_id >= 100_000)
                    .order_by(WarningRow.id)
                ).scalars()
            )

    def events(self, sender: str) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.rasa_url}/conversations/{sender}/tracker",
            params={"token": RASA_TOKEN},
            timeout=30,
        )
        response.raise_for_status()
        return list(response.json()["events"])

    def bot_texts(self, sender: str) -> list[str]:
        return [e.get("text") or "" for e in self.events(sender) if e.get("event") == "bot"]

    def tracker_counts(self, sender: str) -> tuple[int, int]:
        """(pushes received by Rasa, warnings shown) in one conversation."""
        events = self.events(sender)
        pushes = sum(
            1
            for e in events
            if e.get("event") == "user"
            and (e.get("parse_data") or {}).get("intent", {}).get("name")
            == "EXTERNAL_order_warning"
        )
        shown = sum(1 for e in events if e.get("event") == "bot" and is_warning(e.get("text")))
        return pushes, shown

    def seen_by_customer(self, address: str) -> int:
        """Warnings that reached the customer's channel (the callback sink),
        every copy counted (the sink would not show a repeated message id)."""
        return sum(
            1
            for m in self.sink.deliveries()
            if m.get("recipient_id") == address and is_warning(m.get("text"))
        )

    def shown_to_customer(self, address: str) -> int:
        """Warnings the customer saw: the endpoint shows a message id once."""
        return sum(
            1
            for m in self.sink.messages()
            if m.get("recipient_id") == address and is_warning(m.get("text"))
        )


def _start_stack(url: str, folder: Path, today: date) -> Iterator[Stack]:
    _seeded(url, today)
    with CallbackSink() as sink:
        assistant = start_assistant_stack(
            url,
            RASA_TOKEN,
            folder,
            sink,
            NOTIFIER_POLL_SECONDS="0.2",
            NOTIFIER_LEASE_SECONDS="3",
            NOTIFIER_BACKOFF_SECONDS="0.2",
            NOTIFIER_BATCH="5",
        )
        sessions = make_session_factory(create_db_engine(url))
        try:
            yield Stack(assistant.env, sessions, assistant.rasa_url, folder, sink)
        finally:
            assistant.stop()


def queue_warnings(stack: Stack, today: date, orders: int) -> int:
    """Fresh generated customers with a conversation each, and supplier delays
    for all of them (earlier tests' orders are closed first, so they stay out)."""
    with stack.sessions() as session, session.begin():
        first = (session.execute(select(func.max(OrderRow.id))).scalar() or 0) + 1
        session.execute(update(OrderRow).where(OrderRow.id >= 100_000).values(status="delivered"))
    generate_orders(stack.sessions, orders, today, seed=3)
    fresh = OrderRow.id >= max(first, 100_000)
    with stack.sessions() as session, session.begin():
        session.execute(
            update(OrderRow).where(fresh).values(status="processing", promised_date=today)
        )
        customers = set(session.execute(select(OrderRow.customer_id).where(fresh)).scalars())
        for customer_id in sorted(customers):
            session.add(
                CustomerChannelRow(
                    customer_id=customer_id,
                    # An address the shop knows on Rasa's callback channel:
                    # the warnings are posted to the test's sink.
                    channel="callback",
                    address=f"rel-{customer_id}",
                    source="shop",
                    last_seen_at=utcnow(),
                )
            )
    queued: set[int] = set()
    for supplier in SUPPLIERS:
        result = apply_supplier_delay(
            stack.sessions,
            SupplierDelay(
                supplier=supplier,
                delay_days=4,
                reason_code="supplier_delay",
                reason="vertraging bij de leverancier",
            ),
            utcnow(),
        )
        queued.update(result.warning_ids)
    # The demo shop's own customers are warned too; count the generated ones.
    return sum(1 for w in stack.warnings() if w.id in queued)


def wait_until(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("reliability")
    yield from _start_stack(
        f"sqlite:///{folder / 'shop.db'}", folder, shop_today("Europe/Amsterdam")
    )


def test_rasa_down_ends_dead_and_a_retry_by_hand_delivers_once(sqlite_stack: Stack) -> None:
    """Through Rasa (NOTIFIER_DIRECT off: every warning is a Rasa turn)."""
    stack, today = sqlite_stack, shop_today("Europe/Amsterdam")
    queue_warnings(stack, today, 6)
    closed = f"http://127.0.0.1:{free_port()}"
    worker = stack.notifier(
        "down", RASA_URL=closed, NOTIFIER_MAX_ATTEMPTS="3", NOTIFIER_DIRECT="false"
    )
    try:
        wait_until(lambda: all(w.status == "dead" for w in stack.warnings()), 60, "dead warnings")
    finally:
        stop_all([worker])
    dead = stack.warnings()
    assert dead and all(w.attempts == 3 and "unreachable" in (w.last_error or "") for w in dead)
    listing = subprocess.run(
        [sys.executable, "-m", "bot", "outbox", "--status", "dead"],
        cwd=PROJECT_ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
    )
    assert f"dead: {len(dead)}" in listing.stdout
    for warning in dead:
        subprocess.run(
            [sys.executable, "-m", "bot", "outbox", "--retry", str(warning.id)],
            cwd=PROJECT_ROOT,
            env=stack.env,
            check=True,
            capture_output=True,
        )
    worker = stack.notifier("up", NOTIFIER_DIRECT="false")
    try:
        wait_until(lambda: all(w.status == "sent" for w in stack.warnings()), 60, "sent warnings")
    finally:
        stop_all([worker])
    for warning in stack.warnings():
        assert warning.delivered_at is not None
        assert stack.tracker_counts(warning.delivered_to or "") == (1, 1)
        assert stack.seen_by_customer(warning.delivered_to or "") == 1


def test_a_second_notifier_on_sqlite_refuses_to_run(sqlite_stack: Stack) -> None:
    first = sqlite_stack.notifier("first")
    try:
        time.sleep(3)
        second = subprocess.run(
            [sys.executable, "-m", "bot", "notifier"],
            cwd=PROJECT_ROOT,
            env=sqlite_stack.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 3
        assert "only one may" in second.stderr
    finally:
        stop_all([first])


@pytest.mark.parametrize("direct", [True, False], ids=["sent-by-notifier", "through-rasa"])
def test_a_worker_killed_mid_batch_loses_nothing_and_shows_nothing_twice(
    sqlite_stack: Stack, direct: bool
) -> None:
    """Sent by the notifier itself (addresses the shop registered), the one in
    flight when it died is sent again only without its receipt, with the same
    message ids, which the endpoint shows once. Through Rasa, Rasa lives on:
    the push in flight was sent with its receipt, or not at all."""
    stack, today = sqlite_stack, shop_today("Europe/Amsterdam")
    before = {w.id for w in stack.warnings()}
    # Sent by the notifier a warning takes milliseconds: more of them, one at
    # a time, so that the kill still finds some on their way.
    queued = queue_warnings(stack, today, 200 if direct else 40)
    assert queued >= 20
    fresh = lambda: [w for w in stack.warnings() if w.id not in before]  # noqa: E731
    setting = {"NOTIFIER_DIRECT": str(direct).lower()}
    if direct:
        setting["NOTIFIER_CONCURRENCY"] = "1"
    worker = stack.notifier("killed", **setting)
    wait_until(lambda: sum(w.status == "sent" for w in fresh()) >= 5, 60, "a few sent")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert any(w.status in ("queued", "sending") for w in fresh()), "killed too late to matter"
    worker = stack.notifier("restarted", **setting)
    try:
        wait_until(lambda: all(w.status == "sent" for w in fresh()), 120, "all sent after restart")
    finally:
        stop_all([worker])
    for warning in fresh():
        assert warning.delivered_at is not None  # nothing lost
        address = warning.delivered_to or ""
        assert stack.shown_to_customer(address) == 1  # nothing twice
        pushes, shown = stack.tracker_counts(address)
        if direct:
            assert (pushes, shown) == (0, 0), "no Rasa turn for it"
            assert stack.seen_by_customer(address) in (1, 2)  # at most the one in flight again
        else:
            assert shown == 1, (  # nothing twice in Rasa's record either
                f"warning {warning.id} shown {shown} times to {address}: {stack.bot_texts(address)}"
            )
            assert pushes in (1, 2)  # at most the one in flight was pushed again
            assert stack.seen_by_customer(address) == 1


@pytest.fixture(scope="module")
def postgres_stack(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    url = request.getfixturevalue("postgres_url_module")
    yield from _start_stack(
        url, tmp_path_factory.mktemp("reliability-pg"), shop_today("Europe/Amsterdam")
    )


@pytest.mark.parametrize("direct", [True, False], ids=["sent-by-notifier", "through-rasa"])
def test_two_workers_on_postgresql_push_each_warning_once(
    postgres_stack: Stack, direct: bool
) -> None:
    stack, today = postgres_stack, shop_today("Europe/Amsterdam")
    before = {w.id for w in stack.warnings()}
    # Sent by the notifier a warning takes milliseconds: more of them, one at a
    # time per worker, so that one worker cannot be through before the other starts.
    queued = queue_warnings(stack, today, 300 if direct else 120)
    setting = {"NOTIFIER_DIRECT": str(direct).lower()}
    if direct:
        setting["NOTIFIER_CONCURRENCY"] = "1"
    workers = [stack.notifier("pg-a", **setting), stack.notifier("pg-b", **setting)]
    try:
        wait_until(lambda: all(w.status == "sent" for w in stack.warnings()), 180, "all sent")
    finally:
        stop_all(workers)
    warnings = [w for w in stack.warnings() if w.id not in before]
    assert len(warnings) == queued
    assert len({w.claimed_by for w in warnings}) == 2, "both workers took a share"
    for warning in warnings:
        address = warning.delivered_to or ""
        assert stack.tracker_counts(address) == ((0, 0) if direct else (1, 1))
        assert stack.seen_by_customer(address) == 1
