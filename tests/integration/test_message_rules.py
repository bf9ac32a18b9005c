"""Each fact once, briefly: every message of the core cases (the demo
customers asking each question, in Dutch and English, with a warning waiting
or not) held against the rules a good shop's customer service writes by.

- The first message answers in at most three sentences (what, why, the new
  date); what the customer can do and offers follow in their own messages. A
  warning stays one message (one notification on a phone), whose first
  paragraph is the answer and the rest paragraphs of their own.
- No sentence twice in a turn, no one's words quoted twice.
- No product named twice in one sentence.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.bootstrap import Parts, build_parts
from bot.identity import Identity
from bot.settings import load_settings
from bot.usecases.asker import Asker
from bot.usecases.questions import answer_question
from bot.usecases.warnings import Viewer, show_unshown
from tests.conftest import _seeded
from tests.integration.conftest import gazelle_delay

CUSTOMERS = (1001, 1002, 1003, 1004, 1005, 1006)
QUESTIONS = ("changes", "status", "delivery_date", "why_late", "tracking")
PRODUCTS = (
    "Gazelle Ultimate C380",
    "Tablet 10 inch 64 GB",
    "Joker cufflinks",
    "Philips föhn 3000",
    "Abus fietshelm Urban M",
    "Kettingslot 85 cm",
)
MAX_FIRST_SENTENCES = 3
MAX_MESSAGE_CHARS = 420
QUOTE = re.compile(r"\u201c[^\u201d]*\u201d")


def sentences(text: str) -> list[str]:
    """The sentences of a message; a quote is part of the sentence it ends."""
    bare = QUOTE.sub("QUOTE", text)
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", bare) if s.strip()]


def broken_rules(messages: list[str]) -> list[str]:
    problems = []
    first = messages[0].split("\n\n")[0] if messages else ""
    if len(sentences(first)) > MAX_FIRST_SENTENCES:
        problems.append(f"first message has {len(sentences(first))} sentences")
    said = [s for message in messages for s in sentences(message)]
    problems += [f"said twice: {s!r}" for s in set(said) if said.count(s) > 1]
    quotes = [q for message in messages for q in QUOTE.findall(message)]
    problems += [f"quoted twice: {q}" for q in set(quotes) if quotes.count(q) > 1]
    for message in (part for m in messages for part in m.split("\n\n")):
        if len(message) > MAX_MESSAGE_CHARS:
            problems.append(f"{len(message)} characters: {message[:60]!r}")
        for s in sentences(message):
            problems += [f"{p} twice in {s!r}" for p in PRODUCTS if s.count(p) > 1]
    return problems


@pytest.fixture
def parts(sqlite_url: str, today: date, monkeypatch: pytest.MonkeyPatch) -> Parts:
    _seeded(sqlite_url, today)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    return build_parts(load_settings())


def turn(parts: Parts, customer_id: int, question: str, language: str) -> list[str]:
    """What the customer reads in one turn: waiting warnings first, then the answer."""
    asker = Asker(Identity(customer_id=customer_id), language, address=f"chat-{customer_id}")
    warned: set[int] = set()
    with parts.work() as work:
        shown = show_unshown(work, Viewer.of(asker, customer_id), [])
        warned.update(order_id for warning in shown for order_id in warning.order_ids)
    with parts.work() as work:
        answered = answer_question(work, asker, question, frozenset(warned))
    return [w.message.text for w in shown] + [m.text for m in answered.said]


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("question", QUESTIONS)
def test_every_answer_says_each_fact_once_briefly(
    parts: Parts, question: str, language: str
) -> None:
    problems = {
        customer: broken_rules(turn(parts, customer, question, language)) for customer in CUSTOMERS
    }
    assert {c: p for c, p in problems.items() if p} == {}


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_warning_read_with_the_answer_says_each_fact_once(
    parts: Parts, today: date, language: str
) -> None:
    gazelle_delay(parts.sessions, today)
    messages = turn(parts, 1001, "changes", language)
    assert broken_rules(messages) == []
    assert sum("frames komen later" in m for m in messages) == 1


def test_the_rules_catch_what_they_are_for() -> None:
    """The checker itself: a repeated quote, sentence and product are caught."""
    assert broken_rules(
        [
            "Tablet 10 inch 64 GB is op. TabletWereld heeft Tablet 10 inch 64 GB: \u201cop\u201d.",
            "Tablet 10 inch 64 GB is op. Zie \u201cop\u201d.",
        ]
    )
    assert broken_rules(["Een. Twee. Drie. Vier."]) == ["first message has 4 sentences"]
