"""The staff dashboard's pure parts: login cookie, throttle, counting, labels, weeks."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone
from pathlib import Path

import yaml

from bot.analytics.intent_labels import INTENT_LABELS, intent_label
from bot.analytics.questions import QuestionTally, question_key
from bot.runner import with_staff_password
from bot.settings import PROJECT_ROOT, Settings, load_settings
from bot.staff.stats import (
    NO_REASON,
    DashboardFigures,
    keep_largest,
    per_week,
    recent_weeks,
    week_start,
)
from bot.web.staff import figures_json
from bot.web.staff_auth import (
    SESSION_SECONDS,
    LoginThrottle,
    make_session,
    password_matches,
    safe_next,
    session_key,
    session_valid,
)
from bot.web.staff_texts import REASON_LABELS, STAFF_TEXTS, reason_label

NOW = 1_800_000_000.0


def settings_with(**values: object) -> Settings:
    return dataclasses.replace(load_settings(), **values)  # type: ignore[arg-type]


# --- the login cookie -----------------------------------------------------------


def test_a_session_is_valid_until_it_expires() -> None:
    key = session_key(settings_with(staff_password="correct horse"))
    cookie = make_session(key, NOW)
    assert session_valid(cookie, key, NOW)
    assert session_valid(cookie, key, NOW + SESSION_SECONDS - 1)
    assert not session_valid(cookie, key, NOW + SESSION_SECONDS)


def test_a_tampered_or_foreign_session_is_refused() -> None:
    key = session_key(settings_with(staff_password="correct horse"))
    cookie = make_session(key, NOW)
    expires, nonce, signature = cookie.split(".")
    longer = f"{int(expires) + 3600}.{nonce}.{signature}"
    assert not session_valid(longer, key, NOW)
    assert not session_valid(cookie[:-1] + ("0" if cookie[-1] != "0" else "1"), key, NOW)
    assert not session_valid("", key, NOW) and not session_valid(None, key, NOW)
    assert not session_valid("garbage", key, NOW)
    # A new password (or another shop's secret) ends every session.
    assert not session_valid(cookie, session_key(settings_with(staff_password="new")), NOW)
    other_shop = settings_with(staff_password="correct horse", shop_token_secret="x" * 40)
    assert not session_valid(cookie, session_key(other_shop), NOW)


def test_a_session_signed_for_too_long_is_refused() -> None:
    key = session_key(settings_with(staff_password="pw"))
    forever = make_session(key, NOW, seconds=10 * SESSION_SECONDS)
    assert not session_valid(forever, key, NOW)


def test_the_password_is_compared_and_never_empty() -> None:
    assert password_matches("s3cret", "s3cret")
    assert not password_matches("s3cre", "s3cret")
    assert not password_matches("", "")
    assert not password_matches("anything", "")


def test_after_login_only_staff_pages_are_a_destination() -> None:
    assert safe_next("/staff?lang=en") == "/staff?lang=en"
    assert safe_next("/staff/queue") == "/staff/queue"
    assert safe_next("https://evil.example/staff") == "/staff"
    assert safe_next("//evil.example") == "/staff"
    assert safe_next(None) == "/staff"


# --- the throttle ----------------------------------------------------------------


def test_five_failures_block_a_client_for_the_rest_of_the_window() -> None:
    throttle = LoginThrottle(max_failures=5, window_seconds=900)
    for second in range(5):
        assert throttle.blocked_for("10.0.0.1", NOW + second) == 0
        throttle.failed("10.0.0.1", NOW + second)
    assert throttle.blocked_for("10.0.0.1", NOW + 5) == 900 - 5
    assert throttle.blocked_for("10.0.0.2", NOW + 5) == 0  # another client
    assert throttle.blocked_for("10.0.0.1", NOW + 900) == 0  # the first failure left the window
    throttle.failed("10.0.0.1", NOW + 900)  # five in the window again: until the 2nd leaves
    assert throttle.blocked_for("10.0.0.1", NOW + 900) == 1


def test_a_successful_login_clears_the_failures() -> None:
    throttle = LoginThrottle(max_failures=2, window_seconds=900)
    throttle.failed("a", NOW)
    throttle.succeeded("a")
    throttle.failed("a", NOW + 1)
    assert throttle.blocked_for("a", NOW + 2) == 0


def test_the_throttle_forgets_the_longest_quiet_clients_first() -> None:
    throttle = LoginThrottle(max_failures=1, window_seconds=900, max_clients=2)
    for client in ("a", "b", "c"):
        throttle.failed(client, NOW)
    assert throttle.blocked_for("a", NOW) == 0
    assert throttle.blocked_for("c", NOW) > 0


# --- the run's password ------------------------------------------------------------


def test_without_staff_password_the_run_makes_one() -> None:
    made, fresh = with_staff_password(settings_with(staff_password=""))
    again, _ = with_staff_password(settings_with(staff_password=""))
    assert fresh and len(made.staff_password) >= 16 and made.staff_password != again.staff_password
    kept, fresh = with_staff_password(settings_with(staff_password="given"))
    assert not fresh and kept.staff_password == "given"


# --- counting questions --------------------------------------------------------------


def user_event(text: str, intent: str = "ask_changes", **extra: object) -> dict[str, object]:
    moment = datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc)  # 00:30 in Amsterdam
    return {
        "event": "user",
        "timestamp": moment.timestamp(),
        "text": text,
        "parse_data": {"intent": {"name": intent}},
        **extra,
    }


def test_a_typed_question_counts_under_the_shops_day_intent_and_language() -> None:
    key = question_key(user_event("wat is er gewijzigd?"), "Europe/Amsterdam")
    assert key == (date(2026, 11, 25), "ask_changes", "nl")
    english = question_key(user_event("what changed in my order?"), "Europe/Amsterdam")
    assert english is not None and english[2] == "en"
    assert question_key(user_event("10001", "order_number"), "UTC") == (
        date(2026, 11, 24),
        "order_number",
        "unknown",
    )


def test_only_what_customers_type_is_counted() -> None:
    tz = "Europe/Amsterdam"
    assert question_key({"event": "bot", "text": "Hoi"}, tz) is None
    assert question_key({"event": "action", "name": "action_listen"}, tz) is None
    assert question_key(user_event("/get_started", "get_started"), tz) is None
    assert question_key(user_event('/keep_order{"warning_id": 3}', "keep_order"), tz) is None
    pushed = user_event("EXTERNAL: EXTERNAL_order_warning", "EXTERNAL_order_warning")
    assert question_key(pushed, tz) is None
    assert question_key(user_event("hoi", metadata={"is_external": True}), tz) is None
    assert question_key(user_event(""), tz) is None
    assert question_key({"event": "user", "text": "hoi", "parse_data": {}}, tz) is None


def test_the_tally_gives_back_what_a_failed_flush_took() -> None:
    tally = QuestionTally()
    key = (date(2026, 11, 25), "ask_changes", "nl")
    tally.add(key)
    tally.add(key)
    taken = tally.take()
    assert taken == {key: 2} and tally.pending() == 0
    tally.add(key)
    tally.give_back(taken)
    assert tally.take() == {key: 3}


# --- labels ------------------------------------------------------------------------


def domain_intents() -> set[str]:
    intents: set[str] = set()
    for path in Path(PROJECT_ROOT / "domain").glob("*.yml"):
        for item in yaml.safe_load(path.read_text()).get("intents", []) or []:
            intents.add(item if isinstance(item, str) else next(iter(item)))
    return {intent for intent in intents if not intent.startswith("EXTERNAL_")}


def test_every_intent_a_customer_can_type_has_words_for_staff() -> None:
    missing = domain_intents() - set(INTENT_LABELS)
    assert not missing, f"add nl and en labels to bot/analytics/intent_labels.py: {missing}"
    for labels in INTENT_LABELS.values():
        assert set(labels) == {"nl", "en"} and all(labels.values())
    assert intent_label("ask_changes", "nl") == "Wat is er gewijzigd aan mijn bestelling?"
    assert intent_label("some_new_intent", "en") == "Some new intent"


def test_every_reason_code_has_words_for_staff() -> None:
    reasons = yaml.safe_load((PROJECT_ROOT / "bot" / "texts" / "reasons.yml").read_text())
    assert set(reasons["reasons"]) <= set(REASON_LABELS)
    assert reason_label(NO_REASON, "en") == "no reason recorded"
    assert reason_label("brand_new_code", "nl") == "brand new code"


def test_both_languages_have_every_staff_text() -> None:
    assert set(STAFF_TEXTS["nl"]) == set(STAFF_TEXTS["en"])


# --- weeks and series ------------------------------------------------------------------


def test_days_are_summed_into_monday_weeks() -> None:
    weeks = recent_weeks(date(2026, 11, 25), 3)
    assert weeks == [date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23)]
    assert week_start(date(2026, 11, 29)) == date(2026, 11, 23)
    series = per_week(
        [
            ("2026-11-23", "carrier_delay", 2),  # SQLite gives text
            (date(2026, 11, 29), "carrier_delay", 1),
            (date(2026, 11, 10), None, 4),
            (date(2026, 11, 1), "carrier_delay", 9),  # before the first week
        ],
        weeks,
    )
    assert series == {NO_REASON: [4, 0, 0], "carrier_delay": [0, 0, 3]}


def test_only_the_largest_series_are_kept_apart() -> None:
    series = {"a": [1, 0], "b": [5, 5], "c": [0, 2], "d": [1, 1]}
    assert keep_largest(series, 2, "rest") == {"b": [5, 5], "c": [0, 2], "rest": [2, 1]}
    assert keep_largest(series, 9, "rest") == {"b": [5, 5], "c": [0, 2], "d": [1, 1], "a": [1, 0]}


def test_the_json_for_the_charts_says_what_each_figure_means() -> None:
    figures = DashboardFigures(
        weeks=[date(2026, 11, 23)],
        changes_by_reason={"production_problem": [2], NO_REASON: [1]},
        changes_by_supplier={"Gazelle": [2], "*other*": [1]},
        warnings_by_status={
            "queued": 1,
            "sending": 2,
            "sent": 3,
            "unread": 4,
            "dead": 5,
            "suppressed": 6,
        },
        warnings_shown=7,
        customers_opted_out=8,
        promises={"callback": {"open": 1, "kept": 2, "renewed": 0, "broken": 3, "ended": 0}},
        questions=[("ask_changes", 5, 4, 1)],
    )
    data = figures_json(figures, "en")
    assert [s["label"] for s in data["changes_by_reason"]] == [
        "production problem",
        "no reason recorded",
    ]
    assert data["changes_by_supplier"][1]["label"] == "other suppliers"
    statuses = {row["status"]: row["count"] for row in data["warnings"]["by_status"]}
    assert statuses == {"queued": 3, "sent": 3, "unread": 4, "dead": 5, "suppressed": 6}
    assert data["warnings"]["shown"] == {"label": "shown in the conversation", "count": 7}
    assert data["warnings"]["opted_out"]["count"] == 8
    assert data["promises"]["kinds"] == [{"kind": "callback", "label": "answer from a colleague"}]
    broken = next(s for s in data["promises"]["statuses"] if s["status"] == "broken")
    assert broken["counts"] == [3]
    assert data["questions"] == [
        {
            "intent": "ask_changes",
            "label": "What changed in my order?",
            "total": 5,
            "nl": 4,
            "en": 1,
        }
    ]
    assert figures_json(figures, "nl")["warnings"]["shown"]["label"] == "getoond in het gesprek"
