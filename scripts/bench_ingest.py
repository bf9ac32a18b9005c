"""`make bench-ingest`: shop platform webhooks taken and applied, beside the bare
HTTP round trip of the same server.

In one run, with the web service as a real process (`python -m bot web`, no
demo secrets) on PostgreSQL (a private schema) over the demo shop and N
generated open orders, each of its own customer:
1. the baseline: N `GET /health` at the same concurrency, the bare HTTP round
   trip of the same server (Sanic, its event loop, this client);
2. the product: N webhooks signed as each platform signs them, built from the
   documented payloads in tests/fixtures/sources/: half Sendcloud parcel
   statuses (a failed attempt, at customs, at a pickup point), a quarter
   Shopify fulfillment events (delayed, with a later estimate), a quarter
   WooCommerce orders put on hold; each names its own order, so each queues
   exactly one warning. Taken per second (200s over the posts' wall time),
   applied per second (until no delivery is pending), receipt -> warning
   queued p50/p95, the POST's p50/p95 beside /health's, CPU seconds of the web
   process and of the PostgreSQL backends serving it;
3. the same receipt -> warning queued for webhooks sent one at a time (each
   applied before the next is sent): the time of the work itself, without the
   queue a burst builds up.
Shopify's fulfillment events name the order by Shopify's own id: the
orders/updated webhook each of those orders sent first (which links the id to
the number customers see) is posted before, untimed; it also warms the server.

Afterwards nothing may be lost or doubled: every delivery stored once and
applied once, one warning per delivery and per order, none more.

When a warning is queued: the outbox stamps it (`warnings.created_at`) with
the worker's clock taken when it began the delivery, the same value as the
delivery's `applied_at`; it becomes visible to the notifiers at the commit,
a little later. The source worker is one thread applying one delivery after
another, so that commit happened before the next delivery's `applied_at`: both
are reported, the stamp and that upper bound ("committed by").

Writes bench-results/ingest.json and ingest.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from secrets import token_urlsafe
from typing import Any

import aiohttp
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import shop_today
from bot.database import create_db_engine, make_session_factory
from bot.demo_shop import migrate_and_seed
from bot.generator import generate_orders
from bot.memory.sources import PENDING, SourceDeliveryRow
from bot.memory.warnings import WarningRow
from bot.orders.sql.tables import OrderRow
from bot.processes import free_port, stop_all, wait_until_ready
from bot.settings import PROJECT_ROOT
from scripts import signed_webhooks as hooks
from scripts.bench_proactive import POSTGRES_URL, fresh_schema
from scripts.loadgen import LoadResult
from scripts.proc_cpu import TICKS

WEBHOOKS = int(os.environ.get("BENCH_WEBHOOKS", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
ONE_AT_A_TIME = int(os.environ.get("BENCH_ONE_AT_A_TIME", "50"))
RESULTS = PROJECT_ROOT / "bench-results"
WORK = PROJECT_ROOT / "var" / "bench-ingest"
SCHEMA = "bench_ingest"
# How the web service's database connections call themselves: how its
# PostgreSQL backends are found for their CPU seconds.
WEB_APPLICATION = "bench-ingest-web"
APPLIED_WITHIN_SECONDS = 240.0
# Shopify's own order ids: a large number beside the shop's.
SHOPIFY_ID_BASE = 5_000_000_000_000
# The platform mix, repeated: parcel statuses come most often.
MIX = ("sendcloud", "shopify", "sendcloud", "woocommerce")
SENDCLOUD_STATUSES = (
    "parcel_status_changed_delivery_attempt_failed.json",
    "parcel_status_changed_at_customs.json",
    "parcel_status_changed_awaiting_customer_pickup.json",
)
# Variables of the caller's environment that would change what is measured:
# the demo's secrets, a helpdesk, the platforms' APIs (nothing leaves the machine).
UNSET = (
    "DEMO_SHOP",
    "ZENDESK_URL",
    "SHOPIFY_ADMIN_TOKEN",
    "SHOPIFY_SHOP_DOMAIN",
    "SHOPIFY_API_URL",
    "WOOCOMMERCE_URL",
    "WOOCOMMERCE_CONSUMER_KEY",
    "WOOCOMMERCE_CONSUMER_SECRET",
    "SENDCLOUD_PUBLIC_KEY",
    "SENDCLOUD_SECRET_KEY",
)


def log(message: str) -> None:
    print(f"[bench-ingest] {message}", flush=True)


def naive_utc_now() -> datetime:
    """As the web service stamps times (bot.clock.utcnow), on the same clock."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def percentile(values: list[float], share: float) -> float:
    """Nearest rank, as scripts/loadgen.py counts."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


# --- CPU seconds per process ------------------------------------------------------------


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of one process, read as scripts/proc_cpu.py reads them.

    By pid, not by command line: another `python -m bot web` may run on this
    machine, and PostgreSQL serves other clients too."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class PostgresBackends:
    """CPU seconds of the PostgreSQL backends serving the web service (found by
    its application_name). Sampled every 0.2 s, since the pool's overflow
    connections come and go: one that exits keeps its last sample (the work
    after it, at most 0.2 s of it, is not counted)."""

    def __init__(self, application: str) -> None:
        self.engine = create_db_engine(POSTGRES_URL)
        self.application = application
        self.seen: dict[int, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-cpu", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.engine.dispose()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.sample()

    def sample(self) -> dict[int, float]:
        with self.engine.connect() as connection:
            pids = connection.execute(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                {"name": self.application},
            ).scalars()
            found = [int(pid) for pid in pids]
        with self._lock:
            for pid in found:
                seconds = cpu_seconds(pid)
                if seconds is not None:
                    self.seen[pid] = seconds
            return dict(self.seen)


@dataclass
class CpuMark:
    web: float
    postgres: dict[int, float]
    bench: float


class Cpu:
    """CPU seconds between two marks: the web process, its PostgreSQL
    backends, and this benchmark (its HTTP client, polling and sampling)."""

    def __init__(self, web_pid: int, backends: PostgresBackends) -> None:
        self.web_pid = web_pid
        self.backends = backends

    def mark(self) -> CpuMark:
        return CpuMark(
            web=cpu_seconds(self.web_pid) or 0.0,
            postgres=self.backends.sample(),
            bench=time.process_time(),
        )

    @staticmethod
    def spent(before: CpuMark, after: CpuMark) -> dict[str, float]:
        postgres = sum(
            seconds - before.postgres.get(pid, 0.0) for pid, seconds in after.postgres.items()
        )
        return {
            "web": round(after.web - before.web, 2),
            "postgres": round(postgres, 2),
            "bench": round(after.bench - before.bench, 2),
        }


# --- the shop and its webhooks ------------------------------------------------------------


def prepare(url: str, count: int, today: date) -> list[int]:
    """The demo shop and `count` generated orders, open and due in 3 days,
    each of its own customer; their ids."""
    sessions = migrate_and_seed(url, today)
    log(f"generating {count} orders")
    generate_orders(sessions, count, today, seed=11)
    with sessions() as session, session.begin():
        session.execute(
            update(OrderRow)
            .where(OrderRow.id >= 100_000)
            .values(status="processing", promised_date=today + timedelta(days=3), delivered_at=None)
        )
        ids = session.execute(
            select(OrderRow.id).where(OrderRow.id >= 100_000).order_by(OrderRow.id)
        ).scalars()
        return [int(order_id) for order_id in ids]


@dataclass(frozen=True)
class Call:
    """One HTTP request, made before the clock starts."""

    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] | None = None


def webhook(secrets: dict[str, str], platform: str, index: int, order_id: int, today: date) -> Call:
    """A webhook of `platform` that moves order `order_id` so its customer is warned."""
    now = datetime.now(timezone.utc)
    if platform == "sendcloud":
        payload = hooks.fixture("sendcloud", SENDCLOUD_STATUSES[index % len(SENDCLOUD_STATUSES)])
        payload["timestamp"] = int(now.timestamp() * 1000) + index
        payload["parcel"].update(
            id=800_000 + index,
            order_number=str(order_id),
            external_order_id=None,
            tracking_number=f"3SBENCH{index:08d}",
        )
        body, headers = hooks.sendcloud(secrets["sendcloud"], payload)
    elif platform == "shopify":
        estimate = today + timedelta(days=45)
        event = hooks.fixture("shopify", "fulfillment_events_create.json")
        event.update(
            id=9_000_000 + index,
            admin_graphql_api_id=f"gid://shopify/FulfillmentEvent/{9_000_000 + index}",
            order_id=SHOPIFY_ID_BASE + order_id,
            status="delayed",
            happened_at=now.isoformat(),
            created_at=now.isoformat(),
            estimated_delivery_at=f"{estimate.isoformat()}T12:00:00+01:00",
        )
        body, headers = hooks.shopify(secrets["shopify"], "fulfillment_events/create", event)
    else:
        order = hooks.fixture("woocommerce", "order_updated_on_hold.json")
        order.update(
            id=order_id, number=str(order_id), date_modified_gmt=now.strftime("%Y-%m-%dT%H:%M:%S")
        )
        body, headers = hooks.woocommerce(secrets["woocommerce"], order)
    return Call("POST", f"/sources/{platform}", body, headers)


def shopify_order(secret: str, order_id: int) -> Call:
    """Shopify's orders/updated of an open order: no change, the link from its
    id to the number customers see."""
    order = hooks.fixture("shopify", "orders_updated_unfulfilled.json")
    platform_id = SHOPIFY_ID_BASE + order_id
    order.update(
        id=platform_id,
        admin_graphql_api_id=f"gid://shopify/Order/{platform_id}",
        name=f"#{order_id}",
        order_number=order_id,
        updated_at=datetime.now(timezone.utc).isoformat(),
    )
    body, headers = hooks.shopify(secret, "orders/updated", order)
    return Call("POST", "/sources/shopify", body, headers)


# --- the web service ----------------------------------------------------------------------


def start_web(url: str, secrets: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": make_url(url)
        .update_query_dict({"application_name": WEB_APPLICATION})
        .render_as_string(hide_password=False),
        "SHOP_TOKEN_SECRET": token_urlsafe(32),
        "ORDER_API_TOKEN": token_urlsafe(32),
        "SHOPIFY_WEBHOOK_SECRET": secrets["shopify"],
        "WOOCOMMERCE_WEBHOOK_SECRET": secrets["woocommerce"],
        "SENDCLOUD_WEBHOOK_SECRET": secrets["sendcloud"],
        "ORDER_SYSTEM": "sql",
        "WEB_PORT": str(port),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    for name in UNSET:
        env.pop(name, None)
    log_path = WORK / "web.log"
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "web"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    if not wait_until_ready(f"{base}/health", process, timeout=60):
        stop_all([process])
        raise SystemExit(f"web service did not start:\n{log_path.read_text()[-3000:]}")
    return process, base


async def _send_all(
    base: str, calls: list[Call], concurrency: int, label: str
) -> tuple[LoadResult, Counter[str]]:
    """`concurrency` clients, each sending the next call as soon as its last
    was answered (a closed loop, as scripts/loadgen.py)."""
    latencies: list[float] = []
    answers: Counter[str] = Counter()
    waiting = iter(calls)  # shared: each client takes the next call

    async def client(session: aiohttp.ClientSession) -> None:
        for call in waiting:
            started = time.perf_counter()
            try:
                async with session.request(
                    call.method, base + call.path, data=call.body, headers=call.headers
                ) as response:
                    answer = await response.json()
                    status = response.status
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                answers[type(error).__name__] += 1
                continue
            answers[f"{status} {answer.get('status')}"] += 1
            if status == 200:
                latencies.append((time.perf_counter() - started) * 1000)

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    errors = len(calls) - len(latencies)
    return LoadResult(label, concurrency, len(calls), errors, seconds, latencies), answers


def send_all(
    base: str, calls: list[Call], label: str, concurrency: int = CONCURRENCY
) -> tuple[LoadResult, Counter[str]]:
    return asyncio.run(_send_all(base, calls, concurrency, label))


def last_delivery_id(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.execute(select(func.max(SourceDeliveryRow.id))).scalar() or 0)


def last_warning_id(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.execute(select(func.max(WarningRow.id))).scalar() or 0)


def pending_after(sessions: sessionmaker[Session], after_id: int) -> int:
    with sessions() as session:
        query = select(func.count()).where(
            SourceDeliveryRow.id > after_id, SourceDeliveryRow.status == PENDING
        )
        return int(session.execute(query).scalar() or 0)


def wait_applied(sessions: sessionmaker[Session], after_id: int, expected: int) -> datetime:
    """Until the `expected` deliveries after `after_id` are stored and none is
    pending; when that was seen (naive UTC)."""
    deadline = time.monotonic() + APPLIED_WITHIN_SECONDS
    query = select(func.count(), func.count().filter(SourceDeliveryRow.status == PENDING)).where(
        SourceDeliveryRow.id > after_id
    )
    while time.monotonic() < deadline:
        with sessions() as session:
            stored, pending = session.execute(query).one()
        if stored >= expected and not pending:
            return naive_utc_now()
        time.sleep(0.1)
    raise SystemExit(
        f"{pending} of {stored} deliveries still pending after {APPLIED_WITHIN_SECONDS:.0f} s"
    )


def one_at_a_time(base: str, sessions: sessionmaker[Session], calls: list[Call]) -> list[datetime]:
    """Each webhook posted once the one before was applied; when each was seen
    applied (polled every 5 ms)."""
    seen: list[datetime] = []
    for call in calls:
        floor = last_delivery_id(sessions)
        result, answers = send_all(base, [call], "one", concurrency=1)
        if result.errors:
            raise SystemExit(f"a webhook sent alone was refused: {dict(answers)}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with sessions() as session:
                status = session.execute(
                    select(SourceDeliveryRow.status).where(SourceDeliveryRow.id > floor)
                ).scalar()
            if status is not None and status != PENDING:
                seen.append(naive_utc_now())
                break
            time.sleep(0.005)
        else:
            raise SystemExit("a webhook sent alone was not applied within 30 s")
    return seen


# --- what the database says ---------------------------------------------------------------


def ms(delta: timedelta) -> float:
    return delta.total_seconds() * 1000


def outcome(
    sessions: sessionmaker[Session],
    deliveries: tuple[int, int],
    warning_ids: tuple[int, int],
    orders: list[int],
    last_seen: list[datetime],
) -> dict[str, Any]:
    """Receipt -> warning queued for the deliveries with ids in (first, last]
    of `deliveries` (and the warnings with ids in (first, last] of `warning_ids`), and
    whether anything was lost or doubled. `last_seen`: when the bench saw each
    applied (one at a time), or only when it saw the last one (a burst)."""
    with sessions() as session:
        rows = session.execute(
            select(
                SourceDeliveryRow.id,
                SourceDeliveryRow.received_at,
                SourceDeliveryRow.applied_at,
                SourceDeliveryRow.status,
                SourceDeliveryRow.warnings,
                SourceDeliveryRow.attempts,
                SourceDeliveryRow.order_number,
            )
            .where(SourceDeliveryRow.id > deliveries[0], SourceDeliveryRow.id <= deliveries[1])
            .order_by(SourceDeliveryRow.applied_at)
        ).all()
        queued = session.execute(
            select(WarningRow.order_ids, WarningRow.created_at).where(
                WarningRow.id > warning_ids[0], WarningRow.id <= warning_ids[1]
            )
        ).all()
    per_order: dict[str, list[datetime]] = {}
    for order_ids, created_at in queued:
        per_order.setdefault(str(order_ids), []).append(created_at)
    stamped: list[float] = []
    committed_by: list[float] = []
    service: list[float] = []
    for index, row in enumerate(rows):
        created = per_order.get(str(row.order_number), [])
        if len(created) == 1:
            stamped.append(ms(created[0] - row.received_at))
        # The worker is one thread: this delivery was committed before it began the next.
        if len(last_seen) == len(rows):
            bound = last_seen[index]
        elif index + 1 < len(rows):
            bound = rows[index + 1].applied_at
            service.append(ms(bound - row.applied_at))
        else:
            bound = last_seen[-1]
        if row.applied_at is not None:
            committed_by.append(ms(bound - row.received_at))
    numbers = Counter(str(row.order_number) for row in rows)
    expected = {str(order_id) for order_id in orders}
    return {
        "deliveries_stored": len(rows),
        "deliveries_applied_once": sum(
            1 for r in rows if r.status == "applied" and r.warnings == 1 and r.attempts == 0
        ),
        "deliveries_not_applied": sum(1 for r in rows if r.status != "applied"),
        "orders_without_a_delivery": len(expected - numbers.keys()),
        "orders_delivered_twice": sum(1 for count in numbers.values() if count > 1),
        "warnings_queued": len(queued),
        "orders_without_a_warning": len(expected - per_order.keys()),
        "orders_warned_twice": sum(1 for created in per_order.values() if len(created) > 1),
        "warnings_for_other_orders": sum(
            len(created) for number, created in per_order.items() if number not in expected
        ),
        "queued_stamp_p50_ms": round(percentile(stamped, 0.5), 1),
        "queued_stamp_p95_ms": round(percentile(stamped, 0.95), 1),
        "queued_committed_by_p50_ms": round(percentile(committed_by, 0.5), 1),
        "queued_committed_by_p95_ms": round(percentile(committed_by, 0.95), 1),
        "worker_ms_per_delivery_p50": round(percentile(service, 0.5), 1) if service else None,
        "first_received": min(r.received_at for r in rows) if rows else None,
        "last_applied": max(r.applied_at for r in rows if r.applied_at) if rows else None,
    }


def lost_and_doubled(found: dict[str, Any], count: int) -> tuple[int, int]:
    """(webhooks not applied or orders never warned, deliveries or warnings too many)."""
    lost = (
        max(0, count - found["deliveries_applied_once"])
        + found["orders_without_a_delivery"]
        + found["orders_without_a_warning"]
    )
    doubled = (
        max(0, found["deliveries_stored"] - count)
        + found["orders_delivered_twice"]
        + max(0, found["warnings_queued"] - count)
        + found["orders_warned_twice"]
        + found["warnings_for_other_orders"]
    )
    return lost, doubled


# --- the run ------------------------------------------------------------------------------


def plan(
    orders: list[int], secrets: dict[str, str], today: date
) -> tuple[list[Call], list[Call], list[Call]]:
    """(Shopify's orders/updated that link its ids, the burst, the ones sent alone)."""
    platforms = [MIX[index % len(MIX)] for index in range(len(orders))]
    links = [
        shopify_order(secrets["shopify"], order_id)
        for order_id, platform in zip(orders, platforms, strict=True)
        if platform == "shopify"
    ]
    calls = [
        webhook(secrets, platform, index, order_id, today)
        for index, (order_id, platform) in enumerate(zip(orders, platforms, strict=True))
    ]
    return links, calls[:WEBHOOKS], calls[WEBHOOKS:]


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    today = shop_today("Europe/Amsterdam")
    url = fresh_schema(SCHEMA)
    orders = prepare(url, WEBHOOKS + ONE_AT_A_TIME, today)
    burst_orders, alone_orders = orders[:WEBHOOKS], orders[WEBHOOKS:]
    secrets = {name: token_urlsafe(32) for name in ("shopify", "woocommerce", "sendcloud")}
    links, burst, alone = plan(orders, secrets, today)
    health = [Call("GET", "/health")] * WEBHOOKS
    sessions = make_session_factory(create_db_engine(url))
    backends = PostgresBackends(WEB_APPLICATION)
    web, base = start_web(url, secrets)
    cpu = Cpu(web.pid, backends)
    backends.start()
    try:
        log(f"{len(links)} Shopify orders/updated first (their links; untimed, a warm-up)")
        floor = last_delivery_id(sessions)
        result, answers = send_all(base, links, "links")
        if result.errors:
            raise SystemExit(f"links refused: {dict(answers)}")
        wait_applied(sessions, floor, len(links))

        log(f"baseline: {WEBHOOKS} GET /health at concurrency {CONCURRENCY}")
        before = cpu.mark()
        baseline, _ = send_all(base, health, "health")
        baseline_cpu = Cpu.spent(before, cpu.mark())

        log(f"{ONE_AT_A_TIME} webhooks one at a time")
        alone_floor, alone_warning = last_delivery_id(sessions), last_warning_id(sessions)
        alone_seen = one_at_a_time(base, sessions, alone)

        log(f"product: {WEBHOOKS} signed webhooks at concurrency {CONCURRENCY}")
        floor, warning_floor = last_delivery_id(sessions), last_warning_id(sessions)
        before = cpu.mark()
        started = time.perf_counter()
        taken, answers = send_all(base, burst, "webhooks")
        posted = cpu.mark()
        applied_while_posting = WEBHOOKS - pending_after(sessions, floor)
        seen = wait_applied(sessions, floor, WEBHOOKS)
        applied_seconds = time.perf_counter() - started
        after = cpu.mark()
    finally:
        stop_all([web])
        backends.stop()
    end, warning_end = last_delivery_id(sessions), last_warning_id(sessions)
    burst_found = outcome(
        sessions, (floor, end), (warning_floor, warning_end), burst_orders, [seen]
    )
    alone_found = outcome(
        sessions, (alone_floor, floor), (alone_warning, warning_floor), alone_orders, alone_seen
    )
    # Deliveries of the burst applied before the bench saw the last one:
    # the database's own span, from the first receipt to the last stamp.
    db_span = (burst_found["last_applied"] - burst_found["first_received"]).total_seconds()
    posting_cpu = Cpu.spent(before, posted)
    draining_cpu = Cpu.spent(posted, after)
    accepted = answers.get("200 accepted", 0)
    burst_lost, burst_doubled = lost_and_doubled(burst_found, WEBHOOKS)
    alone_lost, alone_doubled = lost_and_doubled(alone_found, ONE_AT_A_TIME)
    report: dict[str, Any] = {
        "webhooks": WEBHOOKS,
        "concurrency": CONCURRENCY,
        "mix": dict(Counter(call.path.rsplit("/", 1)[1] for call in burst)),
        "taken_per_second": round(accepted / taken.seconds, 1),
        "applied_per_second": round(WEBHOOKS / applied_seconds, 1),
        "posts_seconds": round(taken.seconds, 2),
        "applied_seconds": round(applied_seconds, 2),
        "applied_seconds_in_database": round(db_span, 2),
        "applied_while_posting": applied_while_posting,
        "answers": dict(answers),
        "health": baseline.row(),
        "webhook": taken.row(),
        "p50_ratio_to_health": round(taken.percentile(0.5) / baseline.percentile(0.5), 2),
        "p95_ratio_to_health": round(taken.percentile(0.95) / baseline.percentile(0.95), 2),
        "throughput_ratio_to_health": round(taken.throughput / baseline.throughput, 2),
        **{
            f"burst_{key}": value
            for key, value in burst_found.items()
            if key not in ("first_received", "last_applied")
        },
        "burst_lost": burst_lost,
        "burst_doubled": burst_doubled,
        **{
            f"alone_{key}": value
            for key, value in alone_found.items()
            if key.startswith("queued_") or key == "warnings_queued"
        },
        "alone_lost": alone_lost,
        "alone_doubled": alone_doubled,
        "cpu_seconds_health": baseline_cpu,
        "cpu_seconds_while_posting": posting_cpu,
        "cpu_seconds_after_posts_until_applied": draining_cpu,
        "web_cpu_ms_per_webhook": round(
            (posting_cpu["web"] + draining_cpu["web"]) / WEBHOOKS * 1000, 2
        ),
        "web_cpu_ms_per_health": round(baseline_cpu["web"] / WEBHOOKS * 1000, 2),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(report, indent=2))
    markdown = render(report)
    (RESULTS / "ingest.md").write_text(markdown)
    print(markdown)
    return 1 if burst_lost or burst_doubled or alone_lost or alone_doubled else 0


def render(report: dict[str, Any]) -> str:
    health, hook = report["health"], report["webhook"]
    mix = ", ".join(f"{count} {platform}" for platform, count in report["mix"].items())
    lines = [
        "# Webhook ingest benchmark",
        "",
        f"{report['webhooks']} signed webhooks ({mix}),"
        f" concurrency {report['concurrency']}, web service on PostgreSQL, beside "
        f"{report['webhooks']} GET /health of the same server in the same run.",
        "",
        "| request | p50 ms | p95 ms | p99 ms | per s | errors |",
        "|---|---|---|---|---|---|",
        f"| GET /health | {health['p50_ms']} | {health['p95_ms']} | {health['p99_ms']} | "
        f"{health['throughput_rps']} | {health['errors']} |",
        f"| POST /sources/* | {hook['p50_ms']} | {hook['p95_ms']} | {hook['p99_ms']} | "
        f"{hook['throughput_rps']} | {hook['errors']} |",
        f"| ratio | {report['p50_ratio_to_health']} | {report['p95_ratio_to_health']} | | "
        f"{report['throughput_ratio_to_health']} | |",
        "",
        "| measure | value |",
        "|---|---|",
    ]
    skip = ("health", "webhook", "mix", "webhooks", "concurrency")
    lines += [f"| {key} | {value} |" for key, value in report.items() if key not in skip]
    lines += [
        "",
        "queued_stamp: warnings.created_at - source_deliveries.received_at (the worker's clock "
        "when it began the delivery, = applied_at). queued_committed_by: until the next "
        "delivery's applied_at (the worker is one thread, so the warning was committed by "
        "then), or until the bench saw it applied. alone_: webhooks sent one at a time.",
        "Aim: lost 0 and doubled 0.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
