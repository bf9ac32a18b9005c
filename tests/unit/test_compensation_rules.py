"""Compensation rules: which offer an order earns, checks of the file, no upsell."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.compensation.ledger import Offered
from bot.compensation.present import OfferLine, offer_lines
from bot.compensation.rules import (
    CompensationRulesError,
    Policy,
    UpsellError,
    check_no_upsell,
    earned,
    load_policy,
)
from bot.deadlines.service import Deadline
from bot.proactive.compose import compose_warning
from bot.settings import PROJECT_ROOT
from bot.texts import Catalog
from tests.fakes import date_moved, make_line, make_order

TODAY = date(2026, 11, 25)
RULES = PROJECT_ROOT / "bot" / "texts" / "compensation.yml"
TABLET = make_line(id=2, product_name="Tablet 10", sku="TW-TAB10", supplier_name="TabletWereld")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(RULES)


def delayed(days: int, supplier_line=None, status: str = "changed", **fields):  # type: ignore[no-untyped-def]
    first = TODAY + timedelta(days=3)
    return make_order(
        status=status,
        promised_date=first + timedelta(days=days),
        original_promised_date=first,
        lines=[supplier_line] if supplier_line else None,
        events=[date_moved(41, first, first + timedelta(days=days))],
        **fields,
    )


def test_a_bike_seven_days_late_earns_a_maintenance_service(policy: Policy) -> None:
    found = earned(policy, delayed(7), [])
    assert [(e.rule.code, e.change_key, e.event_id) for e in found] == [
        ("maintenance_voucher", "order", 41)
    ]


def test_six_days_late_earns_nothing(policy: Policy) -> None:
    assert earned(policy, delayed(6), []) == []


def test_other_products_get_the_voucher_of_the_same_group_not_both(policy: Policy) -> None:
    assert [e.rule.code for e in earned(policy, delayed(11, TABLET), [])] == ["delay_voucher"]


def test_a_broken_promise_earns_free_shipping_once_per_order(policy: Policy) -> None:
    found = earned(policy, delayed(0), [7, 9])
    assert [(e.rule.code, e.change_key, e.promise_id) for e in found] == [
        ("free_shipping", "order", 7)
    ]


def test_a_cancelled_order_earns_nothing_in_kind(policy: Policy) -> None:
    assert earned(policy, delayed(14, status="cancelled"), [3]) == []


def test_the_shipped_file_has_a_cap_and_both_languages(policy: Policy) -> None:
    assert policy.cap_per_order_cents > 0
    for rule in policy.rules:
        assert rule.text("offer", "nl", "€ 1,00") and rule.text("offer", "en", "€1.00")


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "compensation.yml"
    path.write_text(body, encoding="utf-8")
    return path


RULE = """
compensation:
  cap_per_order_cents: 1000
  rules:
    gift:
      offer: voucher
      value_cents: 500
      when: {{{when}}}
      nl: {{offer: "{nl}", accept: "Ja", accepted: "Goed"}}
      en: {{offer: "A gift of {{value}}", accept: "Yes", accepted: "Done"}}
