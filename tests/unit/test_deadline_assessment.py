"""A deadline against the expected date, the express cut-off, and what the shop offers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.deadlines.service import ShopOptions, assess, express_plan
from bot.proactive.compose import compose_warning
from bot.texts import Catalog
from tests.fakes import make_order

AMS = ZoneInfo("Europe/Amsterdam")
WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=AMS)
OPTIONS = ShopOptions(time(17, 0), 1, "Utrecht, Oudegracht 101", "Europe/Amsterdam")
SATURDAY = date(2026, 11, 28)


def test_express_chosen_before_the_cut_off_leaves_today() -> None:
    plan = express_plan(WEDNESDAY, OPTIONS)
    assert plan.cutoff == datetime(2026, 11, 25, 17, 0, tzinfo=AMS)
    assert plan.arrival == date(2026, 11, 26)


def test_after_the_cut_off_it_leaves_tomorrow() -> None:
    plan = express_plan(WEDNESDAY.replace(hour=17, minute=1), OPTIONS)
    assert plan.cutoff.date() == date(2026, 11, 26) and plan.arrival == date(2026, 11, 27)


def test_no_dispatch_or_delivery_on_sunday() -> None:
    saturday_evening = datetime(2026, 11, 28, 18, 0, tzinfo=AMS)
    plan = express_plan(saturday_evening, OPTIONS)
    assert plan.cutoff.date() == date(2026, 11, 30) and plan.arrival == date(2026, 12, 1)
    plan = express_plan(datetime(2026, 11, 28, 9, 0, tzinfo=AMS), OPTIONS)
    assert plan.arrival == date(2026, 11, 30)


@pytest.mark.parametrize(
    ("expected", "status"),
    [
        (date(2026, 11, 27), "on_time"),
        (SATURDAY, "tight"),
        (date(2026, 12, 5), "late"),
        (None, "unknown"),
    ],
)
def test_the_expected_date_against_the_deadline(expected: date | None, status: str) -> None:
    order = make_order(promised_date=expected)
    assessment = assess(order, SATURDAY, WEDNESDAY, OPTIONS)
    assert assessment.status == status
    assert assessment.at_risk == (status != "on_time")


def test_a_late_delivery_gets_express_store_and_an_alternative() -> None:
    order = make_order(status="changed", promised_date=date(2026, 12, 5))
    assessment = assess(order, SATURDAY, WEDNESDAY, OPTIONS)
    assert assessment.express is not None and assessment.express.arrival <= SATURDAY
    assert assessment.store_pickup == "Utrecht, Oudegracht 101"
    assert assessment.alternative


def test_a_shipped_parcel_can_be_sent_again_by_express_but_not_replaced() -> None:
    order = make_order(status="shipped", promised_date=date(2026, 12, 5))
    assessment = assess(order, SATURDAY, WEDNESDAY, OPTIONS)
    assert assessment.express is not None and not assessment.alternative


def test_a_pickup_order_gets_no_express_and_no_store_without_one() -> None:
    order = make_order(status="changed", fulfilment="pickup", promised_date=date(2026, 12, 5))
    no_store = ShopOptions(time(17, 0), 1, "", "Europe/Amsterdam")
    assessment = assess(order, SATURDAY, WEDNESDAY, no_store)
    assert assessment.express is None and assessment.store_pickup is None
    assert assessment.alternative


def test_express_too_slow_for_the_deadline_is_not_offered() -> None:
    order = make_order(status="changed", promised_date=date(2026, 12, 5))
    tomorrow = WEDNESDAY.date() + timedelta(days=1)
    evening = WEDNESDAY.replace(hour=20)
    assert assess(order, tomorrow, evening, OPTIONS).express is None


def test_the_reminder_before_the_cut_off_has_a_button_for_express(catalog: Catalog) -> None:
    from bot.deadlines.service import Deadline

    order = make_order(status="changed", promised_date=date(2026, 12, 5))
    deadline = Deadline(order.id, order.customer_id, SATURDAY, "bruiloft", "zaterdag")
    cutoff = datetime(2026, 11, 25, 17, 0)
    for language in ("nl", "en"):
        message = compose_warning(
            "cutoff_reminder",
            [order],
            [],
            catalog,
            language,
            WEDNESDAY.date(),
            promised_at=cutoff,
            deadlines={order.id: deadline},
        )
        assert "17:00" in message.texts[0]
        assert message.buttons[0].payload == '/choose_express{"order_number": "10001"}'
    gone = compose_warning(
        "cutoff_reminder", [order], [], catalog, "nl", WEDNESDAY.date(), promised_at=cutoff
    )
    assert gone.texts == []


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize(
    ("expected", "words"),
    [
        (date(2026, 11, 27), {"nl": "dat gaat goed", "en": "so that works"}),
        (SATURDAY, {"nl": "krap", "en": "tight"}),
        (date(2026, 12, 5), {"nl": "te laat", "en": "too late"}),
        (None, {"nl": "weten nog niet", "en": "don't know yet"}),
    ],
)
def test_each_verdict_reads_plainly_in_both_languages(
    catalog: Catalog, language: str, expected: date | None, words: dict[str, str]
) -> None:
    from actions.deadlines import _options, _verdict
    from bot.deadlines.parse import ParsedDeadline
    from bot.explain import Explainer

    order = make_order(status="changed", promised_date=expected)
    assessment = assess(order, SATURDAY, WEDNESDAY, OPTIONS)
    explainer = Explainer(catalog, language, WEDNESDAY.date())
    parsed = ParsedDeadline(SATURDAY, "zaterdag", False, "bruiloft")
    verdict = _verdict(explainer, order, assessment, parsed)
    assert words[language] in verdict and "bruiloft" in verdict
    if assessment.at_risk:
        lines, buttons = _options(explainer, order, assessment)
        assert len(lines) == len(buttons) + 1  # a heading, then one line per button
        assert buttons[-1]["payload"] == "/request_human"
