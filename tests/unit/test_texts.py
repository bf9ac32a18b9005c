"""The text files shop staff may edit: the shipped ones load, broken ones fail clearly."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import PROJECT_ROOT
from bot.texts import LANGUAGES, REQUIRED_REASON_CODES, Catalog, TextsError, load_catalog
from bot.texts.catalog import placeholders

REASONS_FILE = PROJECT_ROOT / "bot" / "texts" / "reasons.yml"
MESSAGES_FILE = PROJECT_ROOT / "bot" / "texts" / "messages.yml"


def shipped(path: Path, top_key: str) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return copy.deepcopy(yaml.safe_load(handle)[top_key])


@pytest.fixture
def reasons() -> dict[str, Any]:
    """The shipped reasons, to break one thing in."""
    return shipped(REASONS_FILE, "reasons")


@pytest.fixture
def messages() -> dict[str, Any]:
    """The shipped messages, to break one thing in."""
    return shipped(MESSAGES_FILE, "messages")


def write(tmp_path: Path, name: str, top_key: str, content: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({top_key: content}, allow_unicode=True), encoding="utf-8")
    return path


def load_with(
    tmp_path: Path, reasons: dict[str, Any] | None = None, messages: dict[str, Any] | None = None
) -> Catalog:
    reasons_path = write(tmp_path, "reasons.yml", "reasons", reasons) if reasons else REASONS_FILE
    messages_path = (
        write(tmp_path, "messages.yml", "messages", messages) if messages else MESSAGES_FILE
    )
    return load_catalog(reasons_path, messages_path)


# --- the shipped files ---------------------------------------------------------


def test_shipped_catalog_loads(catalog: Catalog) -> None:
    assert catalog.message("thank", "nl") == "Graag gedaan!"
    assert catalog.message("thank", "en") == "You're welcome!"


@pytest.mark.parametrize("code", REQUIRED_REASON_CODES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_required_reason_has_why_and_next_in_both_languages(
    catalog: Catalog, code: str, language: str
) -> None:
    for part in ("why", "next"):
        text = catalog.reason(
            code,
            part,
            language,
            party="Gazelle",
            product="Gazelle Ultimate C380",
            old_date="woensdag 3 december",
            new_date="woensdag 17 december",
        )
        assert text.strip()
        assert "{" not in text and "}" not in text


def test_every_shipped_message_has_the_same_placeholders_in_both_languages(
    catalog: Catalog,
) -> None:
    for key, by_language in catalog.messages.items():
        assert placeholders(by_language["nl"]) == placeholders(by_language["en"]), key


def test_message_fills_placeholders(catalog: Catalog) -> None:
    assert (
        catalog.message("order_not_on_account", "en", order_id=20001)
        == "Order 20001 isn't on your account. Please check the number in your confirmation email."
    )


def test_has_reason_knows_only_catalogued_codes(catalog: Catalog) -> None:
    assert catalog.has_reason("production_problem")
    assert not catalog.has_reason("weather")
    assert not catalog.has_reason("")
    assert not catalog.has_reason(None)


# --- broken files ------------------------------------------------------------


def test_a_reason_without_a_language_is_an_error(tmp_path: Path, reasons: dict) -> None:
    del reasons["carrier_delay"]["en"]
    with pytest.raises(TextsError, match=r"reason 'carrier_delay' has no 'en' text"):
        load_with(tmp_path, reasons=reasons)


def test_a_message_without_a_language_is_an_error(tmp_path: Path, messages: dict) -> None:
    del messages["verify_ok"]["nl"]
    with pytest.raises(TextsError, match=r"message 'verify_ok' has no 'nl' text"):
        load_with(tmp_path, messages=messages)


def test_a_missing_reason_code_is_an_error(tmp_path: Path, reasons: dict) -> None:
    del reasons["customs_delay"]
    with pytest.raises(TextsError, match=r"reason codes missing: customs_delay") as raised:
        load_with(tmp_path, reasons=reasons)
    assert "reasons.yml" in str(raised.value)


def test_a_reason_lacking_next_is_an_error(tmp_path: Path, reasons: dict) -> None:
    del reasons["payment_pending"]["nl"]["next"]
    with pytest.raises(TextsError, match=r"reason 'payment_pending' \(nl\) lacks 'next'"):
        load_with(tmp_path, reasons=reasons)


def test_an_empty_reason_text_is_an_error(tmp_path: Path, reasons: dict) -> None:
    reasons["missed_delivery"]["en"]["why"] = "   "
    with pytest.raises(TextsError, match=r"reason 'missed_delivery' \(en\) lacks 'why'"):
        load_with(tmp_path, reasons=reasons)


def test_an_unknown_placeholder_in_a_reason_is_an_error(tmp_path: Path, reasons: dict) -> None:
    reasons["carrier_delay"]["nl"]["next"] = "Bel {party} op {supplier_phone}."
    with pytest.raises(TextsError) as raised:
        load_with(tmp_path, reasons=reasons)
    message = str(raised.value)
    assert "carrier_delay" in message
    assert "supplier_phone" in message
    assert "(nl, next)" in message
    assert "allowed: new_date, old_date, party, product" in message


def test_an_unbalanced_brace_in_a_reason_is_an_error(tmp_path: Path, reasons: dict) -> None:
    reasons["supplier_delay"]["en"]["why"] = "{party is delivering later."
    with pytest.raises(TextsError, match=r"cannot read placeholders"):
        load_with(tmp_path, reasons=reasons)


def test_message_placeholders_that_differ_per_language_are_an_error(
    tmp_path: Path, messages: dict
) -> None:
    messages["tracking_link"]["en"] = "Your {order} is on its way. Track it here: {url}"
    with pytest.raises(TextsError) as raised:
        load_with(tmp_path, messages=messages)
    assert "tracking_link" in str(raised.value)


def test_a_file_that_is_not_yaml_is_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "reasons.yml"
    broken.write_text("reasons:\n  supplier_delay: [unclosed\n    nl: {why", encoding="utf-8")
    with pytest.raises(TextsError, match=r"not valid YAML") as raised:
        load_catalog(broken, MESSAGES_FILE)
    assert str(broken) in str(raised.value)


@pytest.mark.parametrize("content", ["just a sentence\n", "- a\n- list\n", "reasons: []\n", ""])
def test_yaml_without_a_reasons_mapping_is_an_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "reasons.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TextsError, match=r"expected a mapping under 'reasons:'"):
        load_catalog(path, MESSAGES_FILE)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "messages.yml"
    with pytest.raises(TextsError, match=r"file not found") as raised:
        load_catalog(REASONS_FILE, missing)
    assert str(missing) in str(raised.value)


def test_a_binary_file_is_a_texts_error_naming_the_file(tmp_path: Path) -> None:
    binary = tmp_path / "reasons.yml"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00\x14 spreadsheet saved as yml \x80\x81")
    with pytest.raises(TextsError) as raised:
        load_catalog(binary, MESSAGES_FILE)
    assert str(binary) in str(raised.value)


def test_an_unknown_placeholder_in_a_message_is_an_error(tmp_path: Path, messages: dict) -> None:
    messages["error_order_system_unavailable"] = {
        "nl": "Het ordersysteem is niet bereikbaar; bel {supplier_phone}.",
        "en": "The order system is unreachable; call {supplier_phone}.",
    }
    with pytest.raises(TextsError) as raised:
        load_with(tmp_path, messages=messages)
    message = str(raised.value)
    assert "message 'error_order_system_unavailable' (nl)" in message
    assert "supplier_phone" in message


def test_a_placeholder_of_another_message_is_an_error(tmp_path: Path, messages: dict) -> None:
    messages["verify_ok"]["en"] = "Thanks, I found order {order_id}."
    with pytest.raises(TextsError, match=r"message 'verify_ok' \(en\) uses unknown.*order_id"):
        load_with(tmp_path, messages=messages)


def test_a_message_the_assistant_needs_missing_is_an_error(tmp_path: Path, messages: dict) -> None:
    del messages["error_order_system_unavailable"]
    with pytest.raises(TextsError, match=r"messages missing: error_order_system_unavailable"):
        load_with(tmp_path, messages=messages)


def test_an_unknown_message_key_is_an_error(tmp_path: Path, messages: dict) -> None:
    messages["greet_vip"] = {"nl": "Welkom terug!", "en": "Welcome back!"}
    with pytest.raises(TextsError, match=r"unknown message key\(s\): greet_vip"):
        load_with(tmp_path, messages=messages)


def test_shop_values_fill_shop_and_contact_in_any_message(tmp_path: Path, messages: dict) -> None:
    messages["thank"] = {
        "nl": "Graag gedaan, namens {shop}! {contact}",
        "en": "You're welcome, {contact}. {shop}",
    }
    catalog = load_catalog(
        REASONS_FILE,
        write(tmp_path, "messages.yml", "messages", messages),
        {"shop": "Fietsen & Meer", "contact": "service@example.nl"},
    )
    assert (
        catalog.message("thank", "nl") == "Graag gedaan, namens Fietsen & Meer! service@example.nl"
    )
    assert catalog.message("thank", "en") == "You're welcome, service@example.nl. Fietsen & Meer"
    assert "Fietsen & Meer" in catalog.message("greet", "nl")
