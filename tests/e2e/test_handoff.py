"""A person takes over, with real processes: Erik asks for a person in the chat
widget, the assistant falls silent, a staff member reads the whole story on
the staff page, replies into the same chat, and hands it back."""

from __future__ import annotations

import asyncio
import re

import pytest
import requests
from sqlalchemy import select

from bot.database import create_db_engine
from bot.identity import make_customer_token
from bot.memory.handoffs import HandoffRow
from bot.memory.promises import PromiseRow
from tests.e2e.chat_client import ChatClient
from tests.e2e.conftest import SHOP_SECRET, RunningAssistant


@pytest.fixture(scope="module", params=["sql", "http"])
def order_system(request: pytest.FixtureRequest) -> str:
    """Once against the demo shop, once against a separate shop behind the REST adapter."""
    return str(request.param)


STAFF_PASSWORD = "e2e-staff-password"


@pytest.fixture(scope="module")
def assistant_env() -> dict[str, str]:
    # A person is always in (the hours themselves are unit-tested).
    return {
        "STAFF_PASSWORD": STAFF_PASSWORD,
        "SERVICE_DAYS": "mon-sun",
        "SERVICE_HOURS_START": "0",
        "SERVICE_HOURS_END": "23",
    }


def staff_session(assistant: RunningAssistant) -> requests.Session:
    staff = requests.Session()
    login = staff.post(
        f"{assistant.web_url}/staff/login", data={"password": STAFF_PASSWORD}, timeout=10
    )
    assert login.status_code == 200 and login.url.endswith("/staff"), login.text[:300]
    return staff


def test_erik_is_handed_over_answered_by_a_person_and_handed_back(
    assistant: RunningAssistant,
) -> None:
    staff = staff_session(assistant)

    async def scenario() -> None:
        async with ChatClient(assistant.rasa_url, make_customer_token(1001, SHOP_SECRET)) as chat:
            assert "Gazelle" in "\n".join(
                await chat.say("wat is er gewijzigd aan mijn bestelling?")
            )
            handed = "\n".join(await chat.say("mag ik iemand spreken"))
            assert "hoeft niets opnieuw te vertellen" in handed

            # The assistant is silent while a person has the conversation.
            start = len(chat.received)
            await chat.client.emit(
                "user_uttered",
                {
                    "message": "hallo, is daar iemand?",
                    "session_id": chat.session_id,
                    "customData": {"customer_token": chat.token},
                },
            )
            await asyncio.sleep(3)
            assert chat.texts(start) == []

            queue = staff.get(f"{assistant.web_url}/staff/handoffs", timeout=10)
            [handoff_id] = re.findall(r'data-handoff="(\d+)"', queue.text)
            page = staff.get(f"{assistant.web_url}/staff/handoffs/{handoff_id}", timeout=10).text
            # The whole story: who, which order, the own words, what was said, after too.
            assert "Erik de Vries" in page and "Gazelle" in page
            assert "mag ik iemand spreken" in page
            assert "hallo, is daar iemand?" in page  # said after the handoff, from Rasa's record
            assert "vroeg om een medewerker" in page

            base = f"{assistant.web_url}/staff/handoffs/{handoff_id}"
            staff.post(f"{base}/claim", data={"name": "Miranda"}, timeout=10)
            start = len(chat.received)
            sent = staff.post(f"{base}/reply", data={"text": "Ik bel Gazelle nu even."}, timeout=30)
            assert "Verstuurd naar de klant" in sent.text
            await chat.wait_for(
                lambda texts: "Miranda van Fietsen & Meer: Ik bel Gazelle nu even." in texts,
                since=start,
            )

            start = len(chat.received)
            staff.post(f"{base}/close", timeout=30)
            await chat.wait_for(
                lambda texts: any("Miranda heeft het gesprek teruggegeven" in t for t in texts),
                since=start,
            )
            # The assistant answers again.
            again = await chat.say("wat is er gewijzigd aan mijn bestelling?")
            assert "Gazelle" in "\n".join(again), again
            listed = staff.get(f"{assistant.web_url}/staff/handoffs", timeout=10).text
            assert f'data-handoff="{handoff_id}"' not in listed

    asyncio.run(scenario())


