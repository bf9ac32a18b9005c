"""The staff dashboard, served by the web service as `make run` starts it:
behind the staff login, with the figures of the database it runs on."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import insert

from bot.analytics.questions import add_question_counts
from bot.clock import shop_today, utcnow
from bot.database import create_db_engine
from bot.memory.customers import OptOutRow
from bot.processes import free_port, stop_all, wait_until_ready
from bot.settings import PROJECT_ROOT
from tests.conftest import SHOP_SECRET, _seeded

PASSWORD = "staff-test-password"
API_TOKEN = "staff-test-order-api-token-of-32-chars-or-more"


def start_web(folder: Path, staff_password: str) -> tuple[str, subprocess.Popen[bytes]]:
    url = f"sqlite:///{folder / 'shop.db'}"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SHOP_TOKEN_SECRET": SHOP_SECRET,
        "ORDER_API_TOKEN": API_TOKEN,
        "STAFF_PASSWORD": staff_password,
        "WEB_PORT": str(port),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    log = (folder / "web.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "web"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    if not wait_until_ready(f"{base}/health", process, timeout=60):
        stop_all([process])
        raise RuntimeError((folder / "web.log").read_text())
    return base, process


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo shop, a Gazelle delay through the intake API, one customer
    opted out and counted questions."""
    folder = tmp_path_factory.mktemp("staff")
    today = shop_today("Europe/Amsterdam")
    orders = _seeded(f"sqlite:///{folder / 'shop.db'}", today)
    base, process = start_web(folder, PASSWORD)
    try:
        delay = requests.post(
            f"{base}/api/v1/supplier-delays",
            json={"supplier": "Gazelle", "delay_days": 5, "reason_code": "production_problem"},
            headers={"Authorization": f"Bearer {API_TOKEN}"},
            timeout=30,
        )
        assert delay.status_code == 202 and delay.json()["warnings_queued"] == 1, delay.text
        engine = create_db_engine(f"sqlite:///{folder / 'shop.db'}")
        with engine.begin() as connection:
            connection.execute(insert(OptOutRow).values(customer_id=1004, opted_out_at=utcnow()))
        add_question_counts(
            engine,
            {
                (today, "ask_changes", "nl"): 4,
                (today, "ask_changes", "en"): 1,
                (today - timedelta(days=1), "request_human", "nl"): 2,
            },
        )
        engine.dispose()
        del orders
        yield base
    finally:
        stop_all([process])


def logged_in(site: str, password: str = PASSWORD) -> requests.Session:
    staff = requests.Session()
    page = staff.post(f"{site}/staff/login", data={"password": password}, timeout=10)
    assert page.status_code == 200 and page.url.endswith("/staff"), page.text
    return staff


def test_without_a_login_there_is_nothing_to_see(site: str) -> None:
    page = requests.get(f"{site}/staff?lang=en", timeout=10)
    assert page.url.startswith(f"{site}/staff/login?next=")
    assert "Gazelle" not in page.text and "Staff login" in page.text  # still in English
    assert 'type="password"' in page.text
    api = requests.get(f"{site}/staff/api/stats", timeout=10)
    assert api.status_code == 401 and "Gazelle" not in api.text
    forged = requests.get(
        f"{site}/staff/api/stats", cookies={"staff_session": "9999999999.abc.def"}, timeout=10
    )
    assert forged.status_code == 401


def test_a_wrong_password_is_refused(site: str) -> None:
    wrong = requests.post(f"{site}/staff/login?lang=en", data={"password": "not-it"}, timeout=10)
    assert wrong.status_code == 401 and "That password is not right" in wrong.text
    assert "staff_session" not in wrong.cookies
    logged_in(site)  # and clears this client's failure


def test_the_session_cookie_is_signed_httponly_strict_and_expires(site: str) -> None:
    response = requests.post(
        f"{site}/staff/login", data={"password": PASSWORD}, allow_redirects=False, timeout=10
    )
    assert response.status_code == 302 and response.headers["location"] == "/staff"
    cookie = response.headers["set-cookie"].lower()
    assert "staff_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "max-age=28800" in cookie and "path=/staff" in cookie


