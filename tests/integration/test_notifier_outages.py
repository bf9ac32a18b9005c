"""The notifier through outages: the database away (a real `python -m bot
notifier` process, PostgreSQL behind a proxy the test cuts), a push Rasa took
just as the database went away, and Rasa away for an hour (a fake clock)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.database import create_db_engine, database_unreachable, make_session_factory
from bot.memory.addresses import CustomerChannelRow
from bot.memory.warnings import WarningRow
from bot.orders.sql.tables import CustomerRow
from bot.proactive.intake import SupplierDelay, apply_supplier_delay
from bot.proactive.notifier import Notifier, QuietHours
from bot.proactive.rasa_api import RasaApi
from bot.proactive.worker import build_notifier
from bot.processes import free_port, stop_all
from bot.settings import PROJECT_ROOT, load_settings
from tests.conftest import _seeded
from tests.database_proxy import DatabaseProxy
from tests.integration.outage_standins import RasaStandIn

ERIK = 1001


def reachable_on_callback(shop: sessionmaker[Session], now: datetime) -> None:
    """Every customer of the demo shop has an address the shop knows on the
    callback channel, `cb-<customer id>`."""
    with shop.begin() as session:
        for customer_id in session.execute(select(CustomerRow.id)).scalars():
            session.add(
                CustomerChannelRow(
                    customer_id=customer_id,
                    channel="callback",
                    address=f"cb-{customer_id}",
                    source="shop",
                    last_seen_at=now,
                )
            )


def delays(shop: sessionmaker[Session], today: date, days: int, *suppliers: str) -> list[int]:
    """Supplier delays through the intake, straight into the database; the warnings queued."""
    queued: list[int] = []
    for supplier in suppliers:
        result = apply_supplier_delay(
            shop,
            SupplierDelay(
                supplier=supplier,
                new_date=today + timedelta(days=days),
                reason_code="production_problem",
                reason="later than planned",
            ),
            utcnow(),
        )
        queued += result.warning_ids
    assert queued, "the demo shop has open orders of these suppliers"
    return queued


def rows(shop: sessionmaker[Session], ids: list[int]) -> list[WarningRow]:
    with shop() as session:
        return list(session.execute(select(WarningRow).where(WarningRow.id.in_(ids))).scalars())


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """User and system time a process used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[DatabaseProxy]:
    proxy = DatabaseProxy(postgres_url)
    proxy.up()
    try:
        yield proxy
    finally:
        proxy.down()


def assert_each_pushed_once(rasa: RasaStandIn, shop: sessionmaker[Session], ids: list[int]) -> None:
    for warning in rows(shop, ids):
        pushes = rasa.pushes_of(warning.id)
        assert pushes == [
            {"sender": f"cb-{warning.customer_id}", "channel": "callback", "warning_id": warning.id}
        ], f"warning {warning.id} pushed {len(pushes)} times"
        assert (warning.status, warning.address) == ("sent", f"cb-{warning.customer_id}")


def test_the_notifier_process_outlives_a_database_outage_and_then_delivers_everything(
    postgres_url: str, proxy: DatabaseProxy, today: date, tmp_path: Path
) -> None:
    """A warning is queued (and tried, Rasa being away too), PostgreSQL goes
    away, a second one is queued meanwhile, PostgreSQL comes back: the same
    process, still up and idle during the outage, delivers both, once."""
    _seeded(postgres_url, today)
    shop = make_session_factory(create_db_engine(postgres_url))
    reachable_on_callback(shop, utcnow())
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(
        # The chat widget too: the staff-reply relay then runs in every round.
        "bot.channels.webchat.WebchatInput:\n  session_persistence: true\n"
        f"bot.channels.callback.CallbackInput:\n  url: http://127.0.0.1:{free_port()}/\n"
    )
    log_path = tmp_path / "notifier.log"
    with RasaStandIn() as rasa:
        rasa.up = False
        env = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "DEMO_SHOP": "false",
            "DATABASE_URL": proxy.url,
            "RASA_URL": rasa.url,
            "RASA_TOKEN": secrets.token_hex(24),
            "PUSH_SECRET": secrets.token_hex(24),
            "CREDENTIALS_PATH": str(credentials),
            "QUIET_HOURS_START": "0",
            "QUIET_HOURS_END": "0",
            "WATCH_INTERVAL_SECONDS": "1",  # the promise watcher runs through the outage too
            "NOTIFIER_POLL_SECONDS": "0.2",
            "NOTIFIER_BACKOFF_SECONDS": "0.5",
            "NOTIFIER_MAX_BACKOFF_SECONDS": "1",
            # Every warning through (the stand-in of) Rasa: its pushes are counted.
            "NOTIFIER_DIRECT": "false",
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "notifier"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            before = delays(shop, today, 20, "Gazelle", "TabletWereld")
            wait_until(lambda: all(w.attempts >= 1 for w in rows(shop, before)), 60, "a first try")
            assert all(w.status in ("queued", "sending") for w in rows(shop, before))

            proxy.down()
            rasa.up = True  # Rasa is back; the database is not
            away_at, cpu_at = time.monotonic(), cpu_seconds(process.pid)
            during = delays(shop, today, 30, "Gazelle", "Philips")
            time.sleep(8)
            assert process.poll() is None, log_path.read_text()[-3000:]
            busy = cpu_seconds(process.pid) - cpu_at
            assert busy < 0.2 * (time.monotonic() - away_at), f"{busy:.2f} s of CPU while waiting"
            assert rasa.taken == [], "nothing can be claimed while the database is away"

            proxy.up()
            wait_until(
                lambda: all(w.status == "sent" for w in rows(shop, before + during)),
                60,
                "every warning sent after the database came back",
            )
            assert process.poll() is None
        finally:
            stop_all([process])
        assert_each_pushed_once(rasa, shop, before + during)
    assert process.returncode == 0
    text = log_path.read_text()
    assert "Traceback" not in text, text[-3000:]
    outage = [line for line in text.splitlines() if "database unreachable" in line]
    assert outage and any("database back after" in line for line in text.splitlines())
    # One line each, with no statement, no parameters, no customer's data.
    for line in outage:
        assert "SELECT" not in line.upper() and "@" not in line and "cb-" not in line


