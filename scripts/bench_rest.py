"""`make bench`: the REST channel under load, beside a bare `rasa init` bot.

Both bots run on this machine in the same run, one after the other, so the
ratio holds even when the machine is noisy. Writes bench-results/rest.json
and bench-results/rest.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bot.identity import make_customer_token
from bot.processes import free_port, stop_all, wait_until_ready
from bot.settings import PROJECT_ROOT
from scripts.loadgen import LoadResult, run_load
from scripts.proc_cpu import cpu_by_group

RESULTS = PROJECT_ROOT / "bench-results"
WORK = PROJECT_ROOT / "var" / "bench"
QUESTION = "wat is er gewijzigd aan mijn bestelling?"
SECRET = "bench-shop-secret-at-least-32-bytes-long"
DEMO_CUSTOMERS = (1001, 1002, 1003, 1004, 1005, 1006)
LEVELS = (
    (1, int(os.environ.get("BENCH_TURNS_SINGLE", "200"))),
    (20, int(os.environ.get("BENCH_TURNS_PER_CUSTOMER", "30"))),
)
RASA = str(Path(sys.executable).with_name("rasa"))
# The `rasa init` project lives outside this repository: `rasa test` run from
# the root reads every story file and cache below it.
BASELINE = Path(
    os.environ.get("BENCH_BASELINE_DIR", Path.home() / ".cache" / "order-assistant" / "baseline")
)


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    if not wait_until_ready(url, process, timeout=300):
        raise SystemExit(f"server at {url} not ready (logs in {WORK})")


def stop(process: subprocess.Popen[bytes]) -> None:
    stop_all([process])


def baseline_model() -> Path:
    """The `rasa init` project, trained by this benchmark (kept between runs)."""
    project = BASELINE
    model = project / "models" / "baseline.tar.gz"
    if model.exists():
        return model
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    log("creating the rasa init baseline and training it (a few minutes)")
    subprocess.run(
        [RASA, "init", "--no-prompt", "--init-dir", str(project)],
        check=True,
        cwd=project,
        stdout=subprocess.DEVNULL,
    )
    for old in (project / "models").glob("*.tar.gz"):
        old.unlink()
    subprocess.run(
        [RASA, "train", "--fixed-model-name", "baseline"],
        check=True,
        cwd=project,
        stdout=subprocess.DEVNULL,
    )
    return model


def start_baseline(model: Path, port: int) -> subprocess.Popen[bytes]:
    log_file = (WORK / "baseline.log").open("wb")
    return subprocess.Popen(
        [RASA, "run", "--model", str(model), "--port", str(port), "--interface", "127.0.0.1"],
        cwd=model.parent.parent,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )


def start_assistant(port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{WORK / 'shop.db'}",
            # A benchmark, not production: the demo shop, its secrets where none are set.
            "DEMO_SHOP": "true",
            "SHOP_TOKEN_SECRET": SECRET,
            "RASA_PORT": str(port),
            "ACTION_PORT": str(free_port()),
            "RASA_TOKEN": "",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    (WORK / "shop.db").unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "bot", "seed"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log_file = (WORK / "assistant.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--model", "models/order-assistant.tar.gz"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )


def body_maker(label: str, with_token: bool) -> Any:
    tokens = {cid: make_customer_token(cid, SECRET, 7200) for cid in DEMO_CUSTOMERS}

    def body(worker: int, turn: int) -> dict[str, Any]:
        payload: dict[str, Any] = {"sender": f"{label}-{worker}", "message": QUESTION}
        if with_token:
            customer = DEMO_CUSTOMERS[worker % len(DEMO_CUSTOMERS)]
            payload["metadata"] = {"customer_token": tokens[customer]}
        return payload

    return body


def process_groups(ports: dict[str, int]) -> dict[str, tuple[str, ...]]:
    """Which processes' CPU to count, by words of their command lines."""
    return {
        "baseline: rasa": ("rasa run", f"--port {ports['baseline']}"),
        "assistant: rasa": ("bot.rasa_server", f"--port {ports['assistant']}"),
        "assistant: action server": ("bot.action_server",),
        "assistant: web service": ("-m bot web",),
        "assistant: notifier": ("-m bot notifier",),
    }


