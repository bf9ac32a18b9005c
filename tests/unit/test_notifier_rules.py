"""Quiet hours, backoff and the intake API's validation: plain rules, no services."""

from __future__ import annotations

import os
import random
import socket
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.proactive.channels import configured_push_channels
from bot.proactive.notifier import QuietHours, backoff, holder_is_gone
from bot.settings import PROJECT_ROOT
from bot.web.requests import OrderEventBody, SupplierDelayBody, ValidationError, field_errors


@pytest.mark.parametrize(
    ("utc_time", "quiet"),
    [
        (datetime(2026, 1, 15, 19, 59), False),  # 20:59 in Amsterdam (winter, UTC+1)
        (datetime(2026, 1, 15, 20, 0), True),  # 21:00
        (datetime(2026, 1, 15, 23, 30), True),
        (datetime(2026, 1, 16, 6, 59), True),  # 07:59
        (datetime(2026, 1, 16, 7, 0), False),  # 08:00
        (datetime(2026, 7, 15, 19, 0), True),  # 21:00 in summer (UTC+2)
        (datetime(2026, 7, 15, 6, 0), False),  # 08:00 in summer
    ],
)
def test_quiet_hours_are_in_the_shops_time_zone(utc_time: datetime, quiet: bool) -> None:
    assert QuietHours(21, 8, "Europe/Amsterdam").active(utc_time) is quiet


def test_quiet_hours_that_do_not_wrap_and_none_at_all() -> None:
    lunch = QuietHours(12, 13, "UTC")
    assert lunch.active(datetime(2026, 1, 1, 12, 30)) is True
    assert lunch.active(datetime(2026, 1, 1, 13, 0)) is False
    assert not any(QuietHours(0, 0, "UTC").active(datetime(2026, 1, 1, h)) for h in range(24))


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(1)
    steps = [backoff(attempt, 2.0, rng) for attempt in range(1, 6)]
    for attempt, step in enumerate(steps, start=1):
        full = 2.0 * 2 ** (attempt - 1)
        assert timedelta(seconds=full / 2) <= step <= timedelta(seconds=full)
    assert backoff(40, 2.0, rng) <= timedelta(seconds=600)  # the shipped cap
    assert len({backoff(3, 2.0, random.Random(seed)) for seed in range(10)}) > 1  # jitter


def fields_of(body: type, data: dict[str, object]) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        body(**data)
    return {problem["field"] for problem in field_errors(caught.value)}


def test_a_supplier_delay_needs_a_supplier_a_code_and_exactly_one_new_date() -> None:
    assert fields_of(SupplierDelayBody, {"reason_code": "x", "delay_days": 2}) == {"supplier"}
    assert fields_of(SupplierDelayBody, {"supplier": "Gazelle", "reason_code": "x"}) == {"body"}
    assert "new_date" in fields_of(
        SupplierDelayBody, {"supplier": "G", "reason_code": "x", "new_date": "3 december"}
    )
    assert "delay_days" in fields_of(
        SupplierDelayBody, {"supplier": "G", "reason_code": "x", "delay_days": 0}
    )
    assert "colour" in fields_of(
        SupplierDelayBody, {"supplier": "G", "reason_code": "x", "delay_days": 2, "colour": "red"}
    )
    ok = SupplierDelayBody(supplier=" Gazelle ", reason_code="production_problem", delay_days=7)
    assert ok.to_delay().supplier == "Gazelle"


def test_an_order_event_names_a_known_field_party_and_a_real_date() -> None:
    assert "field" in fields_of(OrderEventBody, {"field": "colour", "new_value": "red"})
    assert "party_type" in fields_of(
        OrderEventBody, {"field": "status", "new_value": "x", "party_type": "aliens"}
    )
    assert fields_of(OrderEventBody, {"field": "promised_date", "new_value": "soon"}) == {
        "new_value"
    }
    change = OrderEventBody(field="promised_date", new_value="2026-12-03").to_change(10001)
    assert (change.order_id, change.new_value) == (10001, "2026-12-03")


def test_a_crashed_notifier_on_this_machine_gives_up_its_lease() -> None:
    child = subprocess.Popen(["true"])
    child.wait()
    here = socket.gethostname()
    assert holder_is_gone(f"{here}:{child.pid}")
    assert not holder_is_gone(f"{here}:{os.getpid()}")
    assert not holder_is_gone(f"elsewhere-{here}:{child.pid}")
    assert not holder_is_gone("no-pid-here")


def test_only_channels_rasa_is_set_up_with_are_pushed_to(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(
        "bot.channels.rest.GuardedRestInput:\n"
        "bot.channels.webchat.WebchatInput:\n  session_persistence: true\n"
        "telegram:\n  access_token: x\n"
    )
    assert configured_push_channels(credentials, {}) == ("socketio", "telegram")
    # The shipped file: messaging channels only with their variables set.
    shipped = PROJECT_ROOT / "credentials.yml"
    assert configured_push_channels(shipped, {}) == ("socketio",)
    telegram = {"TELEGRAM_ACCESS_TOKEN": "1:x", "TELEGRAM_SECRET_TOKEN": "s"}
    assert configured_push_channels(shipped, telegram) == ("socketio", "telegram")
    with pytest.raises(ValueError):
        configured_push_channels(tmp_path / "missing.yml", {})
