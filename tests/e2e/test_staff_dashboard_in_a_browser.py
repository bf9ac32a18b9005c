"""The staff dashboard as shop staff see it: headless Chromium against the real
stack (`python -m bot run`). A customer's question over the REST channel shows
up in the counts, through the question counter inside Rasa. Screenshot in
test-output/browser/."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, sync_playwright

from bot.analytics.intent_labels import intent_label
from tests.e2e.conftest import RASA_TOKEN, RunningAssistant
from tests.e2e.test_shop_in_a_browser import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOTS


@pytest.fixture(scope="module", params=["sql", "http"])
def order_system(request: pytest.FixtureRequest) -> str:
    """Once against the demo shop, once against a separate shop behind the REST adapter."""
    return str(request.param)


CANVASES = (
    "chart-reasons",
    "chart-suppliers",
    "chart-warnings",
    "chart-promises",
    "chart-questions",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def run_password(assistant: RunningAssistant) -> str:
    """No STAFF_PASSWORD in the environment: the run made one and printed it
    once, with where to go, when the run saw every process answer (which can
    be a moment after this test saw Rasa answer)."""
    deadline = time.monotonic() + 60
    while not (found := re.findall(r"password for this run: (\S+)", assistant.log())):
        assert time.monotonic() < deadline, assistant.log()[-3000:]
        time.sleep(0.5)
    assert len(found) == 1, assistant.log()[-3000:]
    return found[0]


def counted(assistant: RunningAssistant, staff: requests.Session, intent: str) -> int:
    stats = staff.get(f"{assistant.web_url}/staff/api/stats?lang=en", timeout=10).json()
    return sum(q["en"] for q in stats["questions"] if q["intent"] == intent)


def test_staff_log_in_and_see_the_charts_and_the_question_just_asked(
    assistant: RunningAssistant, browser: Browser
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    password = run_password(assistant)
    assert "STAFF_PASSWORD" not in assistant.env

    # A customer asks over the REST channel; Rasa's tracker says which intent.
    assistant.say("staff-e2e-visitor", "where is my order? I want to know the status")
    tracker = requests.get(
        f"{assistant.rasa_url}/conversations/staff-e2e-visitor/tracker",
        params={"token": RASA_TOKEN},
        timeout=10,
    ).json()
    intent = tracker["latest_message"]["intent"]["name"]

    staff = requests.Session()
    login = staff.post(f"{assistant.web_url}/staff/login", data={"password": password}, timeout=10)
    assert login.status_code == 200
    deadline = time.monotonic() + 30  # the counter writes every QUESTION_FLUSH_SECONDS (5)
    while counted(assistant, staff, intent) < 1 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert counted(assistant, staff, intent) == 1

    page = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
    page.goto(f"{assistant.web_url}/staff?lang=en")
    page.wait_for_url("**/staff/login?next=*")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "That password is not right" in page.inner_text("main")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff?lang=en")

    # Every chart is drawn by Chart.js, with the figures of /staff/api/stats.
    page.wait_for_function(
        "ids => ids.every(id => window.Chart && Chart.getChart(document.getElementById(id)))",
        arg=list(CANVASES),
        timeout=15_000,
    )
    drawn = page.evaluate(
        """ids => Object.fromEntries(ids.map(id => {
            const chart = Chart.getChart(document.getElementById(id));
            return [id, {labels: chart.data.labels,
                         sums: chart.data.datasets.map(d => d.data.reduce((a, b) => a + b, 0))}];
        }))""",
        list(CANVASES),
    )
    reasons_total = sum(drawn["chart-reasons"]["sums"])
    assert reasons_total == 5  # the demo shop's changes
    assert sum(drawn["chart-suppliers"]["sums"]) == 3  # Gazelle 1, TabletWereld 2
    label = intent_label(intent, "en")
    assert label in drawn["chart-questions"]["labels"]
    assert label in page.inner_text("#questions")
    assert page.is_hidden("#chart-error")
    page.screenshot(path=str(SCREENSHOTS / "5-staff-dashboard.png"), full_page=True)

    page.click("text=Log out")
    page.wait_for_url("**/staff/login*")
    assert page.goto(f"{assistant.web_url}/staff/api/stats").status == 401  # type: ignore[union-attr]
    page.context.close()
