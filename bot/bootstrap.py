"""What every process needs, built in one place and once: the database's
sessions, the shop's order system (and the same with the assistant's memory
laid over it) and the customer texts.

The action server (actions/services.py), the web service (bot/web/app.py),
the notifier (bot/proactive/worker.py) and the channels take their parts
from here, and only here is the shop's order system chosen (ORDER_SYSTEM):
the demo shop's tables, the shop's REST API, Shopify or WooCommerce. Tests
pass settings pointing at their own database, or build a part themselves.
Nothing is built at import time.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.database import create_db_engine, make_session_factory
from bot.orders.http_system import HttpOrderSystem
from bot.orders.remembered import RememberedOrders, RememberingOrders
from bot.orders.sql.system import SqlOrderSystem
from bot.orders.system import OrderSystem
from bot.settings import Settings
from bot.texts import Catalog, load_catalog
from bot.usecases.work import Work, open_work


def customer_texts(settings: Settings) -> Catalog:
    """The reasons and messages customers read, checked, with the shop's name
    and contact filled in."""
    return load_catalog(
        settings.reason_texts_path,
        settings.message_texts_path,
        {"shop": settings.shop_name, "contact": settings.shop_contact},
    )


@dataclass(frozen=True)
class Parts:
    settings: Settings
    # DATABASE_URL: the assistant's memory, and the demo shop's tables (sql).
    sessions: sessionmaker[Session]
    shop: OrderSystem  # the shop's orders as they are now: read, and asked to cancel
    orders: RememberedOrders  # the same with the change log and what each customer was told
    catalog: Catalog

    def work(self) -> AbstractContextManager[Work]:
        """One unit of work for a use case (bot/usecases)."""
        return open_work(self.sessions, self.orders, self.catalog, self.settings)


def build_session_factory(settings: Settings) -> sessionmaker[Session]:
    """The database of DATABASE_URL: the assistant's memory, and the demo shop (sql)."""
    return make_session_factory(create_db_engine(settings.database_url))


def build_shop(settings: Settings, sessions: sessionmaker[Session]) -> OrderSystem:
    """The shop's order system alone: the demo shop's tables, the shop's REST API,
    or the platform's (Shopify's GraphQL Admin API, WooCommerce's REST API)."""
    sources = settings.sources
    if settings.order_system == "shopify":
        from bot.sources.shopify.order_system import ShopifyOrderSystem

        return ShopifyOrderSystem(
            sources.shopify_api_url or sources.shopify_shop_domain,
            sources.shopify_admin_token,
            api_version=sources.shopify_api_version,
            promised_date_metafield=sources.shopify_promised_date_metafield,
            original_date_metafield=sources.shopify_original_date_metafield,
            timeout=settings.order_api_timeout,
            retries=settings.order_api_retries,
            default_language=settings.default_language,
        )
    if settings.order_system == "woocommerce":
        from bot.sources.woocommerce_orders import WooCommerceOrderSystem

        return WooCommerceOrderSystem(
            sources.woocommerce_url,
            sources.woocommerce_consumer_key,
            sources.woocommerce_consumer_secret,
            promised_date_meta=sources.woocommerce_promised_date_meta,
            original_date_meta=sources.woocommerce_original_date_meta,
            timeout=settings.order_api_timeout,
            retries=settings.order_api_retries,
            default_language=settings.default_language,
        )
    if settings.order_system == "http":
        return HttpOrderSystem(
            settings.order_api_url,
            api_key=settings.order_api_key,
            timeout=settings.order_api_timeout,
            retries=settings.order_api_retries,
        )
    return SqlOrderSystem(sessions)


def build_parts(settings: Settings) -> Parts:
    sessions = build_session_factory(settings)
    shop = build_shop(settings, sessions)
    return Parts(
        settings=settings,
        sessions=sessions,
        shop=shop,
        orders=RememberingOrders(shop, sessions),
        catalog=customer_texts(settings),
    )
