"""The demo shop site, served by the web service as `make run` starts it: the
order status page tells the real reason, who, and the new date."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from bot.clock import shop_today
from bot.dates import spoken_date
from bot.identity import customer_from_token, make_customer_token
from bot.processes import free_port, stop_all, wait_until_ready
from bot.settings import PROJECT_ROOT
from tests.conftest import SHOP_SECRET, _seeded


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("site")
    url = f"sqlite:///{folder / 'shop.db'}"
    _seeded(url, shop_today("Europe/Amsterdam"))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SHOP_TOKEN_SECRET": SHOP_SECRET,
        "ORDER_API_TOKEN": "shop-site-test-api-token",
        "DEMO_SHOP": "true",
        "WEB_PORT": str(port),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    log = (folder / "web.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "web"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until_ready(f"{base}/health", process, timeout=60), (
            folder / "web.log"
        ).read_text()
        yield base
    finally:
        stop_all([process])


def logged_in(site: str, customer_id: int) -> requests.Session:
    browser = requests.Session()
    page = browser.post(f"{site}/shop/login", data={"customer_id": str(customer_id)}, timeout=10)
    assert page.status_code == 200 and page.url.endswith("/shop/orders")
    return browser


def test_eriks_order_page_tells_gazelle_the_reason_and_the_new_date(site: str, today: date) -> None:
    page = logged_in(site, 1001).get(f"{site}/shop/orders/10001", timeout=10).text
    assert "Gazelle" in page
    assert "productie" in page  # the reason, not "Bestelling is gewijzigd"
    assert spoken_date(today + timedelta(days=10), "nl", today) in page
    assert "Geschiedenis" in page


def test_the_list_and_english_pages(site: str) -> None:
    emma = logged_in(site, 1005)
    orders = emma.get(f"{site}/shop/orders", timeout=10).text
    assert "My orders" in orders and "10005" in orders
    dutch = emma.get(f"{site}/shop/orders?lang=nl", timeout=10).text
    assert "Mijn bestellingen" in dutch


def test_nobody_sees_another_customers_order(site: str) -> None:
    erik = logged_in(site, 1001)
    other = erik.get(f"{site}/shop/orders/10002", timeout=10)
    assert other.status_code == 404 and "TabletWereld" not in other.text
    missing = erik.get(f"{site}/shop/orders/99999", timeout=10)
    assert missing.status_code == 404 and missing.text.count("<p>") == other.text.count("<p>")


def test_without_a_valid_session_the_site_asks_to_log_in(site: str) -> None:
    anonymous = requests.get(f"{site}/shop/orders/10001", timeout=10)
    assert anonymous.url.endswith("/shop") and "Gazelle" not in anonymous.text
    forged = requests.get(
        f"{site}/shop/orders/10001",
        cookies={"shop_session": make_customer_token(1001, "not-the-shop-secret-" * 2)},
        timeout=10,
    )
    assert forged.url.endswith("/shop") and "Gazelle" not in forged.text
    unknown = requests.post(f"{site}/shop/login", data={"customer_id": "abc"}, timeout=10)
    assert unknown.url.endswith("/shop")


def widget_settings(page: str) -> dict[str, object]:
    """The settings the page hands to rasa-webchat."""
    start = page.index("var chatSettings = ") + len("var chatSettings = ")
    config, _ = json.JSONDecoder().raw_decode(page[start:])
    return dict(config)


def test_every_page_has_the_chat_widget_with_the_customers_token(site: str) -> None:
    bundle = requests.get(f"{site}/static/webchat.js", timeout=10)
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert len(bundle.content) > 100_000  # rasa-webchat's whole UMD bundle
    anonymous = widget_settings(requests.get(f"{site}/shop", timeout=10).text)
    assert anonymous["initPayload"] == "/get_started"
    assert "customer_token" not in anonymous["customData"]  # type: ignore[operator]
    erik = logged_in(site, 1001)
    settings = widget_settings(erik.get(f"{site}/shop/orders/10001", timeout=10).text)
    custom = settings["customData"]
    assert isinstance(custom, dict) and custom["language"] == "nl"
    assert customer_from_token(custom["customer_token"], SHOP_SECRET) == 1001
    assert custom["customer_token"] == erik.cookies["shop_session"]
