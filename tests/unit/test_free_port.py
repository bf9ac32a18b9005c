"""free_port: ports a server can still bind when it starts."""

from __future__ import annotations

import socket

import pytest

from bot import processes
from bot.processes import free_port


def test_ports_are_outside_the_kernels_ephemeral_range_and_never_repeat() -> None:
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert all(1024 < port < 32768 for port in ports)  # Linux hands out 32768-60999


def test_a_port_something_listens_on_is_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as busy, socket.socket() as probe:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        probe.bind(("127.0.0.1", 0))
        idle = probe.getsockname()[1]
        probe.close()
        monkeypatch.setattr(processes, "_QUIET_PORTS", [busy.getsockname()[1], idle])
        monkeypatch.setattr(processes, "_handed_out", set())
        assert free_port() == idle
