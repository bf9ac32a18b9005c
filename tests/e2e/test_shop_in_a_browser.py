"""The shop site as a customer sees it: headless Chromium (Debian's), driven by
Playwright, against the real web service, Rasa, action server and notifier.
Screenshots go to test-output/browser/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright

from bot.clock import shop_today
from bot.dates import spoken_date
from bot.settings import PROJECT_ROOT
from tests.e2e.conftest import ORDER_API_TOKEN, RunningAssistant

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling out, and this
# machine's closed network refuses it.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = PROJECT_ROOT / "test-output" / "browser"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def widget_says(page: Page, text: str, timeout_ms: int = 20_000) -> None:
    """Wait until one of the assistant's messages in the widget contains `text`."""
    page.wait_for_function(
        "text => [...document.querySelectorAll('.rw-response')]"
        ".some(m => m.innerText.includes(text))",
        arg=text,
        timeout=timeout_ms,
    )


def test_erik_asks_hears_a_delay_live_waits_and_reads_the_order_page(
    assistant: RunningAssistant, browser: Browser
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    today = shop_today("Europe/Amsterdam")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    # The page and its widget call no one but the shop (no font host, no CDN).
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or ""))
    page.goto(f"{assistant.web_url}/shop")
    page.get_by_role("button", name="Inloggen als Erik de Vries").click()
    page.wait_for_url("**/shop/orders")

    page.click(".rw-launcher")
    widget_says(page, "Hoi Erik")
    page.fill(".rw-new-message", "wat is er gewijzigd aan mijn bestelling?")
    page.keyboard.press("Enter")
    widget_says(page, "Gazelle")
    widget_says(page, spoken_date(today + timedelta(days=10), "nl", today))
    page.screenshot(path=str(SCREENSHOTS / "1-what-changed.png"))

    # The supplier reports a further delay: the open widget shows it, no reload.
    new_date = today + timedelta(days=24)
    response = assistant.report_delay(
        {
            "supplier": "Gazelle",
            "new_date": new_date.isoformat(),
            "reason_code": "production_problem",
            "reason": "de lakstraat in de fabriek staat stil",
        }
    )
    assert response.status_code == 202, response.text
    widget_says(page, "de lakstraat in de fabriek staat stil", timeout_ms=15_000)
    widget_says(page, spoken_date(new_date, "nl", today))
    page.screenshot(path=str(SCREENSHOTS / "2-warning-live.png"))

    page.get_by_text("Ik wacht", exact=True).click()
    widget_says(page, "blijft staan")
    page.screenshot(path=str(SCREENSHOTS / "3-waits.png"))

    page.goto(f"{assistant.web_url}/shop/orders/10001")
    what_changed = page.inner_text("#what-changed")
    assert "de lakstraat in de fabriek staat stil" in what_changed
    assert spoken_date(new_date, "nl", today) in page.inner_text("main")
    assert "Gazelle" in page.inner_text("#history")
    page.screenshot(path=str(SCREENSHOTS / "4-order-page.png"), full_page=True)
    page.close()
    assert hosts == {"127.0.0.1"}


def warning_status(assistant: RunningAssistant, warning_id: int) -> str | None:
    outbox = requests.get(
        f"{assistant.web_url}/api/v1/outbox",
        headers={"Authorization": f"Bearer {ORDER_API_TOKEN}"},
        timeout=10,
    ).json()
    return next((w["status"] for w in outbox["warnings"] if w["id"] == warning_id), None)


def open_chat_as(browser: Browser, web_url: str, customer: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{web_url}/shop?lang=en")
    page.get_by_role("button", name=f"Log in as {customer}").click()
    page.wait_for_url("**/shop/orders")
    page.click(".rw-launcher")
    return page


def test_a_warning_for_a_closed_widget_is_there_at_the_next_visit(
    assistant: RunningAssistant, browser: Browser
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    first_visit = open_chat_as(browser, assistant.web_url, "Emma Smith")
    widget_says(first_visit, "Hi Emma")
    first_visit.context.close()  # Emma leaves the site

    response = assistant.report_delay(
        {
            "supplier": "Abus",
            "delay_days": 6,
            "reason_code": "supplier_out_of_stock",
            "reason": "the size M helmets sold out at the factory",
        }
    )
    assert response.status_code == 202, response.text
    warning_id = response.json()["warning_ids"][0]
    deadline = time.monotonic() + 15
    while warning_status(assistant, warning_id) != "unread" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert warning_status(assistant, warning_id) == "unread"

    next_visit = open_chat_as(browser, assistant.web_url, "Emma Smith")
    widget_says(next_visit, "the size M helmets sold out at the factory")
    widget_says(next_visit, "Abus")
    next_visit.screenshot(path=str(SCREENSHOTS / "5-unread-at-next-visit.png"))
    assert warning_status(assistant, warning_id) == "sent"
    next_visit.context.close()
