"""The use cases (bot/usecases) on their own: plain functions over one unit of
work, run here without Rasa against the demo shop, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Parts, build_parts
from bot.identity import Identity
from bot.memory.changes import OrderEventRow
from bot.memory.promises import PromiseRow
from bot.orders.model import Order
from bot.orders.remembered import RememberingOrders
from bot.orders.sql.tables import OrderRow
from bot.settings import load_settings
from bot.usecases import order_choices
from bot.usecases.asker import Asker
from bot.usecases.order_choices import answer_cancellation, keep_order
from bot.usecases.questions import answer_question
from bot.usecases.warnings import Viewer, show_warning
from bot.usecases.work import open_work
from tests.conftest import _seeded
from tests.integration.conftest import gazelle_delay, helmet_order_for_erik
from tests.memory_reads import unshown

ERIK = 1001
ERIK_ASKS = Asker(Identity(customer_id=ERIK), "nl", address="erik-chat", channel="rest")


@pytest.fixture
def parts(any_database_url: str, today: date, monkeypatch: pytest.MonkeyPatch) -> Parts:
    _seeded(any_database_url, today)
    monkeypatch.setenv("DATABASE_URL", any_database_url)
    return build_parts(load_settings())


def gazelle_warning(parts: Parts, today: date) -> int:
    return gazelle_delay(parts.sessions, today).warning_ids[0]


class BrokenShop(RememberingOrders):
    """The shop fails in the middle of a use case, in a way nobody foresaw."""

    def get_order(self, order_id: int) -> Order | None:
        raise RuntimeError("the shop broke")


def test_the_use_cases_need_no_rasa() -> None:
    code = (
        "import sys, bot.usecases.questions, bot.usecases.warnings, bot.usecases.handover, "
        "bot.usecases.order_choices, bot.usecases.order_changes, bot.usecases.offers; "
        "sys.exit(any(m.startswith(('rasa', 'rasa_sdk')) for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_a_question_is_answered_with_the_real_reason_without_rasa(
    parts: Parts, today: date
) -> None:
    gazelle_warning(parts, today)
    with parts.work() as work:
        answered = answer_question(work, ERIK_ASKS, "changes")
    said = " ".join(message.text for message in answered.said)
    assert "Gazelle" in said and "frames komen later" in said


def test_a_question_about_one_of_several_orders_is_answered_about_that_one(
    parts: Parts, today: date
) -> None:
    helmet_order_for_erik(parts.sessions, today)

    def answer(words: str) -> str:
        with parts.work() as work:
            asked = replace(ERIK_ASKS, words=words)
            return " ".join(m.text for m in answer_question(work, asked, "status").said)

    about_the_helmet = answer("waar blijft de helm?")
    assert "Abus fietshelm" in about_the_helmet and "Gazelle" not in about_the_helmet
    about_both = answer("waar blijven mijn bestellingen?")
    assert "Abus fietshelm" in about_both and "Gazelle" in about_both
    # A delivered order can be named too ("is de helm al bezorgd?").
    with parts.sessions.begin() as session:
        session.get(OrderRow, 10100).status = "delivered"  # type: ignore[union-attr]
    about_the_helmet = answer("is de helm al bezorgd?")
    assert "Abus fietshelm" in about_the_helmet and "Gazelle" not in about_the_helmet


def test_a_warning_that_fails_halfway_is_not_lost(parts: Parts, today: date) -> None:
    """Marked shown and then the composing fails: the unit rolls back, so the
    warning waits for the next visit instead of counting as seen."""
    warning_id = gazelle_warning(parts, today)
    viewer = Viewer(ERIK, "erik-chat", "nl")
    broken = BrokenShop(parts.shop, parts.sessions)
    with (
        pytest.raises(RuntimeError),
        open_work(parts.sessions, broken, parts.catalog, parts.settings) as work,
    ):
        show_warning(work, viewer, warning_id, recorded_here=False)
    assert unshown(parts.sessions, ERIK) == [warning_id]
    with parts.work() as work:
        shown = show_warning(work, viewer, warning_id, recorded_here=False)
    assert shown is not None and "Gazelle" in shown.message.text
    assert unshown(parts.sessions, ERIK) == []


def test_work_after_the_commit_runs_only_when_it_committed(parts: Parts) -> None:
    ran: list[str] = []
    with parts.work() as work:
        work.after_commit(lambda: ran.append("committed"))
    with pytest.raises(ValueError), parts.work() as work:
        work.after_commit(lambda: ran.append("rolled back"))
        raise ValueError
    assert ran == ["committed"]


def test_a_choice_writes_nothing_when_the_unit_fails(parts: Parts) -> None:
    with pytest.raises(ValueError), parts.work() as work:
        keep_order(work, ERIK_ASKS, 10001, posted=True)
        raise ValueError
    assert keep_posted_promises(parts) == 0
    with parts.work() as work:
        keep_order(work, ERIK_ASKS, 10001, posted=True)
    assert keep_posted_promises(parts) == 1


def keep_posted_promises(parts: Parts) -> int:
    with parts.sessions() as session:
        query = select(PromiseRow).where(PromiseRow.kind == "keep_posted")
        return len(session.execute(query).all())


def test_someone_else_cannot_cancel_eriks_order(parts: Parts) -> None:
    anouk = Asker(Identity(customer_id=1002), "nl")
    with parts.work() as work:
        choice = answer_cancellation(work, anouk, 10001, yes=True)
    assert [m.text for m in choice.said] == [parts.catalog.message("which_order", "nl")]
    assert status_of(parts, 10001) != "cancelled"
    with parts.work() as work:
        answer_cancellation(work, ERIK_ASKS, 10001, yes=True)
    assert status_of(parts, 10001) == "cancelled"


def status_of(parts: Parts, order_id: int) -> str:
    order = parts.shop.get_order(order_id)
    assert order is not None
    return order.status


def test_one_open_order_is_the_order(parts: Parts) -> None:
    """Erik has one order: 'ik wacht wel' needs no order number."""
    with parts.work() as work:
        choice = order_choices.keep_order(work, ERIK_ASKS, None, posted=False)
    assert len(choice.said) == 1 and "10001" in choice.said[0].text
    assert choice.said[0].text != parts.catalog.message("which_order", "nl")
    assert keep_posted_promises(parts) == 1


def test_of_several_orders_the_changed_one_is_the_order_else_the_question_lists_them(
    parts: Parts, today: date
) -> None:
    helmet_order_for_erik(parts.sessions, today)
    # Only the Gazelle changed since Erik was told: that is the order.
    with parts.work() as work:
        choice = order_choices.ask_to_cancel(work, ERIK_ASKS, None)
    assert choice.pending_cancellation == 10001
    # Erik was told of the change: two orders alike, so he is asked which, with a
    # button per order that asks the same again about it.
    parts.orders.mark_informed(10001, last_event_of(parts, 10001))
    with parts.work() as work:
        choice = order_choices.ask_to_cancel(work, ERIK_ASKS, None)
    assert choice.pending_cancellation is None
    [question] = choice.said
    assert question.text == parts.catalog.message("which_order", "nl")
    assert sorted(b.payload for b in question.buttons) == [
        '/cancel_order{"order_number": "10001"}',
        '/cancel_order{"order_number": "10100"}',
    ]


def test_of_several_orders_the_one_named_by_its_product_or_date_is_the_order(
    parts: Parts, today: date
) -> None:
    helmet_order_for_erik(parts.sessions, today)
    parts.orders.mark_informed(10001, last_event_of(parts, 10001))  # nothing new on either

    def cancel(words: str) -> order_choices.Choice:
        with parts.work() as work:
            return order_choices.ask_to_cancel(work, replace(ERIK_ASKS, words=words), None)

    assert cancel("annuleer de helm maar").pending_cancellation == 10100
    assert cancel("kan ik de Gazelle nog annuleren?").pending_cancellation == 10001
    day = today + timedelta(days=4)
    assert (
        cancel(f"die van {day.day} {DUTCH_MONTHS[day.month - 1]} annuleren").pending_cancellation
        == 10100
    )
    # Words that name no order: asked which.
    assert cancel("annuleren graag").pending_cancellation is None


def test_a_stray_yes_cancels_nothing_even_of_a_single_order(parts: Parts) -> None:
    with parts.work() as work:
        choice = order_choices.answer_cancellation(work, ERIK_ASKS, None, yes=True)
    assert [m.text for m in choice.said] == [parts.catalog.message("which_order", "nl")]
    assert status_of(parts, 10001) != "cancelled"


DUTCH_MONTHS = (
    "januari februari maart april mei juni juli augustus september oktober november december"
).split()


def last_event_of(parts: Parts, order_id: int) -> int:
    with parts.sessions() as session:
        return int(
            session.execute(
                select(func.max(OrderEventRow.id)).where(OrderEventRow.order_id == order_id)
            ).scalar_one()
        )
