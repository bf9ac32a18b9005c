"""`make bench-proactive`: a supplier delay reaching 10,000 customers.

In one run, on PostgreSQL, with a real Rasa server and action server:
1. the limit: Rasa's own throughput for N trigger_intent calls whose action
   does nothing (a warning id that does not exist), pushed as the notifier
   pushes (same concurrency);
2. the product: one supplier delay affecting N orders of N customers, from the
   intake call until every warning has been sent by the notifier(s) (the
   addresses are the shop's, so the notifier sends them itself; with
   NOTIFIER_DIRECT=false each one is a Rasa turn, as before); then the lost and
   duplicate warnings are counted where the customers would see them: at the
   callback channel's endpoint (a sink);
3. selecting the affected orders among 1,000,000 (the bench-lookup schema).
Writes bench-results/proactive.json and proactive.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url

from bot.clock import shop_today, utcnow
from bot.database import create_db_engine, make_session_factory
from bot.demo_shop import migrate_and_seed
from bot.generator import generate_orders
from bot.memory.addresses import CustomerChannelRow
from bot.memory.warnings import WarningRow
from bot.orders.sql.tables import OrderLineRow, OrderRow, ProductRow, SupplierRow
from bot.proactive.intake import SupplierDelay, affected_orders_query, apply_supplier_delay
from bot.proactive.rasa_api import NO_EVENTS, WARNING_INTENT
from bot.processes import stop_all
from bot.settings import PROJECT_ROOT
from scripts.assistant_stack import start_assistant_stack
from scripts.bench_lookup import million_orders_schema
from scripts.callback_sink import CallbackSink, is_warning
from scripts.proc_cpu import cpu_by_group

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
CUSTOMERS = int(os.environ.get("BENCH_WARNINGS", "10000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
WORKERS = int(os.environ.get("BENCH_NOTIFIERS", "2"))
TOKEN = "bench-proactive-token"
SUPPLIER = "Batavus"
RESULTS = PROJECT_ROOT / "bench-results"
WORK = PROJECT_ROOT / "var" / "bench-proactive"


def log(message: str) -> None:
    print(f"[bench-proactive] {message}", flush=True)


def fresh_schema(name: str) -> str:
    admin = create_db_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    admin.dispose()
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={name}"})
    return url.render_as_string(hide_password=False)


def prepare(url: str) -> None:
    """N customers, each with one open order from SUPPLIER and a chat conversation."""
    today = shop_today("Europe/Amsterdam")
    sessions = migrate_and_seed(url, today)
    log(f"generating {CUSTOMERS} orders of {CUSTOMERS} customers")
    generate_orders(sessions, CUSTOMERS, today, seed=5)
    with sessions() as session, session.begin():
        product = session.execute(
            select(ProductRow.id)
            .join(SupplierRow, SupplierRow.id == ProductRow.supplier_id)
            .where(SupplierRow.name == SUPPLIER)
            .limit(1)
        ).scalar_one()
        session.execute(
            update(OrderLineRow)
            .where(OrderLineRow.order_id >= 100_000)
            .values(product_id=product, status="ok")
        )
        session.execute(
            update(OrderRow)
            .where(OrderRow.id >= 100_000)
            .values(status="processing", promised_date=today)
        )
        customers = session.execute(select(OrderRow.customer_id).where(OrderRow.id >= 100_000))
        session.execute(
            CustomerChannelRow.__table__.insert(),
            [
                {
                    "customer_id": cid,
                    # Addresses the shop knows on Rasa's callback channel: each
                    # warning ends at the bench's sink, as it would at a channel.
                    "channel": "callback",
                    "address": f"bench-{cid}",
                    "source": "shop",
                    "last_seen_at": utcnow(),
                }
                for (cid,) in customers
            ],
        )


def limit_run(rasa_url: str) -> float:
    """Seconds for N no-op trigger_intent calls at the notifier's concurrency."""
    session = requests.Session()

    def push(index: int) -> None:
        response = session.post(
            f"{rasa_url}/conversations/noop-{index}/trigger_intent",
            # The notifier's own request (bot/proactive/rasa_api.py), answer included.
            params={"output_channel": "callback", "token": TOKEN, **NO_EVENTS},
            json={"name": WARNING_INTENT, "entities": {"warning_id": "0"}},
            timeout=60,
        )
        response.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(push, range(CUSTOMERS)))
    return time.perf_counter() - started


# Where the CPU goes during the product run.
CPU_GROUPS = {
    "rasa": ("rasa", " run "),
    "action_server": ("bot.action_server",),
    "notifiers": ("-m bot notifier",),
    "postgres": ("postgres:",),
}


