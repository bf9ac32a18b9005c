"""A crashed cluster service is started again with a growing delay, never the
whole cluster stopped (real child processes that exit at once)."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.cluster import HEALTHY_SECONDS, MAX_RESTART_DELAY, Service, Supervisor


def crashing_service(tmp_path: Path) -> Service:
    return Service(
        "notifier-1",
        [sys.executable, "-c", "import sys; sys.exit(3)"],
        {},
        tmp_path / "notifier-1.log",
    )


def test_a_crash_loop_backs_off_and_a_healthy_run_starts_quickly_again(tmp_path: Path) -> None:
    service = crashing_service(tmp_path)
    said: list[str] = []
    supervisor = Supervisor([service], log=said.append)
    service.start()
    assert service.process is not None
    service.process.wait()
    now = service.started_at + 0.1
    delays = []
    for _ in range(8):
        supervisor.tend(now)
        delays.append(float(said[-1].split(" in ")[1].split("s ")[0]))
        first = service.process
        supervisor.tend(now + delays[-1] - 0.01)
        assert service.process is first, "not before its time"
        now += delays[-1]
        supervisor.tend(now)
        assert service.process is not first, "started again"
        service.process.wait()
        service.started_at = now
        now += 0.1
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60]
    assert max(delays) == MAX_RESTART_DELAY and service.restarts == 8
    # It then ran long enough to count as healthy: the next crash is restarted at once.
    supervisor.tend(service.started_at + HEALTHY_SECONDS + 1)
    assert said[-1].split(" in ")[1].startswith("1s")
    assert "exit 3" in said[-1]


def test_stopping_restarts_nothing(tmp_path: Path) -> None:
    service = crashing_service(tmp_path)
    supervisor = Supervisor([service], log=lambda _line: None)
    service.start()
    assert service.process is not None
    service.process.wait()
    supervisor.tend(service.started_at + 100, stopping=lambda: True)
    supervisor.tend(service.started_at + 200, stopping=lambda: True)
    assert service.restarts == 0