def measure(
    ports: dict[str, int],
) -> tuple[dict[str, list[LoadResult]], list[dict[str, dict[str, float]]]]:
    """Each load level on both bots back to back, so both see the same machine;
    with the CPU seconds each process used per level and bot."""
    bodies = {label: body_maker(label, label == "assistant") for label in ports}
    urls = {
        label: f"http://127.0.0.1:{port}/webhooks/rest/webhook" for label, port in ports.items()
    }
    groups = process_groups(ports)
    for label in ports:
        run_load(label, urls[label], 2, 10, bodies[label])  # warm-up
    results: dict[str, list[LoadResult]] = {label: [] for label in ports}
    cpu: list[dict[str, dict[str, float]]] = []
    for concurrency, turns in LEVELS:
        cpu.append({})
        for label in ports:
            before = cpu_by_group(groups)
            result = run_load(label, urls[label], concurrency, turns, bodies[label])
            after = cpu_by_group(groups)
            cpu[-1][label] = {
                group: round(after[group] - before[group], 2)
                for group in groups
                if group.startswith(label) and after[group] - before[group] > 0
            }
            log(f"{label} at {concurrency} concurrent: {result.row()}, CPU s {cpu[-1][label]}")
            results[label].append(result)
    return results, cpu


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    model = baseline_model()
    base_port, our_port = free_port(), free_port()
    log("starting the baseline bot and the order assistant")
    baseline = start_baseline(model, base_port)
    assistant = start_assistant(our_port)
    try:
        wait_ready(f"http://127.0.0.1:{base_port}/", baseline)
        wait_ready(f"http://127.0.0.1:{our_port}/", assistant)
        time.sleep(3)  # let the action server settle
        measured, cpu = measure({"baseline": base_port, "assistant": our_port})
        base, ours = measured["baseline"], measured["assistant"]
    finally:
        stop(assistant)
        stop(baseline)
    rows: list[dict[str, Any]] = []
    for b, o, level_cpu in zip(base, ours, cpu, strict=True):
        rows.append(
            {
                "concurrency": b.concurrency,
                "turns": o.requests,
                "cpu_seconds": level_cpu,
                "baseline": b.row(),
                "assistant": o.row(),
                "p50_ratio": round(o.percentile(0.5) / b.percentile(0.5), 2),
                "p95_ratio": round(o.percentile(0.95) / b.percentile(0.95), 2),
                "throughput_ratio": round(o.throughput / b.throughput, 2),
            }
        )
    (RESULTS / "rest.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "# REST channel benchmark",
        "",
        f'Question: "{QUESTION}" (assistant: with a customer token, action server and SQLite '
        "included; baseline: the `rasa init` bot, trained by the benchmark).",
        "",
        "| concurrent | bot | p50 ms | p95 ms | p99 ms | msg/s | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for name in ("baseline", "assistant"):
            r = row[name]
            lines.append(
                f"| {row['concurrency']} | {name} | {r['p50_ms']} | {r['p95_ms']} | "
                f"{r['p99_ms']} | {r['throughput_rps']} | {r['errors']} |"
            )
    lines += [
        "",
        "| concurrent | p50 ratio (aim ≤ 1.1 at 1) | p95 ratio | msg/s ratio (aim ≥ 0.9 at 20) |",
        "|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['concurrency']} | {row['p50_ratio']} | {row['p95_ratio']} | "
            f"{row['throughput_ratio']} |"
        )
    lines += [
        "",
        "CPU milliseconds per turn, by process (from /proc, same run):",
        "",
        "| concurrent | process | CPU ms per turn |",
        "|---|---|---|",
    ]
    for row in rows:
        for label_cpu in row["cpu_seconds"].values():
            for group, seconds in label_cpu.items():
                per_turn = 1000 * seconds / max(1, row["turns"])
                lines.append(f"| {row['concurrency']} | {group} | {per_turn:.1f} |")
    report = "\n".join(lines) + "\n"
    (RESULTS / "rest.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