def product_run(url: str, env: dict[str, str]) -> dict[str, float | int]:
    """From the intake call until every warning was taken by Rasa; the notifiers
    are running already, as they are in a shop."""
    sessions = make_session_factory(create_db_engine(url))
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "notifier"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=(WORK / f"notifier-{n}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for n in range(WORKERS)
    ]
    time.sleep(5)  # started and polling an empty queue
    cpu_before = cpu_by_group(CPU_GROUPS)
    bench_before = time.process_time()
    started = time.perf_counter()
    result = apply_supplier_delay(
        sessions,
        SupplierDelay(
            supplier=SUPPLIER,
            delay_days=10,
            reason_code="supplier_delay",
            reason="de fabriek ligt een week stil",
        ),
        utcnow(),
    )
    intake = time.perf_counter() - started
    try:
        while True:
            with sessions() as session:
                open_ = session.execute(
                    select(func.count())
                    .select_from(WarningRow)
                    .where(
                        WarningRow.status.in_(("queued", "sending")),
                        WarningRow.customer_id >= 100_000,
                    )
                ).scalar()
            if not open_:
                break
            time.sleep(0.5)
        delivered = time.perf_counter() - started
        cpu = cpu_spent(cpu_before, bench_before)
    finally:
        stop_all(workers)
    with sessions() as session:
        rows = session.execute(
            select(WarningRow.status, WarningRow.delivered_at).where(
                WarningRow.customer_id >= 100_000
            )
        ).all()
    lost = sum(1 for status, delivered_at in rows if status != "sent" or delivered_at is None)
    return {
        "orders": len(result.order_ids),
        "warnings": len(result.warning_ids),
        "intake_seconds": round(intake, 2),
        "seconds": round(delivered, 2),
        "lost": lost,
        **{f"cpu_seconds_{group}": seconds for group, seconds in cpu.items()},
    }


def cpu_spent(before: dict[str, float], bench_before: float) -> dict[str, float]:
    after = cpu_by_group(CPU_GROUPS)
    # A process that ended in between (a PostgreSQL backend whose connection
    # closed) takes its CPU out of the sum: never below nothing.
    spent = {group: round(max(0.0, after[group] - before[group]), 1) for group in CPU_GROUPS}
    spent["bench_and_sink"] = round(time.process_time() - bench_before, 1)
    return spent


def seen_by_customers(sink: CallbackSink) -> tuple[int, int]:
    """(customers who never saw their warning, warnings seen more than once),
    counted at the channel: every copy posted, repeats included."""
    seen: dict[str, int] = {}
    for message in sink.deliveries():
        if is_warning(message.get("text")):
            recipient = str(message.get("recipient_id"))
            seen[recipient] = seen.get(recipient, 0) + 1
    never = sum(1 for cid in range(100_000, 100_000 + CUSTOMERS) if f"bench-{cid}" not in seen)
    twice = sum(count - 1 for count in seen.values() if count > 1)
    return never, twice


def selection_among_a_million() -> float:
    """Selecting a supplier's open orders among 1,000,000 (the bench-lookup
    schema, generated first when it is missing: several minutes, once)."""
    engine = create_db_engine(million_orders_schema())
    try:
        with engine.connect() as connection:
            started = time.perf_counter()
            connection.execute(
                affected_orders_query(
                    SupplierDelay(supplier="Gazelle", reason_code="x", reason="", delay_days=1)
                )
            ).all()
            return time.perf_counter() - started
    finally:
        engine.dispose()


def main() -> int:
    url = fresh_schema("bench_proactive")
    prepare(url)
    with CallbackSink() as sink:
        assistant = start_assistant_stack(
            url,
            TOKEN,
            WORK,
            sink,
            NOTIFIER_POLL_SECONDS="0.2",
            NOTIFIER_CONCURRENCY=str(CONCURRENCY // WORKERS),
            NOTIFIER_BATCH="100",
        )
        env = assistant.env
        try:
            log(f"limit: {CUSTOMERS} no-op trigger_intent calls at concurrency {CONCURRENCY}")
            cpu_before, bench_before = cpu_by_group(CPU_GROUPS), time.process_time()
            limit = limit_run(env["RASA_URL"])
            limit_cpu = cpu_spent(cpu_before, bench_before)
            log(f"limit took {limit:.1f}s; now the supplier delay with {WORKERS} notifiers")
            product = product_run(url, env)
            never_seen, seen_twice = seen_by_customers(sink)
        finally:
            assistant.stop()
    log(f"ratio to the limit: {float(product['seconds']) / limit:.2f}")
    # BENCH_LOOKUP=0 leaves out step 3 (the 1,000,000-order schema takes a while to make once).
    selection = selection_among_a_million() if os.environ.get("BENCH_LOOKUP", "1") != "0" else None
    report = {
        "customers": CUSTOMERS,
        "concurrency": CONCURRENCY,
        "notifiers": WORKERS,
        "warnings_sent_by": "Rasa" if os.environ.get("NOTIFIER_DIRECT") == "false" else "notifier",
        "limit_seconds": round(limit, 2),
        **{f"limit_cpu_seconds_{group}": seconds for group, seconds in limit_cpu.items()},
        **product,
        "ratio_to_limit": round(float(product["seconds"]) / limit, 2),
        "customers_who_never_saw_it": never_seen,
        "warnings_seen_twice": seen_twice,
        "select_affected_among_1m_seconds": round(selection, 3) if selection else "not run",
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "proactive.json").write_text(json.dumps(report, indent=2))
    lines = ["# Proactive warnings benchmark", "", "| measure | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in report.items()]
    lines += ["", "Aim: ratio_to_limit at most 1.1, lost 0, duplicates 0, selection under 1 s."]
    (RESULTS / "proactive.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
