"""Loading and checking the text files shop staff may edit.

A missing language, a missing reason code or a placeholder the assistant does
not fill is a clear error at start-up, never a broken message to a customer.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
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

    def message(self, key: str, language: str, **values: Any) -> str:
        return self.messages[key][language].format(**values)

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
    for key, by_language in messages.items():
        if not isinstance(by_language, dict):
            raise TextsError(f"{source}: message '{key}' must map languages to texts")
        expected: set[str] | None = None
        for language in LANGUAGES:
            template = by_language.get(language)
            if not isinstance(template, str) or not template.strip():
                raise TextsError(f"{source}: message '{key}' has no '{language}' text")
            names = placeholders(template)
            if expected is not None and names != expected:
                raise TextsError(
                    f"{source}: message '{key}' uses different placeholders per language: "
                    f"{sorted(expected)} and {sorted(names)}"
                )
            expected = names


def load_catalog(reasons_path: Path, messages_path: Path) -> Catalog:
    reasons = _load_yaml(reasons_path, "reasons")
    check_reasons(reasons, str(reasons_path))
    messages = _load_yaml(messages_path, "messages")
    check_messages(messages, str(messages_path))
    return Catalog(reasons=reasons, messages=messages)


@lru_cache(maxsize=4)
def cached_catalog(reasons_path: Path, messages_path: Path) -> Catalog:
    """One parsed catalog per process (the files are read at first use)."""
    return load_catalog(reasons_path, messages_path)
