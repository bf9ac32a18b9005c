"""A small closed-loop load generator for Rasa's REST channel (aiohttp)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass
class LoadResult:
    label: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
        return ordered[index]

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def row(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.errors,
            "p50_ms": round(self.percentile(0.50), 1),
            "p95_ms": round(self.percentile(0.95), 1),
            "p99_ms": round(self.percentile(0.99), 1),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 1) if self.latencies_ms else None,
            "throughput_rps": round(self.throughput, 1),
        }


async def _worker(
    session: aiohttp.ClientSession,
    url: str,
    body_for: Callable[[int, int], dict[str, Any]],
    worker: int,
    count: int,
    latencies: list[float],
    errors: list[int],
) -> None:
    for turn in range(count):
        started = time.perf_counter()
        try:
            async with session.post(url, json=body_for(worker, turn)) as response:
                payload = await response.json()
                if response.status != 200 or not payload:
                    errors.append(1)
                    continue
        except (aiohttp.ClientError, asyncio.TimeoutError):
            errors.append(1)
            continue
        latencies.append((time.perf_counter() - started) * 1000)


async def _run(
    label: str,
    url: str,
    concurrency: int,
    per_worker: int,
    body_for: Callable[[int, int], dict[str, Any]],
) -> LoadResult:
    latencies: list[float] = []
    errors: list[int] = []
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _worker(session, url, body_for, worker, per_worker, latencies, errors)
                for worker in range(concurrency)
            )
        )
        seconds = time.perf_counter() - started
    return LoadResult(label, concurrency, concurrency * per_worker, len(errors), seconds, latencies)


def run_load(
    label: str,
    url: str,
    concurrency: int,
    per_worker: int,
    body_for: Callable[[int, int], dict[str, Any]],
) -> LoadResult:
    """`concurrency` customers, each sending `per_worker` messages one after another."""
    return asyncio.run(_run(label, url, concurrency, per_worker, body_for))
