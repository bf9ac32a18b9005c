"""The handoff queue for staff: who waits, with the whole story; claim one,
reply to the customer in the same conversation, hand it back.

  GET  /staff/handoffs                 the queue
  GET  /staff/handoffs/{id}            context, transcript, replies
  POST /staff/handoffs/{id}/claim      form: name
  POST /staff/handoffs/{id}/reply      form: text  (said through Rasa, on the customer's channel)
  POST /staff/handoffs/{id}/close      hand back to the assistant

Behind the staff login (bot/web/staff_auth.py guards every /staff path; its
cookie is SameSite=Strict, so another site cannot post these forms).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import shop_local, shop_today, utcnow
from bot.explain import Explainer
from bot.handoff import queue
from bot.handoff.conversation import recent_lines, with_warnings_sent
from bot.memory.promises import PromiseRow
from bot.orders.system import OrderSystem, OrderSystemUnavailable
from bot.proactive.delivery import warnings_said
from bot.proactive.promises import mark_kept
from bot.proactive.rasa_api import PushFailed, RasaApi
from bot.settings import Settings
from bot.texts import Catalog
from bot.web.blocking import off_loop
from bot.web.staff import StaffDashboard
from bot.web.staff_handoff_texts import HANDOFF_TEXTS
from bot.web.staff_texts import STAFF_TEXTS

logger = logging.getLogger(__name__)

NAME_COOKIE = "staff_name"
MAX_REPLY = 2000


@dataclass(frozen=True)
class Line:
    who: str
    text: str
    when: str


class StaffHandoffs:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        orders: OrderSystem,
        sessions: sessionmaker[Session],
        pages: StaffDashboard,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.orders = orders
        self.sessions = sessions
        self.pages = pages
        self.rasa = RasaApi(settings.rasa_url, settings.rasa_token)

    def texts(self, request: Request) -> dict[str, str]:
        language = self.pages.language(request)
        return {**STAFF_TEXTS[language], **HANDOFF_TEXTS[language]}

    def local(self, value: datetime | None) -> str:
        if value is None:
            return ""
        return shop_local(value, self.settings.shop_timezone).strftime("%Y-%m-%d %H:%M")

    def _orders(self, handoff: queue.Handoff, language: str) -> list[str]:
        explainer = Explainer(self.catalog, language, shop_today(self.settings.shop_timezone))
        found = []
        for order_id in handoff.order_ids:
            try:
                order = self.orders.get_order(order_id)
            except OrderSystemUnavailable:
                found.append(str(order_id))
                continue
            if order is not None:
                status = self.catalog.message(f"status_label_{order.status}", language)
                found.append(f"{explainer.order_title(order)} · {status}")
        return found

    def _customer(self, handoff: queue.Handoff) -> str | None:
        if handoff.customer_id is None:
            return None
        try:
            customer = self.orders.get_customer(handoff.customer_id)
        except OrderSystemUnavailable:
            customer = None
        if customer is None:
            return f"#{handoff.customer_id}"
        return f"{customer.name} · {customer.email} · #{handoff.customer_id}"

    def _answer_by(self, handoff: queue.Handoff) -> str:
        if handoff.promise_id is None:
            return ""
        with self.sessions() as session:
            promise = session.get(PromiseRow, handoff.promise_id)
            return self.local(promise.due_at) if promise is not None else ""

    def _transcript(self, handoff: queue.Handoff) -> tuple[list[Line], bool]:
        """The conversation from Rasa's record (True), or the snapshot taken at the handoff."""
        said = handoff.said
        live = False
        if handoff.sender_id:
            try:
                said = recent_lines(self.rasa.conversation_events(handoff.sender_id), limit=80)
                live = True
            except PushFailed as error:
                logger.warning("transcript of handoff %s from the snapshot: %s", handoff.id, error)
        if handoff.sender_id and handoff.customer_id is not None:
            # Warnings the notifier sent itself are not in Rasa's record.
            with self.sessions() as session:
                sent = warnings_said(session, handoff.customer_id, handoff.sender_id)
            said = with_warnings_sent(said, sent, limit=80)
        lines = [
            Line(
                line.who,
                line.text,
                self.local(datetime.fromtimestamp(line.at, timezone.utc).replace(tzinfo=None)),
            )
            for line in said
        ]
        return lines, live

    def widget_open(self, handoff: queue.Handoff) -> bool | None:
        """None when it cannot be told (not the widget, or Rasa did not answer)."""
        if handoff.channel != "socketio" or not handoff.sender_id:
            return None
        try:
            return self.rasa.widget_connected(handoff.sender_id)
        except PushFailed:
            return None

    def detail(self, handoff: queue.Handoff, language: str) -> dict[str, Any]:
        transcript, live = self._transcript(handoff)
        return {
            "handoff": handoff,
            "created": self.local(handoff.created_at),
            "customer": self._customer(handoff),
            "orders": self._orders(handoff, language),
            "answer_by": self._answer_by(handoff),
            "transcript": transcript,
            "live": live,
            "widget_open": self.widget_open(handoff),
            "replies": queue.replies(self.sessions, handoff.id),
        }

    def say(self, handoff: queue.Handoff, action: str) -> bool:
        """Run an action in the customer's conversation, on their channel."""
        if not handoff.sender_id:
            return False
        try:
            self.rasa.run_action(handoff.sender_id, action, handoff.channel or "latest")
            return True
        except PushFailed as error:
            logger.warning("handoff %s: %s failed: %s", handoff.id, action, error)
            return False


