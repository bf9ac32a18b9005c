"""`make bench` (second half): the order lookup with 1,000,000 orders in PostgreSQL.

Generates the orders once into their own schema (kept for later runs), then
times the assistant's two lookups beside a bare `SELECT 1` round trip
measured in the same run. Writes bench-results/lookup.json and lookup.md.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Callable

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from tqdm import tqdm

from bot.clock import shop_today
from bot.database import create_db_engine, make_session_factory, upgrade_database
from bot.generator import generate_orders
from bot.memory.changes import OrderEventRow
from bot.orders.remembered import RememberingOrders
from bot.orders.sql.system import SqlOrderSystem
from bot.orders.sql.tables import OrderRow
from bot.settings import PROJECT_ROOT

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = os.environ.get("BENCH_SCHEMA", "bench_lookup")
ORDERS = int(os.environ.get("BENCH_ORDERS", "1000000"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "3000"))
RESULTS = PROJECT_ROOT / "bench-results"


def timed(samples: int, call: Callable[[int], object], ids: list[int]) -> list[float]:
    latencies = []
    for index in range(samples):
        started = time.perf_counter()
        call(ids[index % len(ids)])
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)


def million_orders_schema() -> str:
    """The URL of the schema with ORDERS orders, generated on first use and kept."""
    admin = create_db_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
    admin.dispose()
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={SCHEMA}"})
    url_text = url.render_as_string(hide_password=False)
    upgrade_database(url_text)
    engine = create_db_engine(url_text)
    factory = make_session_factory(engine)
    with factory() as session:
        have = session.execute(select(func.count()).select_from(OrderRow)).scalar() or 0
    if have < ORDERS:
        print(f"[bench] generating {ORDERS - have} orders in schema {SCHEMA} (kept for later runs)")
        with tqdm(total=ORDERS - have, unit="orders") as bar:
            generate_orders(
                factory, ORDERS - have, shop_today("Europe/Amsterdam"), progress=bar.update
            )
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    engine.dispose()
    return url_text


def main() -> int:
    url_text = million_orders_schema()
    engine = create_db_engine(url_text)
    factory = make_session_factory(engine)
    with factory() as session:
        orders = session.execute(select(func.count()).select_from(OrderRow)).scalar()
        events = session.execute(select(func.count()).select_from(OrderEventRow)).scalar()
        low, high = session.execute(select(func.min(OrderRow.id), func.max(OrderRow.id))).one()
        customers = [
            c
            for (c,) in session.execute(
                select(OrderRow.customer_id).order_by(func.random()).limit(1000)
            )
        ]
    rng = random.Random(11)
    order_ids = [rng.randint(low, high) for _ in range(1000)]
    # The orders as the assistant reads them: the shop's, with its change log laid over.
    system = RememberingOrders(SqlOrderSystem(factory), factory)

    def select_one(_id: int) -> object:
        with factory() as session:
            return session.execute(text("SELECT 1")).scalar()

    for call, ids in ((system.get_order, order_ids), (select_one, order_ids)):
        timed(200, call, ids)  # warm-up: connections, caches
    baseline = timed(SAMPLES, select_one, order_ids)
    by_id = timed(SAMPLES, system.get_order, order_ids)
    by_customer = timed(SAMPLES, system.orders_for_customer, customers)
    report = {
        "orders": orders,
        "events": events,
        "samples": SAMPLES,
        "baseline_select_1": {"p50_ms": pct(baseline, 0.5), "p95_ms": pct(baseline, 0.95)},
        "get_order": {
            "p50_ms": pct(by_id, 0.5),
            "p95_ms": pct(by_id, 0.95),
            "p99_ms": pct(by_id, 0.99),
        },
        "orders_for_customer": {
            "p50_ms": pct(by_customer, 0.5),
            "p95_ms": pct(by_customer, 0.95),
            "p99_ms": pct(by_customer, 0.99),
        },
    }
    report["get_order"]["p95_ratio_to_select_1"] = round(
        report["get_order"]["p95_ms"] / report["baseline_select_1"]["p95_ms"], 1
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lookup.json").write_text(json.dumps(report, indent=2))
    lines = [
        "# Order lookup in PostgreSQL",
        "",
        f"{orders:,} orders, {events:,} events; {SAMPLES} lookups each, one after another.",
        "",
        "| lookup | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|",
        f"| SELECT 1 (baseline round trip) | {report['baseline_select_1']['p50_ms']} | "
        f"{report['baseline_select_1']['p95_ms']} | |",
    ]
    for name in ("get_order", "orders_for_customer"):
        r = report[name]
        lines.append(f"| {name} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} |")
    lines.append("")
    lines.append(
        f"get_order p95 is {report['get_order']['p95_ratio_to_select_1']}x a bare "
        "round trip; aim: p95 under 5 ms."
    )
    text_report = "\n".join(lines) + "\n"
    (RESULTS / "lookup.md").write_text(text_report)
    print(text_report)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