def test_a_push_rasa_took_as_the_database_went_away_is_recorded_when_it_is_back(
    postgres_url: str, proxy: DatabaseProxy, today: date
) -> None:
    """Rasa takes the push, and the database goes away before 'sent' is written:
    the notifier keeps what happened and writes it when the database is back,
    rather than pushing the warning again when its lease runs out."""
    _seeded(postgres_url, today)
    direct = make_session_factory(create_db_engine(postgres_url))
    reachable_on_callback(direct, utcnow())
    queued = delays(direct, today, 20, "Gazelle", "TabletWereld")
    through_proxy = make_session_factory(create_db_engine(proxy.url))
    with RasaStandIn() as rasa:
        rasa.on_push = proxy.down  # the first push taken: the database goes away
        notifier = Notifier(
            through_proxy,
            RasaApi(rasa.url, "token"),
            QuietHours(0, 0, "Europe/Amsterdam"),
            channels=("callback",),
            concurrency=1,
        )
        with pytest.raises(Exception) as raised:
            notifier.run_once()
        assert database_unreachable(raised.value)
        rasa.on_push = None
        pushed = [push["warning_id"] for push in rasa.taken]
        assert len(pushed) == 1
        assert {w.status for w in rows(direct, pushed)} == {"sending"}, "not written yet"

        proxy.up()
        for _ in range(5):
            notifier.run_once()
        assert_each_pushed_once(rasa, direct, queued)


@pytest.fixture
def default_settings(monkeypatch: pytest.MonkeyPatch, any_database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The shipped notifier settings (nothing from this machine's environment),
    on the test's database, with Rasa nowhere to be reached."""
    for name in list(os.environ):
        if name.startswith(("NOTIFIER_", "QUIET_HOURS_", "SHOP_TIMEZONE")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", any_database_url)
    monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("bot.channels.webchat.WebchatInput:\n  session_persistence: true\n")
    monkeypatch.setenv("CREDENTIALS_PATH", str(credentials))
    return load_settings()


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment


def test_rasa_away_for_an_hour_leaves_the_warning_queued_not_dead(
    default_settings,  # type: ignore[no-untyped-def]
    warned: tuple[sessionmaker[Session], int],
) -> None:
    """Erik's chat is open (socketio) and Rasa cannot be reached. With the
    shipped settings the warning is tried again and again, each wait within
    the cap, and is still queued after eight failures (the old limit) and
    after an hour; it goes dead only at the last try."""
    settings = default_settings
    shop, warning_id = warned
    start = datetime(2026, 1, 1, 12, 0)  # 13:00 in Amsterdam: no quiet hours in the way
    with shop.begin() as session:
        session.execute(update(WarningRow).where(WarningRow.id != warning_id).values(status="sent"))
        session.add(
            CustomerChannelRow(
                customer_id=ERIK,
                channel="socketio",
                address="erik-chat",
                source="conversation",
                last_seen_at=start,
            )
        )
    clock = FakeClock(start)
    notifier = build_notifier(settings, clock=clock.now)
    cap = timedelta(seconds=settings.notifier_max_backoff_seconds)
    waits: list[timedelta] = []
    try:
        for failure in range(1, settings.notifier_max_attempts + 1):
            assert notifier.run_once() == 1
            row = rows(shop, [warning_id])[0]
            assert row.attempts == failure and "unreachable" in (row.last_error or "")
            if failure == settings.notifier_max_attempts:
                assert row.status == "dead"
                break
            assert row.status == "queued", f"dead after {failure} failures"
            if failure == 8:
                assert clock.moment - start < timedelta(hours=1)
            waits.append(row.next_attempt_at - clock.moment)
            # Not a moment before its time.
            clock.moment = row.next_attempt_at - timedelta(seconds=1)
            assert notifier.run_once() == 0
            clock.moment = row.next_attempt_at
    finally:
        notifier.release_lease()
    assert len(waits) == settings.notifier_max_attempts - 1
    assert all(wait <= cap for wait in waits), max(waits)
    assert clock.moment - start >= timedelta(hours=1), clock.moment - start