"""


@pytest.mark.parametrize(
    ("when", "nl", "problem"),
    [
        ("delay_days_at_least: 7", "Bekijk ook onze nieuwe fietstassen!", "promotes"),
        ("delay_days_at_least: 7", "Met 20% korting op een nieuwe helm", "promotes"),
        ("weather: rain", "Een cadeau", "unknown condition"),
        ("suppliers: [Gazelle]", "Een cadeau", "needs delay_days_at_least"),
        ("delay_days_at_least: 7", "Een cadeau van {amount}", "only {value}"),
    ],
)
def test_a_bad_rules_file_is_a_clear_error(
    tmp_path: Path, when: str, nl: str, problem: str
) -> None:
    path = _write(tmp_path, RULE.format(when=when, nl=nl))
    with pytest.raises(CompensationRulesError, match=problem):
        load_policy(path)


def test_a_good_rules_file_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, RULE.format(when="promise_broken: true", nl="Een cadeau van {value}"))
    assert load_policy(path).rule("gift") is not None


def test_no_offer_beside_a_promotion() -> None:
    check_no_upsell(["Sorry voor de vertraging.", "Je krijgt een gratis onderhoudsbeurt."])
    with pytest.raises(UpsellError):
        check_no_upsell(["Je krijgt een gratis onderhoudsbeurt.", "Bekijk ook onze helmen!"])


def test_a_warning_carries_the_offer_and_its_button(policy: Policy, catalog: Catalog) -> None:
    order = delayed(7)
    lines = offer_lines(policy, [Offered(12, order.id, "maintenance_voucher", 4500, "EUR")], "nl")
    message = compose_warning("change", [order], [41], catalog, "nl", TODAY, offers=lines)
    said = "\n".join(message.texts)
    assert "gratis onderhoudsbeurt" in said and "45,00" in said
    assert message.buttons[0].payload.startswith("/keep_order")  # the choices first
    assert message.buttons[-1].payload == '/accept_compensation{"compensation_id": "12"}'
    assert message.texts[-1] == catalog.message("warning_choices", "nl")
    check_no_upsell(message.texts)


def test_an_offer_beside_a_promotion_is_left_out(catalog: Catalog) -> None:
    order = delayed(7)
    promo = OfferLine(3, "Bestel nu een tweede fiets met korting op de helm", "Ja")
    message = compose_warning("change", [order], [41], catalog, "nl", TODAY, offers=[promo])
    assert promo.text not in message.texts
    assert all(not b.payload.startswith("/accept_compensation") for b in message.buttons)


def test_a_change_past_the_deadline_says_so(catalog: Catalog) -> None:
    order = delayed(7)  # now due TODAY + 10
    deadline = Deadline(
        order.id, order.customer_id, TODAY + timedelta(days=3), "bruiloft", "zaterdag"
    )
    for language, words in (("nl", "voor je bruiloft"), ("en", "for your bruiloft")):
        message = compose_warning(
            "change", [order], [41], catalog, language, TODAY, deadlines={order.id: deadline}
        )
        assert words in message.texts[0]
    in_time = Deadline(order.id, order.customer_id, TODAY + timedelta(days=20), None, "kerst")
    message = compose_warning(
        "change", [order], [41], catalog, "nl", TODAY, deadlines={order.id: in_time}
    )
    assert "uiterlijk" not in message.texts[0]


def test_never_twice_for_the_same_change_and_never_beyond_the_cap(policy: Policy) -> None:
    from bot.compensation.ledger import Given, to_offer

    late_and_broken = earned(policy, delayed(11, TABLET), [5])
    assert [e.rule.code for e in late_and_broken] == ["delay_voucher", "free_shipping"]
    assert to_offer(policy, late_and_broken, []) == late_and_broken
    # Offered before: the same rule for the same change is not offered again.
    before = [Given("delay_voucher", "order", 1000, "accepted")]
    assert [e.rule.code for e in to_offer(policy, late_and_broken, before)] == ["free_shipping"]
    # Nor by another rule of its group (the bike's service stands for the voucher).
    sibling = [Given("maintenance_voucher", "order", 4500, "offered")]
    assert [e.rule.code for e in to_offer(policy, late_and_broken, sibling)] == ["free_shipping"]
    # The cap: 6000 per order; 5500 given leaves no room for 695.
    full = [Given("maintenance_voucher", "order", 4500, "offered")] + [
        Given("other", "event:1", 1000, "accepted")
    ]
    assert to_offer(policy, late_and_broken[1:], full) == []
    capped = Policy(rules=policy.rules, cap_per_order_cents=1500)
    assert [e.rule.code for e in to_offer(capped, late_and_broken, [])] == ["delay_voucher"]
