"""Compensation rules (bot/texts/compensation.yml) and which offers an order earns.

Plain Python: `earned(policy, order, broken_promise_ids)` says which rules
apply to which change; `bot.compensation.ledger` records them, once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.orders.model import Order
from bot.texts.catalog import LANGUAGES, placeholders

OFFER_KINDS = ("service", "voucher", "free_shipping", "refund")
CONDITIONS = ("delay_days_at_least", "promise_broken", "suppliers", "fulfilment")
TEXT_PARTS = ("offer", "accept", "accepted")
TEXT_PLACEHOLDERS = frozenset({"value"})

# A message that makes up for something never sells something: no product
# promotion in the same message. Words that mark a promotion, in nl and en.
PROMOTION = re.compile(
    r"\b(aanbieding|actie|korting op|% korting|bekijk ook|nieuw in ons assortiment|"
    r"misschien ook leuk|upgrade naar|bestel nu|sale|special offer|% off|discount on|"
    r"you might also like|check out our|new in our range|upgrade to|order now)\b",
    re.IGNORECASE,
)


class CompensationRulesError(ValueError):
    """compensation.yml is missing something or promises what it may not."""


class UpsellError(ValueError):
    """A compensation was about to share a message with a promotion."""


def is_promotion(text: str) -> bool:
    return PROMOTION.search(text) is not None


def check_no_upsell(texts: list[str]) -> None:
    """Raise UpsellError when a message with an offer also promotes a product."""
    promoting = [text for text in texts if is_promotion(text)]
    if promoting:
        raise UpsellError(f"{len(promoting)} promotional text(s) beside a compensation")


@dataclass(frozen=True)
class Rule:
    code: str
    offer: str
    value_cents: int
    texts: Mapping[str, Mapping[str, str]]  # language -> offer / accept / accepted
    delay_days_at_least: int | None = None
    promise_broken: bool = False
    suppliers: frozenset[str] = frozenset()
    fulfilment: str | None = None
    once_per_order: bool = False
    group: str | None = None

    def text(self, part: str, language: str, value: str) -> str:
        return self.texts[language][part].format(value=value)


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    cap_per_order_cents: int

    def rule(self, code: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.code == code), None)


@dataclass(frozen=True)
class Earned:
    """A rule that applies to one change of an order, before it is recorded."""

    rule: Rule
    change_key: str  # "event:812", "promise:45", or "order" (once per order)
    event_id: int | None = None
    promise_id: int | None = None


def delay_days(order: Order) -> int:
    if order.promised_date is None or order.original_promised_date is None:
        return 0
    return (order.promised_date - order.original_promised_date).days


def _latest_date_move(order: Order) -> int | None:
    moves = [event.id for event in order.events if event.field == "promised_date"]
    return max(moves) if moves else None


def earned(policy: Policy, order: Order, broken_promise_ids: list[int]) -> list[Earned]:
    """Which rules apply to which change of this order, in the file's order; one
    per group and change. The cap and what was offered before are the ledger's."""
    if order.status == "cancelled":
        return []  # a cancelled order is refunded in full: nothing to make up in kind
    found: list[Earned] = []
    taken_groups: set[tuple[str, str]] = set()
    suppliers = {name.lower() for name in order.suppliers}
    for rule in policy.rules:
        if rule.suppliers and not suppliers & {name.lower() for name in rule.suppliers}:
            continue
        if rule.fulfilment and rule.fulfilment != order.fulfilment:
            continue
        changes: list[tuple[str, int | None, int | None]] = []
        if rule.delay_days_at_least is not None:
            if delay_days(order) < rule.delay_days_at_least:
                continue
            event_id = _latest_date_move(order)
            changes.append((f"event:{event_id}" if event_id else "order", event_id, None))
        if rule.promise_broken:
            if not broken_promise_ids:
                continue
            changes = [(f"promise:{pid}", None, pid) for pid in sorted(broken_promise_ids)]
        for key, event_id, promise_id in changes[:1] if rule.once_per_order else changes:
            group_key = (rule.group or rule.code, "order" if rule.once_per_order else key)
            if rule.group and group_key in taken_groups:
                continue
            taken_groups.add(group_key)
            found.append(
                Earned(rule, "order" if rule.once_per_order else key, event_id, promise_id)
            )
    return found


