"""Loading and checking the text files shop staff may edit.

A missing language, a missing reason code or a placeholder the assistant does
not fill is a clear error at start-up, never a broken message to a customer.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("nl", "en")
REQUIRED_REASON_CODES = (
    "supplier_delay",
    "supplier_out_of_stock",
    "production_problem",
    "warehouse_delay",
    "carrier_delay",
    "customs_delay",
    "address_problem",
    "payment_pending",
    "item_replaced",
    "split_shipment",
    "cancelled_by_shop",
    "changed_by_customer",
    "damaged_in_transit",
    "missed_delivery",
)
REASON_PARTS = ("why", "next")
REASON_PLACEHOLDERS = frozenset({"party", "product", "old_date", "new_date"})

# Every message the assistant says, with the placeholders it fills in. Any
# message may also use the shop-wide values in SHOP_PLACEHOLDERS.
SHOP_PLACEHOLDERS = frozenset({"shop", "contact"})


def _keys(names: str, *placeholders: str) -> dict[str, frozenset[str]]:
    return {name: frozenset(placeholders) for name in names.split()}


MESSAGE_PLACEHOLDERS: dict[str, frozenset[str]] = {
    **_keys(
        "greet goodbye thank acknowledge bot_challenge fallback out_of_scope request_human"
        " error_order_system_unavailable verify_intro verify_ask_order_number"
        " verify_ask_postcode verify_bad_order_number verify_bad_postcode verify_mismatch"
        " verify_too_many verify_ok follow_up_declined order_none_found reason_not_recorded"
        " reason_offer_to_find_out options_setback state_cancelled date_unknown change_cancelled"
        " change_progress_processing change_progress_shipped change_progress_ready_for_pickup"
        " change_progress_delivered change_progress_picked_up party_supplier party_warehouse"
        " change_on_hold change_shipment_problem change_shipment_returned"
        " change_shipment_cancelled change_progress_resumed change_progress_awaiting_pickup"
        " change_progress_in_transit"
        " party_carrier party_shop party_customer party_unknown status_label_placed"
        " status_label_processing status_label_changed status_label_shipped"
        " status_label_ready_for_pickup status_label_delivered status_label_picked_up"
        " status_label_cancelled choose_by_number"
    ),
    **_keys("greet_known", "name"),
    **_keys("handoff_sorry handoff_not_understood upset_apology"),
    "handoff_now": frozenset({"time"}),
    "handoff_later": frozenset({"when", "time"}),
    "staff_reply": frozenset({"name", "text"}),
    "assistant_back": frozenset({"name"}),
    **_keys("message_too_long", "limit"),
    **_keys("order_not_on_account", "order_id"),
    **_keys("follow_up_recorded", "order_id", "when"),
    **_keys("date_at_time", "date", "time"),
    **_keys("order_title", "order_id", "products"),
    **_keys("orders_heading", "count"),
    **_keys("orders_line", "order_id", "products", "status", "state"),
    **_keys(
        "changes_sorry changes_news changes_none changes_none_since_told status_placed"
        " status_processing status_shipped status_ready_for_pickup status_delivered"
        " status_picked_up status_cancelled late_sorry late_not_late tracking_pickup"
        " tracking_not_shipped",
        "order",
    ),
    **_keys("change_date_moved_delivery change_date_moved_pickup", "old_date", "new_date"),
    **_keys("change_total change_refund", "old", "new"),
    **_keys(
        "change_out_of_stock change_back_in_stock change_line_cancelled change_item_replaced"
        " change_quantity change_split_shipment change_address change_other",
        "product",
        "old",
        "new",
    ),
    **_keys("reason_recorded", "party", "text"),
    **_keys("reason_clause", "party"),
    **_keys("status_delivered_on status_picked_up_on", "order", "date"),
    **_keys("state_delivered state_picked_up expected_was", "date"),
    **_keys("expected_delivery expected_pickup", "date", "location"),
    **_keys("pickup_where", "location"),
    **_keys("shop_info_delivery", "days"),
    **_keys("shop_info_returns", "days"),
    "shop_info_service_hours": frozenset({"days", "start", "end"}),
    **_keys("shop_info_store", "location"),
    **_keys("shop_info_your_order shop_info_unknown"),
    **_keys("tracking_link", "order", "carrier", "url"),
    **_keys("tracking_no_link", "order", "carrier"),
    **_keys("warning_change", "order"),
    **_keys(
        "warning_promise_at_risk warning_promise_broken warning_callback_missed", "order", "date"
    ),
    **_keys(
        "warning_choices choice_keep_order choice_cancel_order choice_choose_alternative"
        " choice_request_human unread_warnings opt_out_ok opt_in_ok opt_in_confirm opt_in_already"
        " opt_in_declined opt_out_confirm opt_out_declined which_order identity_needed"
        " button_yes button_no"
    ),
    **_keys(
        "keep_order_ok keep_posted_ok cancel_confirm cancel_done cancel_too_late cancel_kept",
        "order",
    ),
    **_keys("alternative_ok", "order", "when"),
    # Deadlines: "ik heb hem zaterdag nodig voor mijn bruiloft".
    **_keys(
        "deadline_ask_date deadline_remembered deadline_options deadline_option_alternative"
        " deadline_option_person choice_express choice_store_pickup compensation_not_found"
    ),
    **_keys("deadline_purpose", "purpose"),
    **_keys("deadline_past", "date"),
    **_keys(
        "deadline_on_time deadline_tight deadline_late", "order", "deadline", "expected", "purpose"
    ),
    **_keys("deadline_unknown", "order", "deadline", "purpose"),
    **_keys("deadline_done", "order"),
    **_keys("deadline_option_express", "time", "date"),
    **_keys("deadline_option_store", "location"),
    **_keys("deadline_reminder_set", "time"),
    **_keys("express_ok", "order", "when"),
    **_keys("store_pickup_ok", "order", "location", "when"),
    **_keys("warning_deadline_threatened", "deadline", "purpose"),
    **_keys("warning_cutoff_reminder", "order", "date", "time"),
}


class TextsError(ValueError):
    """A text file is missing something or uses an unknown placeholder."""


def placeholders(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as error:
        raise TextsError(f"cannot read placeholders in {template!r}: {error}") from error


@dataclass(frozen=True)
class Catalog:
    reasons: Mapping[str, Mapping[str, Mapping[str, str]]]
    messages: Mapping[str, Mapping[str, str]]
    shop_values: Mapping[str, str] = field(default_factory=dict)  # {shop}, {contact}

    def message(self, key: str, language: str, **values: Any) -> str:
        return self.messages[key][language].format(**{**self.shop_values, **values})

    def has_reason(self, code: str | None) -> bool:
        return bool(code) and code in self.reasons

    def reason(self, code: str, part: str, language: str, **values: Any) -> str:
        return self.reasons[code][language][part].format(**values)


def _load_yaml(path: Path, top_key: str) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except FileNotFoundError as error:
        raise TextsError(f"{path}: file not found") from error
    except UnicodeDecodeError as error:
        raise TextsError(f"{path}: not UTF-8 text") from error
    except yaml.YAMLError as error:
        raise TextsError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get(top_key), dict):
        raise TextsError(f"{path}: expected a mapping under '{top_key}:'")
    return document[top_key]


def check_reasons(reasons: Mapping[str, Any], source: str) -> None:
    missing_codes = [code for code in REQUIRED_REASON_CODES if code not in reasons]
    if missing_codes:
        raise TextsError(f"{source}: reason codes missing: {', '.join(missing_codes)}")
    for code, by_language in reasons.items():
        if not isinstance(by_language, dict):
            raise TextsError(f"{source}: reason '{code}' must map languages to texts")
        for language in LANGUAGES:
            texts = by_language.get(language)
            if not isinstance(texts, dict):
                raise TextsError(f"{source}: reason '{code}' has no '{language}' text")
            for part in REASON_PARTS:
                template = texts.get(part)
                if not isinstance(template, str) or not template.strip():
                    raise TextsError(f"{source}: reason '{code}' ({language}) lacks '{part}'")
                unknown = placeholders(template) - REASON_PLACEHOLDERS
                if unknown:
                    raise TextsError(
                        f"{source}: reason '{code}' ({language}, {part}) uses unknown "
                        f"placeholder(s) {', '.join(sorted(unknown))}; allowed: "
                        f"{', '.join(sorted(REASON_PLACEHOLDERS))}"
                    )


def check_messages(messages: Mapping[str, Any], source: str) -> None:
    missing = [key for key in MESSAGE_PLACEHOLDERS if key not in messages]
    if missing:
        raise TextsError(f"{source}: messages missing: {', '.join(missing)}")
    unknown_keys = [key for key in messages if key not in MESSAGE_PLACEHOLDERS]
    if unknown_keys:
        raise TextsError(f"{source}: unknown message key(s): {', '.join(unknown_keys)}")
    for key, by_language in messages.items():
        if not isinstance(by_language, dict):
            raise TextsError(f"{source}: message '{key}' must map languages to texts")
        allowed = MESSAGE_PLACEHOLDERS[key] | SHOP_PLACEHOLDERS
        used: dict[str, set[str]] = {}
        for language in LANGUAGES:
            template = by_language.get(language)
            if not isinstance(template, str) or not template.strip():
                raise TextsError(f"{source}: message '{key}' has no '{language}' text")
            used[language] = placeholders(template)
            unknown = used[language] - allowed
            if unknown:
                raise TextsError(
                    f"{source}: message '{key}' ({language}) uses unknown placeholder(s) "
                    f"{', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}"
                )
        if len({frozenset(names) for names in used.values()}) > 1:
            # A translation that drops a placeholder drops a fact for its readers.
            raise TextsError(
                f"{source}: message '{key}' uses different placeholders per language: "
                + "; ".join(f"{lang} {sorted(names)}" for lang, names in used.items())
            )


def load_catalog(
    reasons_path: Path, messages_path: Path, shop_values: Mapping[str, str] | None = None
) -> Catalog:
    reasons = _load_yaml(reasons_path, "reasons")
    check_reasons(reasons, str(reasons_path))
    messages = _load_yaml(messages_path, "messages")
    check_messages(messages, str(messages_path))
    values = dict(shop_values or {})
    values.setdefault("shop", "")
    values.setdefault("contact", "")
    return Catalog(reasons=reasons, messages=messages, shop_values=values)
