"""The demo shop site: log in as a demo customer, "My orders", and an order
status page that tells the same real reason, party and new date as the
assistant does, with the history of changes. (The Gazelle story failed on
exactly this page: it said "Bestelling is gewijzigd" and nothing else.)

Pages are in Dutch and English (`?lang=`, else the customer's language). The
login signs the same customer token the chat widget passes to the assistant.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, html, raw, redirect, text
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.changes import changes_in
from bot.clock import shop_local, shop_today
from bot.explain import Explainer
from bot.identity import customer_from_token, make_customer_token
from bot.orders.model import Order
from bot.orders.sql.tables import CustomerRow
from bot.orders.system import OrderSystem, OrderSystemUnavailable
from bot.settings import PROJECT_ROOT, Settings
from bot.texts import Catalog
from bot.web.blocking import off_loop
from bot.web.site_texts import LANGUAGES, PAGE_TEXTS
from bot.web.widget_bundle import served_bundle

COOKIE = "shop_session"
WIDGET_BUNDLE = PROJECT_ROOT / "node_modules" / "rasa-webchat" / "lib" / "index.js"
SESSION_SECONDS = 8 * 3600


@dataclass(frozen=True)
class HistoryLine:
    when: str
    what: str
    why: str
    party: str


@dataclass(frozen=True)
class OrderPage:
    order: Order
    title: str
    status: str
    expected: str
    explanation: list[str]
    next_steps: list[str]
    history: list[HistoryLine]


class ShopSite:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        orders: OrderSystem,
        sessions: sessionmaker[Session],
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.orders = orders
        self.sessions = sessions
        self.templates = Environment(
            loader=FileSystemLoader(Path(__file__).parent / "templates"),
            autoescape=select_autoescape(["html"]),
        )

    # --- who is looking, in which language ----------------------------------

    def customer(self, request: Request) -> int | None:
        return customer_from_token(request.cookies.get(COOKIE), self.settings.shop_token_secret)

    def language(self, request: Request, customer_language: str | None = None) -> str:
        asked = str(request.args.get("lang") or "")
        if asked in LANGUAGES:
            return asked
        return customer_language or self.settings.default_language

    def render(
        self, request: Request, name: str, language: str, status: int = 200, **values: Any
    ) -> HTTPResponse:
        page = self.templates.get_template(name).render(
            t=PAGE_TEXTS[language],
            lang=language,
            shop=self.settings.shop_name,
            chat=self.chat_config(request, language),
            **values,
        )
        return html(page, status=status)

    def chat_config(self, request: Request, language: str) -> dict[str, Any]:
        """The widget's settings: a logged-in customer's token goes along as
        customData, so the assistant knows who is asking without a question."""
        custom: dict[str, str] = {"language": language}
        if self.customer(request) is not None:
            custom["customer_token"] = str(request.cookies.get(COOKIE))
        return {
            "socketUrl": self.settings.chat_socket_url,
            "socketPath": "/socket.io/",
            "initPayload": "/get_started",
            "customData": custom,
            "title": self.settings.shop_name,
            "subtitle": PAGE_TEXTS[language]["chat_subtitle"],
            "inputTextFieldHint": PAGE_TEXTS[language]["chat_hint"],
            "params": {"storage": "session"},
        }

    def unavailable(self, request: Request) -> HTTPResponse:
        """The order system or the database cannot be reached: say so, nothing more."""
        return self.render(request, "unavailable.html", self.language(request), status=503)

    # --- what the pages show --------------------------------------------------

    def demo_customers(self) -> list[CustomerRow]:
        with self.sessions() as session:
            return list(session.execute(select(CustomerRow).order_by(CustomerRow.id)).scalars())

    def order_page(self, order: Order, language: str) -> OrderPage:
        today = shop_today(self.settings.shop_timezone)
        explainer = Explainer(self.catalog, language, today)
        explanation = explainer.explain(order, changes_in(order, list(order.events)))
        history = []
        for event in sorted(order.events, key=lambda e: e.occurred_at, reverse=True):
            for change in changes_in(order, [event]):
                whys = [] if change.is_progress else explainer.why(order, change)[0]
                history.append(
                    HistoryLine(
                        when=explainer.moment(
                            shop_local(event.occurred_at, self.settings.shop_timezone)
                        ),
                        what=explainer.what(order, change),
                        why=" ".join(whys),
                        party=explainer.party(event),
                    )
                )
        return OrderPage(
            order=order,
            title=heading(explainer.order_title(order)),
            status=explainer.text(f"status_label_{order.status}"),
            expected=explainer.text(
                f"expected_{order.fulfilment}",
                date=explainer.date(order.promised_date),
                location=order.pickup_location or "",
            ),
            explanation=explanation.facts,
            next_steps=explanation.next_steps,
            history=history,
        )


def heading(text: str) -> str:
    """'bestelling 10001 (...)' as a heading: only the first letter up."""
    return text[:1].upper() + text[1:]


def add_shop_site(app: Sanic, site: ShopSite) -> None:
    """The site's routes, under /shop (and the widget bundle); only with DEMO_SHOP=true."""

    @app.get("/")
    async def home(_request: Request) -> HTTPResponse:
        return redirect("/shop")

    @app.get("/static/webchat.js")
    async def widget(_request: Request) -> HTTPResponse:
        """rasa-webchat's self-contained bundle from node_modules, without remote fonts."""
        if not WIDGET_BUNDLE.exists():
            return text("the chat widget is not installed: run 'make run'", status=503)
        bundle = await off_loop(served_bundle, WIDGET_BUNDLE, retry=False)
        return raw(bundle, content_type="application/javascript; charset=utf-8")

    @app.get("/shop")
    async def login_page(request: Request) -> HTTPResponse:
        customers = await off_loop(site.demo_customers)
        return site.render(request, "login.html", site.language(request), customers=customers)

    @app.post("/shop/login")
    async def login(request: Request) -> HTTPResponse:
        raw = str(request.form.get("customer_id") or "")
        known = {c.id for c in await off_loop(site.demo_customers)}
        if not raw.isdigit() or int(raw) not in known:
            return redirect("/shop")
        response = redirect("/shop/orders")
        response.cookies[COOKIE] = make_customer_token(
            int(raw), site.settings.shop_token_secret, SESSION_SECONDS
        )
        response.cookies[COOKIE]["httponly"] = True
        response.cookies[COOKIE]["samesite"] = "Lax"
        response.cookies[COOKIE]["max-age"] = SESSION_SECONDS
        return response

    @app.post("/shop/logout")
    async def logout(_request: Request) -> HTTPResponse:
        response = redirect("/shop")
        del response.cookies[COOKIE]
        return response

    @app.get("/shop/orders")
    async def my_orders(request: Request) -> HTTPResponse:
        customer_id = site.customer(request)
        if customer_id is None:
            return redirect("/shop")
        try:
            customer = await off_loop(site.orders.get_customer, customer_id)
            orders = await off_loop(site.orders.orders_for_customer, customer_id)
        except OrderSystemUnavailable:
            return site.unavailable(request)
        language = site.language(request, customer.language if customer else None)
        pages = [site.order_page(order, language) for order in orders]
        return site.render(request, "orders.html", language, customer=customer, pages=pages)

    @app.get("/shop/orders/<order_id:int>")
    async def order_status(request: Request, order_id: int) -> HTTPResponse:
        customer_id = site.customer(request)
        if customer_id is None:
            return redirect("/shop")
        try:
            customer = await off_loop(site.orders.get_customer, customer_id)
            order = await off_loop(site.orders.get_order, order_id)
        except OrderSystemUnavailable:
            return site.unavailable(request)
        language = site.language(request, customer.language if customer else None)
        if order is None or order.customer_id != customer_id:
            # Someone else's order looks exactly like one that does not exist.
            return site.render(request, "not_found.html", language, status=404)
        page = site.order_page(order, language)
        return site.render(request, "order.html", language, customer=customer, page=page)