def add_staff_handoffs(app: Sanic, handoffs: StaffHandoffs) -> None:
    pages = handoffs.pages

    def back(handoff_id: int, request: Request, note: str = "") -> HTTPResponse:
        language = pages.language(request)
        return redirect(f"/staff/handoffs/{handoff_id}?lang={language}&note={quote(note)}")

    @app.get("/staff/handoffs")
    async def handoff_queue(request: Request) -> HTTPResponse:
        waiting = await off_loop(queue.queue, handoffs.sessions)
        return pages.render(
            request,
            "staff_handoffs.html",
            t=handoffs.texts(request),
            handoffs=[(h, handoffs.local(h.created_at)) for h in waiting],
        )

    @app.get("/staff/handoffs/<handoff_id:int>")
    async def handoff_page(request: Request, handoff_id: int) -> HTTPResponse:
        handoff = await off_loop(queue.get_handoff, handoffs.sessions, handoff_id)
        t = handoffs.texts(request)
        if handoff is None:
            return pages.render(request, "staff_handoffs.html", t=t, handoffs=[], status=404)
        values = await off_loop(handoffs.detail, handoff, pages.language(request))
        note = str(request.args.get("note") or "")
        return pages.render(
            request,
            "staff_handoff.html",
            t=t,
            note=t.get(note, ""),
            me=request.cookies.get(NAME_COOKIE, ""),
            **values,
        )

    @app.post("/staff/handoffs/<handoff_id:int>/claim")
    async def claim(request: Request, handoff_id: int) -> HTTPResponse:
        name = str(request.form.get("name") or "").strip()[:100]
        if not name:
            return back(handoff_id, request)
        taken = await off_loop(
            queue.claim, handoffs.sessions, handoff_id, name, utcnow(), retry=False
        )
        response = back(handoff_id, request, "" if taken else "claimed_by_other")
        response.cookies[NAME_COOKIE] = name
        response.cookies[NAME_COOKIE]["path"] = "/staff"
        response.cookies[NAME_COOKIE]["samesite"] = "Strict"
        response.cookies[NAME_COOKIE]["httponly"] = True
        return response

    @app.post("/staff/handoffs/<handoff_id:int>/reply")
    async def reply(request: Request, handoff_id: int) -> HTTPResponse:
        handoff = await off_loop(queue.get_handoff, handoffs.sessions, handoff_id)
        me = request.cookies.get(NAME_COOKIE, "")
        if handoff is None or handoff.status != "claimed" or handoff.claimed_by != me:
            return back(handoff_id, request, "claimed_by_other")
        text = str(request.form.get("text") or "").strip()[:MAX_REPLY]
        if not text:
            return back(handoff_id, request, "empty_reply")
        await off_loop(
            queue.add_reply, handoffs.sessions, handoff_id, me, text, utcnow(), retry=False
        )
        if await off_loop(handoffs.widget_open, handoff) is False:
            # Pushed now it would go nowhere: the notifier says it when the chat opens.
            outcome = "kept_for_return"
        elif await off_loop(handoffs.say, handoff, "action_relay_staff_reply"):
            outcome = "sent"
        else:
            outcome = "not_sent"
        if outcome != "not_sent" and handoff.promise_id is not None:
            # A person answered in time: the promise of an answer by then is kept,
            # also when the customer reads it later.
            await off_loop(mark_kept, handoffs.sessions, handoff.promise_id, utcnow())
        logger.info("handoff %s: reply %s", handoff_id, outcome)
        return back(handoff_id, request, outcome)

    @app.post("/staff/handoffs/<handoff_id:int>/close")
    async def hand_back(request: Request, handoff_id: int) -> HTTPResponse:
        handoff = await off_loop(queue.get_handoff, handoffs.sessions, handoff_id)
        if handoff is None or handoff.status == "closed":
            return back(handoff_id, request)
        # The assistant says it is back and closes the handoff itself (to a
        # closed chat it says nothing); a case without a conversation (opened
        # by the system) is simply closed.
        closed_chat = await off_loop(handoffs.widget_open, handoff) is False
        action = "action_resume_assistant_quietly" if closed_chat else "action_resume_assistant"
        if not await off_loop(handoffs.say, handoff, action):
            if handoff.sender_id:
                return back(handoff_id, request, "not_sent")
            await off_loop(queue.close, handoffs.sessions, handoff_id, utcnow(), retry=False)
        language = pages.language(request)
        return redirect(f"/staff/handoffs?lang={language}")
