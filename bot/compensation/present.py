"""Offers as the customer reads them: a sentence and a button to accept."""

from __future__ import annotations

import json
from dataclasses import dataclass

from babel.numbers import format_currency

from bot.compensation.ledger import Offered
from bot.compensation.rules import Policy

_LOCALES = {"nl": "nl_NL", "en": "en_GB"}


@dataclass(frozen=True)
class OfferLine:
    compensation_id: int
    text: str
    accept_title: str

    @property
    def payload(self) -> str:
        return "/accept_compensation" + json.dumps({"compensation_id": str(self.compensation_id)})


def money(cents: int, currency: str, language: str) -> str:
    return format_currency(cents / 100, currency, locale=_LOCALES.get(language, "nl_NL"))


def offer_lines(policy: Policy, offered: list[Offered], language: str) -> list[OfferLine]:
    lines = []
    for offer in offered:
        rule = policy.rule(offer.rule)
        if rule is None:
            continue  # the rule was removed from the file since: nothing to say
        value = money(offer.value_cents, offer.currency, language)
        lines.append(
            OfferLine(
                offer.id, rule.text("offer", language, value), rule.text("accept", language, value)
            )
        )
    return lines
