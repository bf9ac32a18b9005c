"""`make bench-cluster`: messages per second and p50/p95 through nginx with
one and with two Rasa instances, in one run, on this machine.

One cluster (`bot.cluster.Cluster`: nginx, two Rasa instances with their
action servers, PostgreSQL tracker store, Redis lock store and socket.io
queue) on a private PostgreSQL schema and Redis prefix, removed afterwards.
nginx first balances over instance 1 only, then over both (a graceful
reload), so both measurements see the same warm processes. Each level is also
measured straight at instance 1, without nginx, last. The CPU seconds per process
group show where the time goes. Writes bench-results/cluster.json and .md.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from typing import Any
from unittest import mock

import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.clock import shop_today
from bot.cluster import Cluster, find_nginx, store_problems
from bot.database import create_db_engine
from bot.demo_shop import migrate_and_seed
from bot.identity import make_customer_token
from bot.processes import free_port
from bot.settings import PROJECT_ROOT, load_settings
from scripts.loadgen import LoadResult, run_load
from scripts.proc_cpu import cpu_by_group

RESULTS = PROJECT_ROOT / "bench-results"
WORK = PROJECT_ROOT / "var" / "bench-cluster"
MODEL = PROJECT_ROOT / "models" / "order-assistant.tar.gz"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "bench-shop-secret-at-least-32-bytes-long"
QUESTION = "wat is er gewijzigd aan mijn bestelling?"
DEMO_CUSTOMERS = (1001, 1002, 1003, 1004, 1005, 1006)
LEVELS = (
    (1, int(os.environ.get("BENCH_CLUSTER_TURNS_SINGLE", "100"))),
    (20, int(os.environ.get("BENCH_CLUSTER_TURNS_PER_CUSTOMER", "15"))),
)


def log(message: str) -> None:
    print(f"[bench-cluster] {message}", flush=True)


def body_maker(label: str) -> Any:
    tokens = {cid: make_customer_token(cid, SECRET, 7200) for cid in DEMO_CUSTOMERS}

    def body(worker: int, turn: int) -> dict[str, Any]:
        customer = DEMO_CUSTOMERS[worker % len(DEMO_CUSTOMERS)]
        return {
            "sender": f"{label}-{worker}",
            "message": QUESTION,
            "metadata": {"customer_token": tokens[customer]},
        }

    return body


def cpu_groups(cluster: Cluster) -> dict[str, tuple[str, ...]]:
    groups: dict[str, tuple[str, ...]] = {}
    for index, port in enumerate(cluster.rasa_ports):
        groups[f"rasa-{index + 1}"] = ("rasa", "run", f"--port {port}")
        action_port = cluster.settings.action_port + index
        groups[f"actions-{index + 1}"] = ("bot.action_server", f"--port {action_port}")
    groups["nginx"] = ("nginx:",)
    groups["postgresql (all)"] = ("postgres",)
    groups["redis (all)"] = ("redis-server",)
    return groups


def measure(
    cluster: Cluster, name: str, url: str, groups: dict[str, tuple[str, ...]]
) -> list[dict[str, Any]]:
    rows = []
    for concurrency, turns in LEVELS:
        before = cpu_by_group(groups)
        result: LoadResult = run_load(
            name, url, concurrency, turns, body_maker(f"{name}-{concurrency}")
        )
        after = cpu_by_group(groups)
        cpu = {group: round(after[group] - before[group], 1) for group in groups}
        row = {**result.row(), "seconds": round(result.seconds, 1), "cpu_seconds": cpu}
        log(f"{name} at {concurrency} concurrent: {row}")
        rows.append(row)
    return rows


def main() -> int:
    if not MODEL.exists():
        log(f"no trained model at {MODEL}: run 'make train'")
        return 2
    if find_nginx() is None:
        log("nginx is missing: run 'make nginx' (as root)")
        return 2
    schema = f"bench_cluster_{uuid.uuid4().hex[:8]}"
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    database_url = url.render_as_string(hide_password=False)
    rasa_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TRACKER_STORE_URL": database_url,
        "LOCK_STORE_URL": REDIS_URL,
        "SOCKETIO_MESSAGE_QUEUE": REDIS_URL,
        "REDIS_KEY_PREFIX": prefix,
        # A benchmark, not production: the demo's secrets where none are set.
        "DEMO_SHOP": "true",
        "SHOP_TOKEN_SECRET": SECRET,
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(free_port()),
        "PROXY_PORT": str(free_port()),
        "PROXY_API_PORT": str(free_port()),
        "RASA_TOKEN": uuid.uuid4().hex,
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    with mock.patch.dict(os.environ, env, clear=True):
        settings = load_settings()
    problems = store_problems(settings)
    if problems:
        for problem in problems:
            log(problem)
        return 2
    admin = create_db_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    cluster = Cluster(settings, str(MODEL), WORK / "run", env=env, notifiers=0, web=False)
    try:
        migrate_and_seed(database_url, shop_today(settings.shop_timezone))
        log("starting nginx and 2 Rasa instances with their action servers (a minute or two)")
        cluster.start(progress=log)
        groups = cpu_groups(cluster)
        first = cluster.rasa_ports[:1]
        # Warm both instances and the database (a fresh schema has PostgreSQL
        # busy for a while: the first runs measured it in the first setup).
        log("warming up")
        for index in range(len(cluster.rasa_ports)):
            warm = f"{cluster.rasa_url(index)}/webhooks/rest/webhook"
            run_load("warm-up", warm, 20, 4, body_maker(f"warm-{index}"))
        results: dict[str, list[dict[str, Any]]] = {}
        cluster.balance(first)
        results["nginx, 1 instance"] = measure(
            cluster, "nginx-1", f"{cluster.proxy_url}/webhooks/rest/webhook", groups
        )
        cluster.balance(cluster.rasa_ports)
        results["nginx, 2 instances"] = measure(
            cluster, "nginx-2", f"{cluster.proxy_url}/webhooks/rest/webhook", groups
        )
        results["instance 1 without nginx"] = measure(
            cluster, "direct", f"{cluster.rasa_url(0)}/webhooks/rest/webhook", groups
        )
    finally:
        cluster.stop()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
        client.close()
    report = write_report(results)
    print(report)
    return 0


def write_report(results: dict[str, list[dict[str, Any]]]) -> str:
    (RESULTS / "cluster.json").write_text(json.dumps(results, indent=2))
    lines = [
        "# Cluster benchmark",
        "",
        f'Question: "{QUESTION}" over REST with a customer token (action server, PostgreSQL '
        "tracker store, Redis lock store included), on this machine "
        f"({os.cpu_count()} cores), one run.",
        "",
        "| setup | concurrent | msg/s | p50 ms | p95 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for setup, rows in results.items():
        for row in rows:
            lines.append(
                f"| {setup} | {row['concurrency']} | {row['throughput_rps']} | "
                f"{row['p50_ms']} | {row['p95_ms']} | {row['errors']} |"
            )
    one, two = results["nginx, 1 instance"], results["nginx, 2 instances"]
    lines += ["", "| concurrent | msg/s, 2 instances / 1 instance |", "|---|---|"]
    for a, b in zip(one, two, strict=True):
        ratio = b["throughput_rps"] / a["throughput_rps"] if a["throughput_rps"] else float("nan")
        lines.append(f"| {a['concurrency']} | {ratio:.2f} |")
    lines += ["", "CPU seconds per process group during each measurement:", ""]
    groups = list(next(iter(results.values()))[0]["cpu_seconds"])
    lines.append("| setup | concurrent | wall s | " + " | ".join(groups) + " |")
    lines.append("|---|---|---|" + "---|" * len(groups))
    for setup, rows in results.items():
        for row in rows:
            cpu = " | ".join(str(row["cpu_seconds"][g]) for g in groups)
            lines.append(f"| {setup} | {row['concurrency']} | {row['seconds']} | {cpu} |")
    report = "\n".join(lines) + "\n"
    (RESULTS / "cluster.md").write_text(report)
    return report


if __name__ == "__main__":
    sys.exit(main())
