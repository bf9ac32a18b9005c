"""Turning changes into what a customer reads: what changed, why, who, what next."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.changes import changes_in
from bot.dates import spoken_date
from bot.explain import Explainer, Explanation, sentence, with_quote
from bot.orders.model import Order, OrderEvent
from bot.texts import LANGUAGES, REQUIRED_REASON_CODES, Catalog
from tests.fakes import date_moved, make_event, make_line, make_order, status_event

FRAME_TEXT = "Het frame moest opnieuw worden gelakt"
TABLET = make_line(
    id=1, product_name="Tablet 10 inch 64 GB", sku="TW-TAB10-64", supplier_name="TabletWereld"
)


def explain(
    catalog: Catalog, language: str, today: date, *events: OrderEvent, **order_fields: object
) -> tuple[Order, Explanation]:
    order = make_order(events=events, **order_fields)  # type: ignore[arg-type]
    explainer = Explainer(catalog, language, today)
    return order, explainer.explain(order, changes_in(order, list(order.events)))


def why(catalog: Catalog, code: str, language: str, **values: str) -> str:
    return catalog.reason(code, "why", language, **values)


def gazelle_delay(event_id: int, old: date, new: date, text: str | None = FRAME_TEXT) -> OrderEvent:
    return date_moved(
        event_id,
        old,
        new,
        reason_code="production_problem",
        reason_text=text,
        party_type="supplier",
        party_name="Gazelle",
    )


def test_a_date_move_by_gazelle_in_dutch(catalog: Catalog, today: date) -> None:
    old, new = today + timedelta(days=5), today + timedelta(days=19)
    old_date, new_date = spoken_date(old, "nl", today), spoken_date(new, "nl", today)
    _, explanation = explain(catalog, "nl", today, gazelle_delay(1, old, new))
    assert explanation.facts == [
        " ".join(
            [
                catalog.message(
                    "change_date_moved_delivery", "nl", old_date=old_date, new_date=new_date
                ),
                with_quote(why(catalog, "production_problem", "nl", party="Gazelle"), FRAME_TEXT),
            ]
        )
    ]
    [fact] = explanation.facts
    assert "Gazelle" in fact and FRAME_TEXT in fact
    assert old_date in fact and new_date in fact
    assert explanation.next_steps == [
        catalog.reason(
            "production_problem", "next", "nl", party="Gazelle", product="Gazelle Ultimate C380"
        )
    ]
    assert "Gazelle Ultimate C380" in explanation.next_steps[0]
    assert explanation.unexplained_event_id is None


def test_a_date_move_by_gazelle_in_english(catalog: Catalog, today: date) -> None:
    old, new = today + timedelta(days=5), today + timedelta(days=19)
    _, explanation = explain(catalog, "en", today, gazelle_delay(1, old, new))
    [fact] = explanation.facts
    old_date, new_date = spoken_date(old, "en", today), spoken_date(new, "en", today)
    assert fact.startswith(
        catalog.message("change_date_moved_delivery", "en", old_date=old_date, new_date=new_date)
    )
    # Gazelle's own words end the sentence of its reason: one sentence, not two.
    assert with_quote(why(catalog, "production_problem", "en", party="Gazelle"), FRAME_TEXT) in fact
    assert "Gazelle Ultimate C380" in explanation.next_steps[0]


def test_dates_are_spoken_with_weekday_and_the_year_only_for_another_year(
    catalog: Catalog,
) -> None:
    today = date(2025, 11, 20)
    _, explanation = explain(
        catalog, "nl", today, gazelle_delay(1, date(2025, 12, 3), date(2026, 1, 2))
    )
    assert explanation.facts[0].startswith(
        catalog.message(
            "change_date_moved_delivery",
            "nl",
            old_date="woensdag 3 december",
            new_date="vrijdag 2 januari 2026",
        )
    )


def test_a_pickup_date_move_is_told_as_pickup(catalog: Catalog) -> None:
    today = date(2025, 11, 20)
    _, explanation = explain(
        catalog,
        "nl",
        today,
        gazelle_delay(1, date(2025, 12, 3), date(2025, 12, 18)),
        fulfilment="pickup",
    )
    assert explanation.facts[0].startswith(
        catalog.message(
            "change_date_moved_pickup",
            "nl",
            old_date="woensdag 3 december",
            new_date="donderdag 18 december",
        )
    )
    assert catalog.message("change_date_moved_pickup", "nl", old_date="", new_date="") != (
        catalog.message("change_date_moved_delivery", "nl", old_date="", new_date="")
    )


def test_an_unknown_date_is_said_as_not_known_yet(catalog: Catalog, today: date) -> None:
    _, explanation = explain(catalog, "en", today, gazelle_delay(1, today, None))  # type: ignore[arg-type]
    unknown = catalog.message("date_unknown", "en")
    assert (
        catalog.message(
            "change_date_moved_delivery",
            "en",
            old_date=spoken_date(today, "en", today),
            new_date=unknown,
        )
        in explanation.facts[0]
    )


def test_a_change_without_reason_says_it_was_not_recorded(catalog: Catalog, today: date) -> None:
    event = date_moved(4, today, today + timedelta(days=7))
    _, explanation = explain(catalog, "nl", today, event)
    [fact] = explanation.facts
    assert fact.endswith(catalog.message("reason_not_recorded", "nl"))
    assert explanation.unexplained_event_id == 4
    assert explanation.next_steps == []


def test_a_change_without_reason_in_english(catalog: Catalog, today: date) -> None:
    _, explanation = explain(catalog, "en", today, date_moved(4, today, today + timedelta(days=7)))
    assert explanation.facts[0].endswith(catalog.message("reason_not_recorded", "en"))
    assert explanation.unexplained_event_id == 4


def test_an_older_event_without_reason_is_covered_by_a_newer_reason(
    catalog: Catalog, today: date
) -> None:
    _, explanation = explain(
        catalog,
        "nl",
        today,
        date_moved(1, today, today + timedelta(days=3)),
        gazelle_delay(2, today + timedelta(days=3), today + timedelta(days=10)),
    )
    gazelle = why(catalog, "production_problem", "nl", party="Gazelle").rstrip(".")
    assert gazelle in explanation.facts[0]
    assert catalog.message("reason_not_recorded", "nl") not in explanation.facts[0]
    assert explanation.unexplained_event_id is None


def test_a_reason_behind_two_changes_is_told_once(catalog: Catalog, today: date) -> None:
    out_of_stock = dict(
        reason_code="supplier_out_of_stock",
        reason_text="Nieuwe voorraad verwacht in week 50",
        party_type="supplier",
        party_name="TabletWereld",
    )
    _, explanation = explain(
        catalog,
        "nl",
        today,
        make_event(1, field="line_status", old="ok", new="out_of_stock", line_id=1, **out_of_stock),
        date_moved(2, today, today + timedelta(days=14), **out_of_stock),
        lines=(TABLET,),
    )
    text = " ".join(explanation.facts)
    values = dict(party="TabletWereld", product="Tablet 10 inch 64 GB")
    reason = why(catalog, "supplier_out_of_stock", "nl", **values)
    assert "TabletWereld" in reason
    assert len(explanation.facts) == 2
    # The reason says it is out of stock: not also "... is niet op voorraad".
    assert explanation.facts[0].startswith(reason.rstrip("."))
    assert catalog.message("change_out_of_stock", "nl", product="Tablet 10 inch 64 GB") not in text
    assert text.count(reason.rstrip(".")) == 1  # told with the first change
    assert text.count("Nieuwe voorraad verwacht in week 50") == 1
    assert explanation.next_steps == [
        catalog.reason("supplier_out_of_stock", "next", "nl", **values)
    ]


def test_two_different_reasons_on_one_change_are_both_told_newest_first(
    catalog: Catalog, today: date
) -> None:
    _, explanation = explain(
        catalog,
        "en",
        today,
        gazelle_delay(1, today, today + timedelta(days=3), text=None),
        date_moved(
            2,
            today + timedelta(days=3),
            today + timedelta(days=5),
            reason_code="carrier_delay",
            party_type="carrier",
            party_name="PostNL",
        ),
    )
    fact = explanation.facts[0]
    postnl = why(catalog, "carrier_delay", "en", party="PostNL")
    gazelle = why(catalog, "production_problem", "en", party="Gazelle")
    assert postnl in fact and gazelle in fact
    assert fact.index(postnl) < fact.index(gazelle)
    assert len(explanation.next_steps) == 2


@pytest.mark.parametrize("code", [None, "weather"])
def test_a_free_text_reason_without_a_known_code_is_still_shown(
    catalog: Catalog, today: date, code: str | None
) -> None:
    event = date_moved(
        3,
        today,
        today + timedelta(days=2),
        reason_code=code,
        reason_text="Storm bij de haven van Rotterdam",
        party_type="carrier",
    )
    _, explanation = explain(catalog, "nl", today, event)
    carrier = catalog.message("party_carrier", "nl")
    # The carrier's words continue the sentence saying what changed.
    clause = catalog.message("reason_clause", "nl", party=carrier)
    assert explanation.facts[0].endswith(
        f"; {clause}: \u201cStorm bij de haven van Rotterdam\u201d."
    )
    assert explanation.unexplained_event_id is None


@pytest.mark.parametrize(
    ("party_type", "key"),
    [
        ("supplier", "party_supplier"),
        ("warehouse", "party_warehouse"),
        ("carrier", "party_carrier"),
        ("shop", "party_shop"),
        ("customer", "party_customer"),
        (None, "party_unknown"),
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_party_without_a_name_is_told_by_its_type(
    catalog: Catalog, today: date, party_type: str | None, key: str, language: str
) -> None:
    event = make_event(1, field="address", new="Elders 1", reason_text="x", party_type=party_type)
    assert Explainer(catalog, language, today).party(event) == catalog.message(key, language)


def test_a_party_name_wins_over_its_type(catalog: Catalog, today: date) -> None:
    event = make_event(1, reason_text="x", party_type="carrier", party_name="PostNL")
    assert Explainer(catalog, "nl", today).party(event) == "PostNL"


def test_money_changes_are_told_in_euros(catalog: Catalog, today: date) -> None:
    _, dutch = explain(catalog, "nl", today, make_event(1, field="total", old=249900, new=259950))
    _, english = explain(catalog, "en", today, make_event(1, field="refund", new=4995))
    # Babel puts a no-break space between the euro sign and a Dutch amount.
    assert dutch.facts[0].startswith(
        catalog.message("change_total", "nl", old="€\xa02.499,00", new="€\xa02.599,50")
    )
    assert english.facts[0].startswith(catalog.message("change_refund", "en", old="", new="€49.95"))
    assert "€49.95" in english.facts[0]


def test_an_item_replaced_names_both_products(catalog: Catalog, today: date) -> None:
    event = make_event(
        1,
        field="line_product",
        old="Fietshelm Urban M",
        new="Fietshelm Urban L",
        reason_code="item_replaced",
        party_type="shop",
        line_id=1,
    )
    _, explanation = explain(catalog, "en", today, event)
    assert explanation.facts[0].startswith(
        catalog.message(
            "change_item_replaced", "en", old="Fietshelm Urban M", new="Fietshelm Urban L"
        )
    )
    assert "Fietshelm Urban M" in explanation.facts[0]
    assert "Fietshelm Urban L" in explanation.facts[0]


def test_progress_is_told_without_reasons(catalog: Catalog, today: date) -> None:
    _, explanation = explain(catalog, "nl", today, status_event(9, "processing", "shipped"))
    assert explanation == Explanation(
        facts=[catalog.message("change_progress_shipped", "nl")],
        next_steps=[],
        unexplained_event_id=None,
    )


@pytest.mark.parametrize("fulfilment", ["delivery", "pickup"])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", REQUIRED_REASON_CODES)
def test_every_reason_is_told_without_unfilled_placeholders(
    catalog: Catalog, today: date, code: str, language: str, fulfilment: str
) -> None:
    event = date_moved(
        1,
        today + timedelta(days=2),
        today + timedelta(days=9),
        reason_code=code,
        party_type="supplier",
    )
    _, explanation = explain(catalog, language, today, event, fulfilment=fulfilment)
    told = " ".join(explanation.facts + explanation.next_steps)
    assert "{" not in told and "}" not in told
    values = dict(
        party=catalog.message("party_supplier", language),
        product="Gazelle Ultimate C380",
        old_date=spoken_date(today + timedelta(days=2), language, today),
        new_date=spoken_date(today + timedelta(days=9), language, today),
    )
    # A reason starts with a capital, also when it starts with "de leverancier".
    assert sentence(catalog.reason(code, "why", language, **values)) in explanation.facts[0]
    assert explanation.next_steps == [sentence(catalog.reason(code, "next", language, **values))]


# --- bugs ------------------------------------------------------------------------


def test_an_unknown_party_type_falls_back_to_the_shop(catalog: Catalog, today: date) -> None:
    event = date_moved(
        1,
        today,
        today + timedelta(days=4),
        reason_code="customs_delay",
        reason_text="Controle door de douane",
        party_type="customs",
    )
    _, explanation = explain(catalog, "nl", today, event)
    shop = catalog.message("party_unknown", "nl")
    clause = catalog.message("reason_clause", "nl", party=shop)
    assert f"{clause}: \u201cControle door de douane\u201d." in explanation.facts[0]


def test_an_unknown_reason_code_without_text_counts_as_not_recorded(
    catalog: Catalog, today: date
) -> None:
    event = date_moved(6, today, today + timedelta(days=4), reason_code="weather")
    _, explanation = explain(catalog, "nl", today, event)
    assert catalog.message("reason_not_recorded", "nl") in explanation.facts[0]
    assert explanation.unexplained_event_id == 6


def test_a_newest_move_without_reason_is_still_unexplained(catalog: Catalog, today: date) -> None:
    _, explanation = explain(
        catalog,
        "nl",
        today,
        gazelle_delay(1, today, today + timedelta(days=3)),
        date_moved(2, today + timedelta(days=3), today + timedelta(days=10)),
    )
    assert explanation.unexplained_event_id == 2