def promise_status(assistant: RunningAssistant, handoff_id: int) -> str | None:
    engine = create_db_engine(assistant.env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return connection.execute(
                select(PromiseRow.status)
                .join(HandoffRow, HandoffRow.promise_id == PromiseRow.id)
                .where(HandoffRow.id == handoff_id)
            ).scalar()
    finally:
        engine.dispose()


def test_a_reply_to_a_closed_chat_appears_when_erik_opens_it_again(
    assistant: RunningAssistant,
) -> None:
    """Erik asked for a person and closed the chat. Miranda's reply is kept,
    not pushed into nothing, and appears when he opens the chat again; handed
    back while his chat is closed, the assistant answers him at his return."""
    staff = staff_session(assistant)
    token = make_customer_token(1001, SHOP_SECRET)

    async def scenario() -> tuple[str, float]:
        async with ChatClient(assistant.rasa_url, token) as chat:
            await chat.say("wat is er gewijzigd aan mijn bestelling?")
            await chat.say("mag ik iemand spreken")
            session_id = chat.session_id
        listed = staff.get(f"{assistant.web_url}/staff/handoffs", timeout=10).text
        handoff_id = max(int(n) for n in re.findall(r'data-handoff="(\d+)"', listed))
        base = f"{assistant.web_url}/staff/handoffs/{handoff_id}"
        staff.post(f"{base}/claim", data={"name": "Miranda"}, timeout=10)
        await asyncio.sleep(1)  # the widget's goodbye has reached Rasa's presence
        kept = staff.post(f"{base}/reply", data={"text": "Gazelle levert vrijdag."}, timeout=30)
        assert "verschijnt zodra de klant de chat weer opent" in kept.text, kept.text[-2000:]
        assert "Gazelle levert vrijdag." in kept.text  # listed as waiting
        # Answered in time: the promise of an answer is kept, though read later.
        assert promise_status(assistant, handoff_id) == "kept"
        await asyncio.sleep(3)  # the notifier's rounds find no open chat meanwhile
        async with ChatClient(assistant.rasa_url, token, session_id=session_id) as back:
            waited = await back.wait_for(
                lambda texts: "Miranda van Fietsen & Meer: Gazelle levert vrijdag." in texts,
                timeout=20,
            )
            await asyncio.sleep(3)  # a second copy would arrive by now
            said = back.texts()
        page = staff.get(base, timeout=10).text
        assert 'id="waiting-replies"' not in page
        # With his chat closed again, Gazelle reports a new delay, and Miranda
        # hands back: nothing is said into the closed chat, and at his return
        # the assistant answers him (no longer paused) with the news he missed.
        await asyncio.sleep(1)
        delay = assistant.report_delay(
            {
                "supplier": "Gazelle",
                "delay_days": 5,
                "reason_code": "production_problem",
                "reason": "de lakstraat ligt stil",
            }
        )
        assert delay.status_code == 202, delay.text
        await asyncio.sleep(2)  # the notifier finds the chat closed: kept unread
        staff.post(f"{base}/close", timeout=30)
        async with ChatClient(assistant.rasa_url, token, session_id=session_id) as later:
            # The news comes as soon as his chat connects, before he writes.
            await later.wait_for(
                lambda texts: any("de lakstraat ligt stil" in t for t in texts), timeout=15
            )
            answer = "\n".join(await later.say("hallo", settle=2))
            assert "Erik" in answer, answer  # answered, no longer paused
            assert not any("teruggegeven" in t for t in later.texts()), later.texts()
        return "\n".join(said), waited

    said, waited = asyncio.run(scenario())
    assert said.count("Gazelle levert vrijdag.") == 1, said
    print(f"reply appeared {waited:.1f}s after Erik opened the chat again")


def test_emma_asks_for_a_person_in_english(assistant: RunningAssistant) -> None:
    token = make_customer_token(1005, SHOP_SECRET)
    said = "\n".join(assistant.say("emma-rest", "can I talk to a human please", token=token))
    assert "won't have to tell anything again" in said
    # Paused: nothing more from the assistant until a person hands it back.
    assert assistant.say("emma-rest", "hello?", token=token) == []


def test_the_handoff_pages_need_the_staff_login(assistant: RunningAssistant) -> None:
    page = requests.get(f"{assistant.web_url}/staff/handoffs", timeout=10, allow_redirects=False)
    assert page.status_code in (302, 303) and "/staff/login" in page.headers["Location"]
    post = requests.post(
        f"{assistant.web_url}/staff/handoffs/1/reply",
        data={"text": "x"},
        timeout=10,
        allow_redirects=False,
    )
    assert post.status_code in (302, 303)