def load_policy(path: Path) -> Policy:
    try:
        with path.open(encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except FileNotFoundError as error:
        raise CompensationRulesError(f"{path}: file not found") from error
    except yaml.YAMLError as error:
        raise CompensationRulesError(f"{path}: not valid YAML: {error}") from error
    body = document.get("compensation") if isinstance(document, dict) else None
    if not isinstance(body, dict) or not isinstance(body.get("rules"), dict):
        raise CompensationRulesError(f"{path}: expected 'compensation:' with 'rules:'")
    cap = body.get("cap_per_order_cents")
    if not isinstance(cap, int) or cap < 0:
        raise CompensationRulesError(f"{path}: cap_per_order_cents must be a whole number >= 0")
    rules = tuple(_rule(code, raw, str(path)) for code, raw in body["rules"].items())
    return Policy(rules=rules, cap_per_order_cents=cap)


def _rule(code: str, raw: Any, source: str) -> Rule:
    where = f"{source}: rule '{code}'"
    if not isinstance(raw, dict):
        raise CompensationRulesError(f"{where} must be a mapping")
    offer = raw.get("offer")
    if offer not in OFFER_KINDS:
        raise CompensationRulesError(f"{where}: offer must be one of {', '.join(OFFER_KINDS)}")
    value = raw.get("value_cents")
    if not isinstance(value, int) or value <= 0:
        raise CompensationRulesError(f"{where}: value_cents must be a whole number > 0")
    when = raw.get("when") or {}
    if not isinstance(when, dict) or not when:
        raise CompensationRulesError(f"{where}: 'when:' needs at least one condition")
    unknown = set(when) - set(CONDITIONS)
    if unknown:
        raise CompensationRulesError(
            f"{where}: unknown condition(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(CONDITIONS)}"
        )
    if not ({"delay_days_at_least", "promise_broken"} & set(when)):
        raise CompensationRulesError(f"{where}: needs delay_days_at_least or promise_broken")
    texts: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        by_part = raw.get(language)
        if not isinstance(by_part, dict):
            raise CompensationRulesError(f"{where} has no '{language}' texts")
        for part in TEXT_PARTS:
            template = by_part.get(part)
            if not isinstance(template, str) or not template.strip():
                raise CompensationRulesError(f"{where} ({language}) lacks '{part}'")
            if placeholders(template) - TEXT_PLACEHOLDERS:
                raise CompensationRulesError(
                    f"{where} ({language}, {part}): only {{value}} may be filled in"
                )
            if is_promotion(template):
                raise CompensationRulesError(
                    f"{where} ({language}, {part}) promotes something: making up for a "
                    "setback never comes with an upsell"
                )
        texts[language] = {part: by_part[part] for part in TEXT_PARTS}
    days = when.get("delay_days_at_least")
    if days is not None and (not isinstance(days, int) or days < 1):
        raise CompensationRulesError(f"{where}: delay_days_at_least must be a whole number >= 1")
    fulfilment = when.get("fulfilment")
    if fulfilment not in (None, "delivery", "pickup"):
        raise CompensationRulesError(f"{where}: fulfilment must be delivery or pickup")
    return Rule(
        code=code,
        offer=offer,
        value_cents=value,
        texts=texts,
        delay_days_at_least=days,
        promise_broken=bool(when.get("promise_broken")),
        suppliers=frozenset(str(s) for s in when.get("suppliers") or ()),
        fulfilment=fulfilment,
        once_per_order=bool(raw.get("once_per_order")),
        group=raw.get("group"),
    )
