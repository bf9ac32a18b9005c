"""Starting and stopping server processes: free ports, readiness, clean stops.

Used by `python -m bot run`, the end-to-end tests and the benchmarks.
"""

from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import Callable

import requests

STOP_GRACE_SECONDS = 15


# Ports below Linux's ephemeral range (32768-60999). A port the kernel picks
# (a bind to 0) is one it may give the next outgoing connection (to PostgreSQL,
# to Rasa) before our server binds it, and the server then cannot start: seen
# in a clean-clone CI run, "address already in use" on the web service's port.
_QUIET_PORTS = range(20000, 32768)
_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now, outside the ephemeral range, and never
    the same one twice in this process (a stack asks for three at once)."""
    for _ in range(500):
        # Random: two test runs on one machine seldom try the same one.
        port = random.choice(_QUIET_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket() as sock:  # all tried were taken: the kernel's choice
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ready(
    url: str,
    process: subprocess.Popen[bytes],
    timeout: float,
    cancelled: Callable[[], bool] = lambda: False,
) -> bool:
    """True once `url` answers 2xx; False if the process dies, time runs out or we stop."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not cancelled():
        if process.poll() is not None:
            return False
        try:
            if requests.get(url, timeout=2).ok:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return False


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to each, then SIGKILL to whatever is still there after the grace time."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
