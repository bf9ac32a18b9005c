"""nginx limits requests per client address on /webhooks and /socket.io (the
shop platforms' /sources/ far less), and
leaves loopback (the cluster's own tests and benchmarks) alone: the rendered
configuration, run by a real nginx in front of a stand-in upstream."""

from __future__ import annotations

import http.client
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.cluster import find_nginx, render_nginx
from bot.processes import free_port
from bot.settings import load_settings
from tests.cluster.conftest import require_nginx

PATHS = ("/webhooks/rest/webhook", "/socket.io/?EIO=4&transport=polling")


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 65536  # the answer in one packet (Nagle and delayed ACKs cost 40 ms)

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


@pytest.fixture
def upstream() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def rendered(tmp_path: Path, upstream: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    port = free_port()
    monkeypatch.setenv("PROXY_HOST", "127.0.0.1")
    monkeypatch.setenv("PROXY_PORT", str(port))
    monkeypatch.setenv("PROXY_API_PORT", str(free_port()))
    return render_nginx(load_settings(), [upstream], upstream, tmp_path), port


def run_nginx(conf: Path, port: int) -> subprocess.Popen[bytes]:
    nginx = find_nginx()
    assert nginx is not None
    check = subprocess.run([nginx, "-t", "-c", str(conf)], capture_output=True, timeout=30)
    assert check.returncode == 0, check.stderr.decode()
    process = subprocess.Popen(
        [nginx, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return process
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise AssertionError("nginx did not start")


def statuses(port: int, path: str, count: int) -> Counter[int]:
    """`count` requests as fast as one client can send them."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    seen: Counter[int] = Counter()
    for _ in range(count):
        if path.startswith(("/webhooks/", "/sources/")):
            connection.request("POST", path, body=b"{}", headers={"Content-Type": "text/json"})
        else:
            connection.request("GET", path)
        answer = connection.getresponse()
        answer.read()
        seen[answer.status] += 1
    connection.close()
    return seen


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def test_loopback_is_not_limited(
    tmp_path: Path, upstream: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_nginx()
    conf, port = rendered(tmp_path, upstream, monkeypatch)
    process = run_nginx(conf, port)
    try:
        for path in PATHS:
            assert statuses(port, path, 300) == Counter({200: 300})
    finally:
        stop(process)


def test_any_other_address_is_limited(
    tmp_path: Path, upstream: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same configuration without loopback's exemption (the one line that
    sets it), so that this machine's requests stand in for a customer's."""
    require_nginx()
    conf, port = rendered(tmp_path, upstream, monkeypatch)
    text = conf.read_text()
    assert "127.0.0.0/8 0;" in text
    conf.write_text(text.replace("127.0.0.0/8 0;", ""))
    process = run_nginx(conf, port)
    try:
        for index, path in enumerate(PATHS):
            if index:
                time.sleep(7)  # the zone both paths share drains (10 a second)
            seen = statuses(port, path, 150)
            assert seen[429] > 0, (path, seen)
            assert seen[200] >= 60, (path, seen)  # a burst of a real customer's size passes
        # The platforms' webhooks have a limit of their own, far higher: the
        # messaging platforms' and the shop platforms' (to the web service).
        assert statuses(port, "/webhooks/telegram/webhook", 150) == Counter({200: 150})
        time.sleep(6)  # the platforms' zone drains (100 a second)
        shops = statuses(port, "/sources/shopify", 800)
        assert shops[200] >= 500 and shops[429] > 0, shops  # a bulk edit's burst passes
    finally:
        stop(process)