def test_the_figures_match_the_database(site: str) -> None:
    staff = logged_in(site)
    stats = staff.get(f"{site}/staff/api/stats?lang=en", timeout=10).json()
    reasons = {s["code"]: sum(s["counts"]) for s in stats["changes_by_reason"]}
    # The demo shop's changes, and the Gazelle delay from the intake API.
    assert reasons == {
        "production_problem": 2,
        "supplier_out_of_stock": 2,
        "carrier_delay": 1,
        "": 1,
    }
    labels = {s["code"]: s["label"] for s in stats["changes_by_reason"]}
    assert labels[""] == "no reason recorded"
    suppliers = {s["name"]: sum(s["counts"]) for s in stats["changes_by_supplier"]}
    assert suppliers == {"Gazelle": 2, "TabletWereld": 2}
    warnings = {row["status"]: row["count"] for row in stats["warnings"]["by_status"]}
    assert warnings == {"queued": 1, "sent": 0, "unread": 0, "dead": 0, "suppressed": 0}
    assert stats["warnings"]["opted_out"]["count"] == 1
    assert stats["warnings"]["shown"]["count"] == 0
    questions = [
        (q["intent"], q["label"], q["total"], q["nl"], q["en"]) for q in stats["questions"]
    ]
    assert questions == [
        ("ask_changes", "What changed in my order?", 5, 4, 1),
        ("request_human", "Talk to a person", 2, 2, 0),
    ]
    kinds = [k["kind"] for k in stats["promises"]["kinds"]]
    promises = {
        s["status"]: dict(zip(kinds, s["counts"], strict=True))
        for s in stats["promises"]["statuses"]
    }
    # The intake renewed Erik's pickup promise; the new date is open.
    assert promises["renewed"]["pickup_date"] == 1 and promises["open"]["pickup_date"] == 1
    assert promises["open"]["delivery_date"] == 4 and promises["kept"]["delivery_date"] == 1


def test_the_page_shows_the_numbers_in_dutch_and_english(site: str) -> None:
    staff = logged_in(site)
    dutch = staff.get(f"{site}/staff?lang=nl", timeout=10)
    assert dutch.status_code == 200 and "Waarom bestellingen veranderen" in dutch.text
    assert "Wat is er gewijzigd aan mijn bestelling?" in dutch.text
    assert '<tr data-status="queued"><td>in de wachtrij</td><td class="n">1</td></tr>' in dutch.text
    english = staff.get(f"{site}/staff?lang=en", timeout=10).text
    assert "Why orders change" in english and '<canvas id="chart-reasons"' in english
    assert "What changed in my order?" in english
    assert "no-store" in staff.get(f"{site}/staff", timeout=10).headers["cache-control"]


def test_chart_js_is_served_from_node_modules(site: str) -> None:
    bundle = requests.get(f"{site}/static/chart.umd.js", timeout=10)
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert "Chart.js v4" in bundle.text[:500]
    script = requests.get(f"{site}/static/staff_dashboard.js", timeout=10)
    assert script.status_code == 200 and "new Chart(" in script.text


def test_logout_ends_the_session(site: str) -> None:
    staff = logged_in(site)
    staff.post(f"{site}/staff/logout", timeout=10)
    assert staff.get(f"{site}/staff/api/stats", timeout=10).status_code == 401


def test_after_five_failures_the_client_waits(site: str) -> None:
    """Last in this module: it blocks 127.0.0.1 for a quarter of an hour."""
    for _ in range(5):
        wrong = requests.post(f"{site}/staff/login", data={"password": "guess"}, timeout=10)
        assert wrong.status_code == 401
    blocked = requests.post(f"{site}/staff/login?lang=en", data={"password": PASSWORD}, timeout=10)
    assert blocked.status_code == 429 and "Too many failed attempts" in blocked.text
    assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60
    assert "staff_session" not in blocked.cookies


def test_without_staff_password_nobody_logs_in(tmp_path: Path) -> None:
    _seeded(f"sqlite:///{tmp_path / 'shop.db'}", shop_today("Europe/Amsterdam"))
    base, process = start_web(tmp_path, "")
    try:
        page = requests.get(f"{base}/staff/login?lang=en", timeout=10)
        assert "No STAFF_PASSWORD is set" in page.text
        empty = requests.post(f"{base}/staff/login", data={"password": ""}, timeout=10)
        assert empty.status_code == 401
        assert requests.get(f"{base}/staff/api/stats", timeout=10).status_code == 401
    finally:
        stop_all([process])
